"""Personal identifiers at rest: AES-256-GCM ciphertext plus a keyed hash (HMAC-SHA256).

The ciphertext is random per write, so equality checks, joins and the uniqueness constraint use
the keyed hash instead; without the hash key it cannot be reversed by hashing every possible ID
(there are only ~10^11 plausible national IDs, so a plain hash would be).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bangfu.settings import PiiSettings

_VERSION = b"v1"


class PiiVault:
    def __init__(self, settings: PiiSettings) -> None:
        # Settings hold arbitrary-length secrets; SHA-256 turns each into a 32-byte key.
        self._aead = AESGCM(
            hashlib.sha256(settings.encryption_key.get_secret_value().encode()).digest()
        )
        self._hash_key = hashlib.sha256(settings.hash_key.get_secret_value().encode()).digest()

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), _VERSION)
        return (_VERSION + b":" + base64.b64encode(nonce + sealed)).decode()

    def decrypt(self, token: str) -> str:
        version, _, body = token.encode().partition(b":")
        raw = base64.b64decode(body)
        return self._aead.decrypt(raw[:12], raw[12:], version).decode()

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def seal(self, value: str) -> tuple[str, str] | tuple[None, None]:
        """(ciphertext, lookup hash) of a value, or (None, None) for an empty one."""
        if not value:
            return None, None
        return self.encrypt(value), self.lookup_hash(value)


_vault: PiiVault | None = None


def get_vault() -> PiiVault:
    """The process-wide vault, keyed from settings on first use."""
    from bangfu.settings import get_settings  # noqa: PLC0415 - settings load lazily, once

    global _vault  # noqa: PLW0603
    if _vault is None:
        _vault = PiiVault(get_settings().pii)
    return _vault

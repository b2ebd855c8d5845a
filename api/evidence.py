"""Evidence files (photos, documents) attached to progress and fulfilment reports.

Stored content-addressed on disk (sha256 name), so the same upload twice is one file. Only JPEG,
PNG and PDF are accepted, recognised by their first bytes rather than by what the client says.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bangfu.errors import InvalidInputError, PayloadTooLargeError

_MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}


class StoredEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    evidence_id: str
    content_type: str
    size: int


class EvidenceStore:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def save(self, content: bytes) -> StoredEvidence:
        if len(content) > self.max_bytes:
            raise PayloadTooLargeError(
                f"evidence files may be at most {self.max_bytes // 1024} KiB",
                message_zh=f"证明材料不能超过 {self.max_bytes // 1024} KiB",
            )
        content_type = next((t for magic, t in _MAGIC.items() if content.startswith(magic)), None)
        if content_type is None:
            raise InvalidInputError(
                "evidence must be a JPEG or PNG photo or a PDF document",
                message_zh="证明材料须为 JPEG、PNG 图片或 PDF 文件",
            )
        digest = hashlib.sha256(content).hexdigest()
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / digest
        if not target.exists():
            partial = target.with_suffix(".part")
            partial.write_bytes(content)
            partial.replace(target)  # atomic: a reader never sees half a file
        return StoredEvidence(evidence_id=digest, content_type=content_type, size=len(content))

    def exists(self, evidence_id: str) -> bool:
        return len(evidence_id) == 64 and (self.directory / evidence_id).is_file()

    def require(self, evidence_id: str | None) -> str | None:
        """The id itself when it names a stored file (or is absent); a clear 422 otherwise."""
        if evidence_id is None or self.exists(evidence_id):
            return evidence_id
        raise InvalidInputError(
            "evidence_id does not name an uploaded file: upload it first",
            message_zh="证明材料编号无效，请先上传文件",
        )

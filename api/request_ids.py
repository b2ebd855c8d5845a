"""Ids of requests, carried in the X-Request-ID header, error bodies, logs and audit events."""

from __future__ import annotations

import secrets
import string

# Request ids are letters only: a hex id's digit runs sometimes read as a phone or ID number
# (an 11-digit run starting 14 turned up in a full test run), and PII scanners of
# logs and responses must not stumble on our own ids. 26 letters carry 122 bits, like a UUID.
_ID_LETTERS = string.ascii_lowercase


def new_request_id() -> str:
    return "".join(secrets.choice(_ID_LETTERS) for _ in range(26))

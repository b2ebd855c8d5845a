"""Request ids never look like personal data (tests scan responses for ID and phone patterns)."""

from __future__ import annotations

import re

from api.request_ids import new_request_id


def test_request_ids_are_letters_only_and_unique() -> None:
    ids = [new_request_id() for _ in range(2_000)]
    assert all(re.fullmatch(r"[a-z]{26}", i) for i in ids)
    assert len(set(ids)) == len(ids)

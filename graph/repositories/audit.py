"""The audit trail: append-only AuditEvent nodes chained by hashes.

Each event stores `prev_hash` and `hash = sha256(canonical JSON of the event + prev_hash)`, so
editing or deleting any event breaks the chain from that event on, and `verify_chain` finds it.
Appends serialise on the write lock of the one AuditChain node, taken first thing in the
transaction that reads the head, writes the event and moves the head: concurrent appends get
consecutive sequence numbers and each one links to the event committed just before it.

There is deliberately no update or delete here. Personal values in `before`/`after` are masked on
the way in, so the trail never holds plaintext ID numbers, phones, passwords or tokens.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from neo4j import ManagedTransaction
from pydantic import BaseModel, SecretStr
from pydantic_core import to_jsonable_python

from bangfu.identity import mask_national_id, mask_phone, mask_value
from graph.client import GraphClient
from graph.models import AuditEntry, AuditEvent, AuditQuery, ChainVerification

GENESIS_HASH = "0" * 64

# Taking the chain node's write lock (SET) is the first thing an append does; the head is read
# in the next statement, after the lock is held, so it is the head the previous append committed.
LOCK_CHAIN = """
MERGE (c:AuditChain {name: 'main'})
ON CREATE SET c.head_seq = 0, c.head_hash = $genesis
SET c.lock_token = $token
"""

READ_HEAD = """
MATCH (c:AuditChain {name: 'main'}) RETURN c.head_seq AS seq, c.head_hash AS hash
"""

APPEND_EVENT = """
MATCH (c:AuditChain {name: 'main'})
CREATE (e:AuditEvent)
SET e = $event, c.head_seq = $event.seq, c.head_hash = $event.hash
"""

EVENTS_AFTER = """
MATCH (e:AuditEvent) WHERE e.seq > $after AND e.seq <= $upto
RETURN e {.*} AS e ORDER BY e.seq LIMIT $limit
"""

# One search per leading filter so that the planner seeks the matching index (subject, actor,
# time, or the seq index for "latest first"); the other filters narrow the seek.
_OTHER_FILTERS = """
  AND ($subject_type IS NULL OR e.subject_type = $subject_type)
  AND ($subject_id IS NULL OR e.subject_id = $subject_id)
  AND ($actor_id IS NULL OR e.actor_id = $actor_id)
  AND ($since IS NULL OR e.at >= $since)
  AND ($until IS NULL OR e.at < $until)
"""
_PAGE = "RETURN e {.*} AS e ORDER BY e.seq DESC SKIP $skip LIMIT $limit"

SEARCH_BY_SUBJECT = "MATCH (e:AuditEvent) WHERE e.subject_id = $subject_id" + _OTHER_FILTERS + _PAGE
SEARCH_BY_ACTOR = "MATCH (e:AuditEvent) WHERE e.actor_id = $actor_id" + _OTHER_FILTERS + _PAGE
SEARCH_BY_TIME = (
    "MATCH (e:AuditEvent) WHERE e.at >= $from_time AND e.at < $to_time" + _OTHER_FILTERS + _PAGE
)
SEARCH_LATEST = "MATCH (e:AuditEvent) WHERE e.seq > 0" + _OTHER_FILTERS + _PAGE

_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)
_MAX_SEQ = 2**62

# Keys whose values are secrets or keyed hashes of identifiers: dropped entirely.
_REDACTED_KEY = re.compile(r"password|token|secret|_enc$|_hash$|^hash$", re.IGNORECASE)
_NATIONAL_ID_KEY = re.compile(r"national_id|id_number|id_card", re.IGNORECASE)
_PHONE_KEY = re.compile(r"phone|mobile", re.IGNORECASE)
# Identifiers typed into free text (notes, addresses) are masked wherever they appear.
_NATIONAL_ID_IN_TEXT = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
REDACTED = "[redacted]"


def _mask_text(text: str) -> str:
    text = _NATIONAL_ID_IN_TEXT.sub(lambda m: mask_national_id(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def mask_personal(value: Any, key: str = "") -> Any:
    """A JSON-ready copy of `value` with personal data masked: secrets and identifier hashes
    redacted, ID numbers and phones masked by their key or where they appear in text."""
    if key and _REDACTED_KEY.search(key):
        return None if value is None else REDACTED
    if isinstance(value, BaseModel):
        # Python mode keeps SecretStr fields as SecretStr, so they are masked below by key.
        value = value.model_dump()
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
        if not (_NATIONAL_ID_KEY.search(key) or _PHONE_KEY.search(key)):
            return mask_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # A phone or ID number stored as a number is still one: mask its digits like text.
        digits = str(value)
        identifier_key = _NATIONAL_ID_KEY.search(key) or _PHONE_KEY.search(key)
        if identifier_key or _mask_text(digits) != digits:
            value = digits
    if isinstance(value, Mapping):
        return {str(k): mask_personal(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_personal(v, key) for v in value]
    if isinstance(value, str):
        if _NATIONAL_ID_KEY.search(key):
            return mask_national_id(value)
        if _PHONE_KEY.search(key):
            return mask_phone(value)
        return _mask_text(value)
    return to_jsonable_python(value)


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _time_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    """Hash of a stored event row (properties as in Neo4j) linked to its predecessor's hash."""
    fields = {k: v for k, v in event.items() if k not in ("hash", "prev_hash")}
    fields["at"] = _time_text(fields["at"])
    return hashlib.sha256((canonical_json(fields) + prev_hash).encode()).hexdigest()


def _event_row(entry: AuditEntry, seq: int, at: datetime) -> dict[str, Any]:
    """The stored properties of an event except the hashes; before/after as canonical JSON so
    that what is hashed is exactly what is stored."""
    row: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "outcome": entry.outcome.value,
        "reason": entry.reason,
        "before": None if entry.before is None else canonical_json(mask_personal(entry.before)),
        "after": None if entry.after is None else canonical_json(mask_personal(entry.after)),
        "request_id": entry.request_id,
    }
    # Neo4j stores no nulls: leave absent fields out so the stored row and the hashed row agree.
    return {k: v for k, v in row.items() if v is not None}


def _stored(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row in the shape it was written: the driver's DateTime back to a native datetime."""
    fields = dict(row)
    if not isinstance(fields["at"], datetime):
        fields["at"] = fields["at"].to_native()
    return fields


def event_from_row(row: Mapping[str, Any]) -> AuditEvent:
    fields = _stored(row)
    for key in ("before", "after"):
        if fields.get(key) is not None:
            fields[key] = json.loads(fields[key])
    return AuditEvent.model_validate(fields)


def append_in_transaction(tx: ManagedTransaction, entry: AuditEntry) -> dict[str, Any]:
    """Append one event inside the caller's transaction (a change and its event commit
    together). The chain lock is taken here, so call it last: it is held only until commit."""
    tx.run(LOCK_CHAIN, genesis=GENESIS_HASH, token=uuid.uuid4().hex).consume()
    head = tx.run(READ_HEAD).single()
    if head is None:  # pragma: no cover - LOCK_CHAIN has just merged it
        raise RuntimeError("audit chain head missing after MERGE")
    # The time is taken under the lock so that seq order and time order agree.
    row = _event_row(entry, int(head["seq"]) + 1, datetime.now(UTC))
    row["prev_hash"] = str(head["hash"])
    row["hash"] = event_hash(row, row["prev_hash"])
    tx.run(APPEND_EVENT, event=row).consume()
    return row


class AuditRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def append(
        self,
        entry: AuditEntry,
        statements: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> AuditEvent:
        """Record one event. `statements` (graph/ Cypher with parameters) run first in the same
        transaction, so a change and its audit event land together or not at all."""

        def work(tx: ManagedTransaction) -> dict[str, Any]:
            for query, params in statements:
                tx.run(query, dict(params)).consume()
            return append_in_transaction(tx, entry)

        return event_from_row(self.graph.run_write(work))

    def search(self, query: AuditQuery, skip: int = 0, limit: int = 50) -> list[AuditEvent]:
        """Events matching every given filter, newest first; `until` is exclusive."""
        params: dict[str, Any] = query.model_dump()
        if query.subject_id is not None:
            cypher = SEARCH_BY_SUBJECT
        elif query.actor_id is not None:
            cypher = SEARCH_BY_ACTOR
        elif query.since is not None or query.until is not None:
            cypher = SEARCH_BY_TIME
            params["from_time"] = query.since or _EARLIEST
            params["to_time"] = query.until or _LATEST
        else:
            cypher = SEARCH_LATEST
        rows = self.graph.read(cypher, skip=skip, limit=limit, **params)
        return [event_from_row(r["e"]) for r in rows]

    def head(self) -> tuple[int, str] | None:
        """(sequence number, hash) of the last event, or None before the first append."""
        row = self.graph.read_one(READ_HEAD)
        return None if row is None else (int(row["seq"]), str(row["hash"]))

    def verify_chain(self, batch: int = 5000) -> ChainVerification:
        """Re-hash every event up to the head read at the start (later appends are left for the
        next check) and report the first one that was edited, deleted or re-linked."""
        head = self.head()
        if head is None:
            # No chain node: fine for an empty trail, tampering if events exist without it.
            if self.graph.read(EVENTS_AFTER, after=0, upto=_MAX_SEQ, limit=1):
                return _broken(0, 1, "chain head missing")
            return ChainVerification(ok=True, checked=0)
        head_seq, head_hash = head
        checked = 0
        prev_hash = GENESIS_HASH
        expected = 1
        while expected <= head_seq:
            rows = self.graph.read(EVENTS_AFTER, after=expected - 1, upto=head_seq, limit=batch)
            if not rows:
                return _broken(checked, expected, "event missing (deleted)")
            for r in rows:
                event = _stored(r["e"])
                seq = event.get("seq")
                if seq != expected:
                    return _broken(checked, expected, "event missing (deleted)")
                if event.get("prev_hash") != prev_hash:
                    return _broken(checked, expected, "event does not link to its predecessor")
                if event_hash(event, prev_hash) != event.get("hash"):
                    return _broken(checked, expected, "event content does not match its hash")
                prev_hash = str(event["hash"])
                checked += 1
                expected += 1
        if prev_hash != head_hash:
            return _broken(checked, max(head_seq, 1), "chain head does not match")
        return ChainVerification(ok=True, checked=checked)


def _broken(checked: int, seq: int, problem: str) -> ChainVerification:
    return ChainVerification(ok=False, checked=checked, first_broken_seq=seq, problem=problem)

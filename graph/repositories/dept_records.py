"""Department records: (:DeptRecord {key, source, national_id_hash, ...facts})-[:ABOUT]->(:Person).

A record is keyed by a keyed hash (HMAC, graph/pii.py) of its source and natural key, so the key
reveals no ID number; it is matched to a person by the keyed hash of the ID number, never by
plaintext. Imports write records only through `write_in`, inside the chunk transaction that
also marks the chunk done (graph/repositories/imports.py): a record is created once and never
overwritten (a different fact under the same key is a conflict reported by validation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from neo4j import ManagedTransaction

from graph.client import GraphClient
from graph.models import DeptRecord

# Validation looked every row up: a chunk holds only records the graph does not have, so they
# are CREATEd (the key's uniqueness constraint refuses one another import created meanwhile).
WRITE_RECORDS = """
UNWIND $rows AS r
CREATE (d:DeptRecord)
SET d = r, d.import_job = $job_id, d.imported_at = $now
WITH d, r
OPTIONAL MATCH (p:Person {national_id_hash: r.national_id_hash})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (d)-[:ABOUT]->(p))
RETURN count(*) AS seen, count(p) AS matched
"""

EXISTING = """
UNWIND $keys AS k
MATCH (d:DeptRecord {key: k})
RETURN d {.*} AS d
"""

ABOUT_PERSON = """
MATCH (d:DeptRecord)-[:ABOUT]->(p:Person {id: $person_id})
RETURN d {.*} AS d, p.id AS person_id ORDER BY d.source, d.key
"""

COUNT_BY_SOURCE = """
MATCH (d:DeptRecord)
RETURN d.source AS source, count(*) AS records,
       sum(CASE WHEN EXISTS { (d)-[:ABOUT]->() } THEN 1 ELSE 0 END) AS matched
"""

COUNT_SOURCE = """
MATCH (d:DeptRecord {source: $source})
RETURN count(d) AS records,
       sum(CASE WHEN EXISTS { (d)-[:ABOUT]->() } THEN 1 ELSE 0 END) AS matched
"""

COUNT_OF_JOB = "MATCH (d:DeptRecord {import_job: $job_id}) RETURN count(d) AS records"

# Bookkeeping properties, not facts.
_NOT_FACTS = {
    "key",
    "source",
    "national_id_hash",
    "national_id_enc",
    "region_code",
    "name",
    "import_job",
    "imported_at",
}


def facts_of(row: dict[str, Any]) -> dict[str, Any]:
    """A stored record's facts: no bookkeeping, no sealed identifiers or their hashes."""
    return {
        k: (v.to_native() if hasattr(v, "to_native") else v)
        for k, v in row.items()
        if k not in _NOT_FACTS and not k.endswith(("_enc", "_hash"))
    }


def record_from_row(row: dict[str, Any], person_id: str | None = None) -> DeptRecord:
    facts = facts_of(row)
    imported = row["imported_at"]
    return DeptRecord(
        key=row["key"],
        source=row["source"],
        national_id_hash=row["national_id_hash"],
        region_code=row["region_code"],
        name=row.get("name"),
        facts=facts,
        import_job=row["import_job"],
        imported_at=imported.to_native() if hasattr(imported, "to_native") else imported,
        person_id=person_id,
    )


def write_in(
    tx: ManagedTransaction,
    rows: Sequence[dict[str, Any]],
    job_id: str,
    now: datetime,
    no: int,
) -> tuple[int, int, int]:
    """(rows seen, records created, created records matched to a person). Created records
    carry their job id (`import_job`), which is what a rollback removes (chunk `no` keeps no
    list of them)."""
    record = tx.run(WRITE_RECORDS, rows=list(rows), job_id=job_id, now=now).single()
    if record is None:
        return 0, 0, 0
    seen = int(record["seen"])
    return seen, seen, int(record["matched"] or 0)


class DeptRecordRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def existing(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored properties of the records with these keys (absent keys are left out)."""
        rows = self.graph.read(EXISTING, keys=list(keys), timeout_s=120)
        return {r["d"]["key"]: r["d"] for r in rows}

    def about_person(self, person_id: str) -> list[DeptRecord]:
        return [
            record_from_row(r["d"], r["person_id"])
            for r in self.graph.read(ABOUT_PERSON, person_id=person_id)
        ]

    def counts(self) -> dict[str, tuple[int, int]]:
        """source -> (records, records matched to a person)."""
        return {
            r["source"]: (int(r["records"]), int(r["matched"]))
            for r in self.graph.read(COUNT_BY_SOURCE, timeout_s=120)
        }

    def count_source(self, source: str) -> tuple[int, int]:
        row = self.graph.read_one(COUNT_SOURCE, source=source) or {}
        return int(row.get("records") or 0), int(row.get("matched") or 0)

    def count_of_job(self, job_id: str) -> int:
        row = self.graph.read_one(COUNT_OF_JOB, job_id=job_id) or {}
        return int(row.get("records") or 0)

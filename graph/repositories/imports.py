"""Imports in the graph: the (:ImportFile {sha256}) record of each file, the chunks of an import
job, the lookups validation needs, and the writes of households, members and needs.

Atomicity. Validation runs to the end before anything is written (a file with a bad row, by
default, writes nothing). The good rows are then written in chunks, each in ONE transaction
together with its chunk's completion mark (graph/repositories/jobs.py): a chunk is applied
exactly once however often its worker is killed, and a killed import finishes when its
messages are delivered again. Imports only create records, never update one (validation looked
every key up: identical stored records are counted and skipped, different ones are conflicts),
and what a chunk created is known (department records carry their job id, the ids of created
households, members and needs are kept on the chunk's node): if the job fails for good,
`abandon` removes exactly those and the graph is as before. The transaction that completes the
last chunk also marks the file imported and appends the audit event, so "imported" and "every
row present" commit together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from neo4j import ManagedTransaction

from bangfu.errors import InvalidInputError, NotFoundError
from graph.client import GraphClient
from graph.ingest.errors import ImportAbandonedError
from graph.labels import Label
from graph.models import AuditEntry
from graph.repositories.audit import append_in_transaction
from graph.repositories.jobs import complete_chunk_in, lock_chunk
from graph.schema import DERIVE_NEED_KEYS

REGION_CODES = "MATCH (r:Region) RETURN r.code AS code"

# Taking the file: the lock (SET) serialises two jobs importing the same bytes at once.
CLAIM_FILE = """
MERGE (f:ImportFile {sha256: $sha256})
ON CREATE SET f.state = 'new', f.created_at = $now
SET f.lock_version = coalesce(f.lock_version, 0) + 1
WITH f
OPTIONAL MATCH (j:Job {id: f.job_id})
RETURN f.state AS state, f.job_id AS job_id, j.state AS job_state
"""

TAKE_FILE = """
MATCH (f:ImportFile {sha256: $sha256})
SET f.state = 'validating', f.job_id = $job_id, f.source = $source, f.file_name = $file_name,
    f.updated_at = $now, f.attempts = coalesce(f.attempts, 0) + 1
"""

SET_FILE_STATE = """
MATCH (f:ImportFile {sha256: $sha256}) WHERE f.job_id = $job_id
SET f.state = $state, f.updated_at = $now
"""

# Chunks of an import hold their row count, not ids: the rows are staged on disk
# (graph/ingest/store.py). Planning is idempotent like jobs.PLAN_CHUNKS.
PLAN_CHUNKS = """
MATCH (j:Job {id: $id})
SET j.lock_version = coalesce(j.lock_version, 0) + 1
WITH j
WHERE j.chunks_total IS NULL
UNWIND $chunks AS c
CREATE (:JobChunk {key: $id + ':' + toString(c.no), job_id: $id, no: c.no,
                   ids: [toString(c.no)], state: 'pending', deliveries: 0, rows: c.rows})
WITH j, count(*) AS planned, sum(c.rows) AS rows
SET j.chunks_total = planned, j.chunks_done = 0, j.rows_total = rows, j.rows_done = 0,
    j.state = 'running', j.result = $result, j.updated_at = $now, j.import_staging = $attempt,
    j.import_created = 0, j.import_present = 0, j.import_matched = 0
RETURN planned
"""

# The validation run whose staged chunks the job writes (the first to plan).
STAGING_OF = "MATCH (j:Job {id: $id}) RETURN j.import_staging AS attempt"

SET_JOB_OUTCOME = """
MATCH (j:Job {id: $id})
SET j.state = $state, j.result = $result, j.error = $error, j.updated_at = $now,
    j.finished_at = CASE WHEN $state IN ['succeeded', 'failed'] THEN $now ELSE j.finished_at END
"""

JOB_STATE = "MATCH (j:Job {id: $id}) RETURN j.state AS state, j.result AS result"

# Runs after jobs.FINISH_CHUNK in the chunk's transaction (which already holds the job's lock).
AFTER_CHUNK = """
MATCH (j:Job {id: $id})
SET j.import_created = coalesce(j.import_created, 0) + $created,
    j.import_present = coalesce(j.import_present, 0) + $present,
    j.import_matched = coalesce(j.import_matched, 0) + $matched
RETURN j.state AS state, j.chunks_done AS done, j.chunks_total AS total, j.result AS result,
       j.import_created AS created, j.import_present AS present, j.import_matched AS matched,
       j.created_by AS created_by, j.params AS params
"""

FINISH_FILE = """
MATCH (j:Job {id: $id})
SET j.result = $result
WITH j
MATCH (f:ImportFile {sha256: $sha256})
SET f.state = 'done', f.job_id = $id, f.outcome = $outcome, f.finished_at = $now,
    f.updated_at = $now, f.created = $created
"""

# A failed import: the job and the file are marked first (in one transaction), so a chunk that
# commits later sees the failure and rolls itself back; then the records are removed.
ABANDON = """
MATCH (j:Job {id: $id})
SET j.state = 'failed', j.error = coalesce(j.error, $error),
    j.finished_at = coalesce(j.finished_at, $now), j.updated_at = $now
WITH j
OPTIONAL MATCH (f:ImportFile {sha256: $sha256}) WHERE f.job_id = $id
SET f.state = 'failed', f.updated_at = $now
RETURN j.result AS result, j.created_by AS created_by, j.params AS params
"""

DELETE_DEPT_RECORDS = """
MATCH (n:DeptRecord {import_job: $job_id}) WITH n LIMIT $batch
DETACH DELETE n RETURN count(*) AS deleted
"""

# Per chunk: the nodes it created, then its list (so a repeated rollback finds nothing).
CREATED_CHUNKS = """
MATCH (c:JobChunk {job_id: $job_id}) WHERE c.created_ids IS NOT NULL RETURN c.key AS key
"""
# Only the label differs per entity; labels cannot be parameters, so they come from the enum.
_DELETE_CREATED_OF = """
MATCH (c:JobChunk {{key: $key}})
CALL (c) {{
  UNWIND coalesce(c.created_ids, []) AS id
  MATCH (n:{label} {{id: id}}) DETACH DELETE n
  RETURN count(*) AS deleted
}}
REMOVE c.created_ids
RETURN deleted
"""

FILE_STATE = """
MATCH (f:ImportFile {sha256: $sha256})
RETURN f.state AS state, f.job_id AS job_id, f.source AS source, f.created AS created
"""

# --- lookups for validation ---------------------------------------------------------------------

HOUSEHOLDS_BY_ID = "UNWIND $ids AS id MATCH (h:Household {id: id}) RETURN h {.*} AS n"
PERSONS_BY_ID = "UNWIND $ids AS id MATCH (p:Person {id: id}) RETURN p {.*} AS n"
NEEDS_BY_ID = "UNWIND $ids AS id MATCH (n:Need {id: id}) RETURN n {.*} AS n"
PERSONS_BY_NATIONAL_ID = """
UNWIND $hashes AS x
MATCH (p:Person {national_id_hash: x})
RETURN x AS hash, p.id AS id
"""
HOUSEHOLD_VILLAGES = """
UNWIND $ids AS id
MATCH (h:Household {id: id})
RETURN h.id AS id, h.village_code AS village_code
"""

# --- writes (inside a chunk transaction) --------------------------------------------------------
# Validation looked every row up: a chunk holds only rows the graph does not have, so they are
# CREATEd (the uniqueness constraints still refuse one that another import created meanwhile,
# which fails the chunk and rolls the import back). Households, members and needs carry no
# import bookkeeping (their readers accept only their model's fields): the ids a chunk created
# are kept on its JobChunk node (`created_ids`), which is all a rollback needs.

WRITE_HOUSEHOLDS = """
UNWIND $rows AS r
MATCH (v:Region {code: r.village_code})
CREATE (h:Household)
SET h = r
CREATE (h)-[:IN_VILLAGE]->(v)
RETURN count(*) AS seen, collect(h.id) AS created, 0 AS matched
"""

# A new member is linked to the department records already imported under their ID number.
WRITE_PERSONS = """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
CREATE (p:Person)
SET p = r
CREATE (p)-[:MEMBER_OF]->(h)
WITH p
CALL (p) {
  MATCH (d:DeptRecord {national_id_hash: p.national_id_hash})
  CREATE (d)-[:ABOUT]->(p)
  RETURN count(d) AS linked
}
RETURN count(*) AS seen, collect(p.id) AS created, sum(linked) AS matched
"""

WRITE_NEEDS = (
    """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
CREATE (n:Need)
SET n = r"""
    + DERIVE_NEED_KEYS
    + """CREATE (h)-[:HAS_NEED]->(n)
WITH n, r
OPTIONAL MATCH (helper:Helper {id: r.claimed_by})
FOREACH (_ IN CASE WHEN helper IS NULL THEN [] ELSE [1] END | CREATE (helper)-[:CLAIMED]->(n))
RETURN count(*) AS seen, collect(n.id) AS created, 0 AS matched
"""
)

KEEP_CREATED = "MATCH (c:JobChunk {key: $key}) SET c.created_ids = $ids"

# (tx, rows, job id, now, chunk number) -> (rows seen, records created, records matched to a
# person). Writers of households, members and needs keep the created ids on the chunk;
# department records carry their job id instead.
Writer = Callable[
    [ManagedTransaction, Sequence[dict[str, Any]], str, datetime, int],
    tuple[int, int, int],
]


# (job id, job result so far, job creator, job parameters) -> the audit event to append.
AuditFactory = Callable[[str, dict[str, Any], str, dict[str, Any]], AuditEntry]


def _write(query: str) -> Writer:
    def write(
        tx: ManagedTransaction,
        rows: Sequence[dict[str, Any]],
        job_id: str,
        now: datetime,
        no: int,
    ) -> tuple[int, int, int]:
        record = tx.run(query, rows=list(rows)).single()
        if record is None:
            return 0, 0, 0
        created = list(record["created"])
        tx.run(KEEP_CREATED, key=f"{job_id}:{no}", ids=created).consume()
        return int(record["seen"]), len(created), int(record["matched"] or 0)

    return write


write_households_in = _write(WRITE_HOUSEHOLDS)
write_persons_in = _write(WRITE_PERSONS)
write_needs_in = _write(WRITE_NEEDS)

_DELETE_CREATED = {
    entity: _DELETE_CREATED_OF.format(label=label.value)
    for entity, label in (
        ("households", Label.HOUSEHOLD),
        ("persons", Label.PERSON),
        ("needs", Label.NEED),
    )
}
# Nodes removed per rollback transaction: small enough for a 2 GB heap with relationships.
_DELETE_BATCH = 10_000


@dataclass(frozen=True)
class FileClaim:
    """Who holds an ImportFile: its state, the job that last took it and that job's state."""

    state: str
    job_id: str | None
    job_state: str | None


@dataclass(frozen=True)
class ChunkOutcome:
    applied: bool
    finished: bool = False  # this chunk completed the job
    created: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


def _json(value: object) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return {}


class ImportRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    # --- the file record --------------------------------------------------------------------

    def claim_file(
        self,
        sha256: str,
        job_id: str,
        source: str,
        file_name: str,
        decide: Callable[[FileClaim], bool],
    ) -> FileClaim:
        """Read who holds the file under its lock; `decide` says whether this job takes it
        (then state 'validating', this job's id), all in one transaction."""

        def work(tx: ManagedTransaction) -> FileClaim:
            row = tx.run(CLAIM_FILE, sha256=sha256, now=_now()).single()
            if row is None:  # pragma: no cover - MERGE always returns the node
                raise RuntimeError("ImportFile MERGE returned nothing")
            claim = FileClaim(str(row["state"]), row["job_id"], row["job_state"])
            if decide(claim):
                tx.run(
                    TAKE_FILE,
                    sha256=sha256,
                    job_id=job_id,
                    source=source,
                    file_name=file_name,
                    now=_now(),
                ).consume()
            return claim

        return self.graph.run_write(work)

    def set_file_state(self, sha256: str, job_id: str, state: str) -> None:
        self.graph.write(SET_FILE_STATE, sha256=sha256, job_id=job_id, state=state, now=_now())

    def file_state(self, sha256: str) -> dict[str, Any] | None:
        return self.graph.read_one(FILE_STATE, sha256=sha256)

    # --- the job ----------------------------------------------------------------------------

    def plan_chunks(
        self, job_id: str, sizes: Sequence[int], result: dict[str, Any], attempt: str
    ) -> str | None:
        """Plan once; returns the staging attempt the job writes from (this one, unless another
        run of the validation planned first)."""
        chunks = [{"no": no, "rows": rows} for no, rows in enumerate(sizes)]
        self.graph.write(
            PLAN_CHUNKS,
            id=job_id,
            chunks=chunks,
            result=json.dumps(result, ensure_ascii=False),
            attempt=attempt,
            now=_now(),
            timeout_s=120,
        )
        return self.staging_of(job_id)

    def staging_of(self, job_id: str) -> str | None:
        row = self.graph.read_one(STAGING_OF, id=job_id)
        return None if row is None or row["attempt"] is None else str(row["attempt"])

    def set_outcome(
        self, job_id: str, state: str, result: dict[str, Any], error: str | None = None
    ) -> None:
        self.graph.write(
            SET_JOB_OUTCOME,
            id=job_id,
            state=state,
            result=json.dumps(result, ensure_ascii=False),
            error=error,
            now=_now(),
        )

    def job_result(self, job_id: str) -> tuple[str, dict[str, Any]]:
        row = self.graph.read_one(JOB_STATE, id=job_id)
        if row is None:
            raise NotFoundError(f"job {job_id} not found", message_zh="未找到该任务")
        return str(row["state"]), _json(row["result"])

    def apply_chunk(
        self,
        job_id: str,
        no: int,
        sha256: str,
        rows: Sequence[dict[str, Any]],
        present: int,
        write: Writer,
        completed: AuditFactory,
    ) -> ChunkOutcome:
        """Write one chunk's rows and mark the chunk done, in one transaction. When it is the
        last chunk, the same transaction marks the file imported and appends the audit event
        `completed(result, created_by, params)` returns. A chunk of a failed (rolled back) job
        raises ImportAbandonedError and writes nothing."""

        def work(tx: ManagedTransaction) -> ChunkOutcome:
            locked = lock_chunk(tx, job_id, no)
            if locked is None or locked[0] != "pending":
                return ChunkOutcome(applied=False)
            # Whether the job failed meanwhile is read once, after the write, under the job's
            # lock (AFTER_CHUNK): parallel chunks touch the job node only at their very end.
            now = _now()
            seen, created, matched = write(tx, rows, job_id, now, no)
            if seen != len(rows):
                raise InvalidInputError(
                    f"{len(rows) - seen} of {len(rows)} rows refer to records removed since "
                    "validation; nothing of this import was kept",
                    message_zh=(
                        f"{len(rows) - seen}/{len(rows)} 行引用的记录在校验后被删除，导入已撤销"
                    ),
                )
            complete_chunk_in(tx, job_id, no)
            after = tx.run(
                AFTER_CHUNK,
                id=job_id,
                created=created,
                present=present,
                matched=matched,
            ).single()
            if after is None or after["state"] == "failed":
                raise ImportAbandonedError(f"import {job_id} failed and was rolled back")
            finished = after["done"] == after["total"]
            if finished:
                result = _json(after["result"])
                result.update(
                    created=int(after["created"]),
                    already_present=int(after["present"]),
                    matched=int(after["matched"]),
                    outcome="imported_good_rows" if result.get("bad_rows") else "imported",
                )
                tx.run(
                    FINISH_FILE,
                    id=job_id,
                    sha256=sha256,
                    result=json.dumps(result, ensure_ascii=False),
                    outcome=result["outcome"],
                    created=result["created"],
                    now=now,
                ).consume()
                params = _json(after["params"])
                entry = completed(job_id, result, str(after["created_by"]), params)
                append_in_transaction(tx, entry)
            return ChunkOutcome(applied=True, finished=finished, created=created)

        return self.graph.run_write(work, timeout_s=300)

    def abandon(
        self,
        job_id: str,
        sha256: str,
        entity: str,
        error: str,
        rolled_back: AuditFactory,
    ) -> int:
        """Fail the import and remove every record it created; idempotent. Returns how many
        nodes were removed by this call."""

        def mark(tx: ManagedTransaction) -> None:
            row = tx.run(ABANDON, id=job_id, sha256=sha256, error=error[:500], now=_now()).single()
            if row is None:
                raise NotFoundError(f"job {job_id} not found", message_zh="未找到该任务")
            result = _json(row["result"])
            entry = rolled_back(job_id, result, str(row["created_by"]), _json(row["params"]))
            append_in_transaction(tx, entry)

        self.graph.run_write(mark)
        deleted = 0
        while True:  # department records carry their job id
            rows = self.graph.write(
                DELETE_DEPT_RECORDS, job_id=job_id, batch=_DELETE_BATCH, timeout_s=300
            )
            count = int(rows[0]["deleted"]) if rows else 0
            deleted += count
            if count < _DELETE_BATCH:
                break
        query = _DELETE_CREATED.get(entity)
        if query is not None:
            for row in self.graph.read(CREATED_CHUNKS, job_id=job_id):
                done = self.graph.write(query, key=row["key"], timeout_s=300)
                deleted += int(done[0]["deleted"]) if done else 0
        return deleted

    # --- lookups ----------------------------------------------------------------------------

    def region_codes(self) -> frozenset[str]:
        return frozenset(r["code"] for r in self.graph.read(REGION_CODES, timeout_s=60))

    def _by_id(self, query: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {r["n"]["id"]: r["n"] for r in self.graph.read(query, ids=list(ids), timeout_s=120)}

    def households(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._by_id(HOUSEHOLDS_BY_ID, ids)

    def persons(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._by_id(PERSONS_BY_ID, ids)

    def needs(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._by_id(NEEDS_BY_ID, ids)

    def persons_by_national_id_hash(self, hashes: Sequence[str]) -> dict[str, str]:
        rows = self.graph.read(PERSONS_BY_NATIONAL_ID, hashes=list(hashes), timeout_s=120)
        return {r["hash"]: r["id"] for r in rows}

    def household_villages(self, ids: Sequence[str]) -> dict[str, str]:
        rows = self.graph.read(HOUSEHOLD_VILLAGES, ids=list(ids), timeout_s=120)
        return {r["id"]: r["village_code"] for r in rows}

"""Long-running jobs and their chunks, recorded in Neo4j (not only in a result backend), so
state and progress survive workers, brokers and restarts.

A chunked job plans its chunks once (JobChunk nodes holding the ids each chunk covers); a chunk's
work and its completion mark commit in one transaction (`complete_chunk_in`), so a chunk that is
delivered twice, or whose worker was killed half-way, is applied exactly once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from neo4j import ManagedTransaction

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Job, JobChunk, JobState

CREATE_JOB = """
CREATE (j:Job)
SET j = $props
RETURN j {.*} AS j
"""

GET_JOB = "MATCH (j:Job {id: $id}) RETURN j {.*} AS j"

# Jobs to send again (bangfu.jobs.resend): queued ones whose first task never started (its
# message may never have reached the broker), and running ones with no activity since
# $stalled_before (no delivery, no chunk done): a chunk's message was lost, e.g. a worker
# SIGKILLed between taking it from the Redis list and recording it as unacknowledged, a window
# Kombu's Redis transport leaves open. Activity is `updated_at`, set by every delivery.
TO_RESEND = """
MATCH (j:Job {state: 'queued'}) WHERE j.created_at < $queued_before
RETURN j {.*} AS j ORDER BY j.created_at, j.id LIMIT $limit
UNION
MATCH (j:Job {state: 'running'})
WHERE coalesce(j.updated_at, j.started_at, j.created_at) < $stalled_before
RETURN j {.*} AS j ORDER BY j.created_at, j.id LIMIT $limit
"""

# Planning is idempotent: a re-delivered plan task finds the chunks already there.
PLAN_CHUNKS = """
MATCH (j:Job {id: $id})
SET j.lock_version = coalesce(j.lock_version, 0) + 1
WITH j
WHERE j.chunks_total IS NULL
UNWIND $chunks AS c
CREATE (:JobChunk {key: $id + ':' + toString(c.no), job_id: $id, no: c.no, ids: c.ids,
                   state: 'pending', deliveries: 0, rows: size(c.ids)})
WITH j, count(*) AS planned, sum(size(c.ids)) AS rows
SET j.chunks_total = planned, j.chunks_done = 0, j.rows_total = rows, j.rows_done = 0,
    j.state = 'running', j.started_at = coalesce(j.started_at, $now)
RETURN planned
"""

PENDING_CHUNKS = """
MATCH (c:JobChunk {job_id: $id}) WHERE c.state = 'pending'
RETURN c.no AS no ORDER BY no
"""

# Counted in its own small transaction before the work starts, so a delivery that kills the
# worker is still counted; past the limit the chunk is set aside instead of looping forever.
COUNT_DELIVERY = """
MATCH (c:JobChunk {key: $key})
SET c.deliveries = c.deliveries + 1,
    c.state = CASE WHEN c.state = 'pending' AND c.deliveries + 1 > $max_deliveries
                   THEN 'dead' ELSE c.state END
WITH c
MATCH (j:Job {id: c.job_id})
SET j.updated_at = $now,
    j.state = CASE WHEN c.state = 'dead' THEN 'failed' ELSE j.state END,
    j.error = CASE WHEN c.state = 'dead'
                   THEN 'chunk ' + toString(c.no) + ' set aside after ' + toString(c.deliveries)
                        + ' deliveries' ELSE j.error END
RETURN c {.*} AS c
"""

LOCK_CHUNK = """
MATCH (c:JobChunk {key: $key})
SET c.lock_version = coalesce(c.lock_version, 0) + 1
RETURN c.state AS state, c.ids AS ids
"""

# A job with a final step (`final_step`: risk scoring's drift check, an acceptance's tally)
# stays 'running' after its last chunk; the step then finishes it (`finish`), so a job seen
# 'succeeded' always has its result.
FINISH_CHUNK = """
MATCH (c:JobChunk {key: $key})
SET c.state = 'done', c.done_at = $now
WITH c
MATCH (j:Job {id: c.job_id})
SET j.chunks_done = j.chunks_done + 1, j.rows_done = j.rows_done + c.rows, j.updated_at = $now
WITH j, j.chunks_done = j.chunks_total AND NOT $final_step AS last
SET j.state = CASE WHEN last AND j.state = 'running' THEN 'succeeded' ELSE j.state END,
    j.finished_at = CASE WHEN last THEN $now ELSE j.finished_at END
"""

FAIL_JOB = """
MATCH (j:Job {id: $id})
SET j.state = 'failed', j.error = $error, j.finished_at = $now
"""

FINISH_JOB = """
MATCH (j:Job {id: $id})
SET j.state = 'succeeded', j.finished_at = $now, j.result = $result,
    j.rows_done = coalesce($rows, j.rows_done), j.rows_total = coalesce($rows, j.rows_total)
"""

START_JOB = """
MATCH (j:Job {id: $id})
SET j.deliveries = coalesce(j.deliveries, 0) + 1,
    j.state = CASE WHEN j.state = 'queued' THEN 'running' ELSE j.state END,
    j.started_at = coalesce(j.started_at, $now), j.updated_at = $now
RETURN j {.*} AS j
"""

CHUNKS_OF = "MATCH (c:JobChunk {job_id: $id}) RETURN c {.*} AS c ORDER BY c.no"


def _now() -> datetime:
    return datetime.now(UTC)


def _job(row: dict[str, Any]) -> Job:
    fields = {k: v for k, v in row.items() if k in Job.model_fields}
    for key in ("created_at", "started_at", "finished_at", "updated_at"):
        if fields.get(key) is not None and hasattr(fields[key], "to_native"):
            fields[key] = fields[key].to_native()
    for key in ("params", "result"):
        if isinstance(fields.get(key), str):
            fields[key] = json.loads(fields[key])
    return Job.model_validate(fields)


class JobRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def create(self, kind: str, created_by: str, params: dict[str, Any] | None = None) -> Job:
        props = {
            "id": uuid.uuid4().hex,
            "kind": kind,
            "state": JobState.QUEUED.value,
            "created_by": created_by,
            "created_at": _now(),
            "params": json.dumps(params or {}, ensure_ascii=False),
            "deliveries": 0,
        }
        return _job(self.graph.write(CREATE_JOB, props=props)[0]["j"])

    def get(self, job_id: str) -> Job:
        row = self.graph.read_one(GET_JOB, id=job_id)
        if row is None:
            raise NotFoundError(f"job {job_id} not found", message_zh="未找到该任务")
        return _job(row["j"])

    def start(self, job_id: str) -> Job:
        rows = self.graph.write(START_JOB, id=job_id, now=_now())
        if not rows:
            raise NotFoundError(f"job {job_id} not found", message_zh="未找到该任务")
        return _job(rows[0]["j"])

    def plan_chunks(self, job_id: str, chunks: Sequence[Sequence[str]]) -> None:
        payload = [{"no": no, "ids": list(ids)} for no, ids in enumerate(chunks)]
        self.graph.write(PLAN_CHUNKS, id=job_id, chunks=payload, now=_now(), timeout_s=120)

    def pending_chunks(self, job_id: str) -> list[int]:
        return [int(r["no"]) for r in self.graph.read(PENDING_CHUNKS, id=job_id)]

    def count_delivery(self, job_id: str, no: int, max_deliveries: int) -> JobChunk:
        rows = self.graph.write(
            COUNT_DELIVERY, key=f"{job_id}:{no}", max_deliveries=max_deliveries, now=_now()
        )
        if not rows:
            raise NotFoundError(f"chunk {no} of job {job_id} not found", message_zh="未找到该分片")
        return JobChunk.model_validate(
            {k: v for k, v in rows[0]["c"].items() if k in JobChunk.model_fields}
        )

    def chunks(self, job_id: str) -> list[JobChunk]:
        return [
            JobChunk.model_validate({k: v for k, v in r["c"].items() if k in JobChunk.model_fields})
            for r in self.graph.read(CHUNKS_OF, id=job_id)
        ]

    def complete_chunk(self, job_id: str, no: int, final_step: bool = False) -> bool:
        """Mark a chunk done whose work committed on its own (idempotent work, such as scoring
        that merges its alerts); False when another delivery completed it first. With
        `final_step` the last chunk leaves the job running for its final step (FINISH_CHUNK)."""

        def work(tx: ManagedTransaction) -> bool:
            locked = lock_chunk(tx, job_id, no)
            if locked is None or locked[0] != "pending":
                return False
            complete_chunk_in(tx, job_id, no, final_step)
            return True

        return self.graph.run_write(work)

    def to_resend(
        self, queued_before: datetime, stalled_before: datetime, limit: int = 1000
    ) -> list[Job]:
        """Jobs queued since before `queued_before`, and running jobs idle since before
        `stalled_before` (see TO_RESEND); oldest first, at most `limit` of each."""
        rows = self.graph.read(
            TO_RESEND,
            queued_before=queued_before,
            stalled_before=stalled_before,
            limit=limit,
        )
        return [_job(r["j"]) for r in rows]

    def fail(self, job_id: str, error: str) -> None:
        self.graph.write(FAIL_JOB, id=job_id, error=error[:500], now=_now())

    def finish(self, job_id: str, result: dict[str, Any], rows: int | None = None) -> None:
        self.graph.write(
            FINISH_JOB,
            id=job_id,
            result=json.dumps(result, ensure_ascii=False),
            rows=rows,
            now=_now(),
        )


def lock_chunk(tx: ManagedTransaction, job_id: str, no: int) -> tuple[str, list[str]] | None:
    """Take the chunk's lock inside a work transaction and return (state, ids). The state read
    under the lock is final for this transaction: 'done' means another delivery applied it."""
    row = tx.run(LOCK_CHUNK, key=f"{job_id}:{no}").single()
    return None if row is None else (str(row["state"]), list(row["ids"]))


def complete_chunk_in(
    tx: ManagedTransaction, job_id: str, no: int, final_step: bool = False
) -> None:
    """Mark the chunk done in the transaction that applied its work: both commit, or neither."""
    tx.run(FINISH_CHUNK, key=f"{job_id}:{no}", now=_now(), final_step=final_step).consume()

"""Running import jobs: validate the stored file once, plan its chunks, write each exactly once,
and roll everything back if the job fails for good. Called by the thin tasks in
workers/tasks.py (`bangfu.imports.validate`, `bangfu.imports.chunk`) and, for `bangfu import
--now`, directly by the CLI.

A job's life: validate (the whole file, nothing written) -> rejected / nothing to import /
already imported, or plan chunks and enqueue them -> each chunk writes its rows and its own
completion in one transaction; the last one also marks the file imported. A delivery that
finds its work done returns at once, so re-delivery after a worker is killed is harmless and
finishes the import. A chunk set aside after too many deliveries, or a task failing for good,
rolls the import back (graph/repositories/imports.py `abandon`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bangfu.settings import ImportSettings, WorkerSettings, get_settings
from graph.client import GraphClient
from graph.ingest.errors import ImportAbandonedError
from graph.ingest.pipeline import ImportPipeline, ImportRequest, schema_of
from graph.ingest.store import ImportStore
from graph.models import AuditEntry, AuditOutcome, ImportOutcome, Job, JobState
from graph.pii import get_vault
from graph.repositories.dept_records import DeptRecordRepository
from graph.repositories.imports import FileClaim, ImportRepository
from graph.repositories.jobs import JobRepository

IMPORT = "import"

Enqueue = Callable[[str, int], None]  # (job id, chunk number)

_UNFINISHED = {JobState.QUEUED.value, JobState.RUNNING.value}


def create_import_job(
    jobs: JobRepository,
    created_by: str,
    actor_role: str,
    source: str,
    sha256: str,
    file_name: str,
    good_rows_only: bool = False,
    scope: tuple[str, ...] = ("",),
) -> Job:
    """The job record of one import attempt (committed before its task is sent)."""
    schema_of(source)  # unknown sources are refused before anything is queued
    params: dict[str, object] = {
        "source": source,
        "sha256": sha256,
        "file_name": file_name[:200],
        "good_rows_only": good_rows_only,
        "scope": list(scope),
        "actor_role": actor_role,
    }
    return jobs.create(IMPORT, created_by, params)


def _audit(action: str, outcome: AuditOutcome = AuditOutcome.OK) -> Callable[..., AuditEntry]:
    def entry(
        job_id: str, result: dict[str, Any], created_by: str, params: dict[str, Any]
    ) -> AuditEntry:
        keep = ("source", "sha256", "rows", "good_rows", "bad_rows", "created", "outcome")
        return AuditEntry(
            actor_id=created_by,
            actor_role=str(params.get("actor_role") or "system"),
            action=action,
            subject_type="import",
            subject_id=job_id,
            outcome=outcome,
            after={k: result[k] for k in keep if k in result},
        )

    return entry


class ImportJob:
    def __init__(
        self,
        jobs: JobRepository,
        imports: ImportRepository,
        pipeline: ImportPipeline,
        store: ImportStore,
        workers: WorkerSettings,
        settings: ImportSettings,
    ) -> None:
        self.jobs = jobs
        self.imports = imports
        self.pipeline = pipeline
        self.store = store
        self.workers = workers
        self.settings = settings

    def validate(self, job_id: str, enqueue: Enqueue) -> str:
        """Validate and plan once; enqueue every chunk still pending. Running it again (a
        re-delivered message) re-enqueues only what is left."""
        job = self.jobs.start(job_id)
        request = ImportRequest.of(job_id, job.params)
        if job.chunks_total is not None:
            pending = self.jobs.pending_chunks(job_id)
            for no in pending:
                enqueue(job_id, no)
            return f"re-enqueued {len(pending)} chunks"
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return "finished before"
        if job.deliveries > self.workers.max_deliveries:
            self.abandon(job_id, f"validation set aside after {job.deliveries - 1} deliveries")
            return "set aside"

        def take(claim: FileClaim) -> bool:
            if claim.state == "done":
                return False
            busy = claim.state in ("validating", "importing") and claim.job_state in _UNFINISHED
            return not busy or claim.job_id == job_id

        claim = self.imports.claim_file(
            request.sha256, job_id, request.source, request.file_name, take
        )
        if not take(claim):
            outcome = (
                ImportOutcome.ALREADY_IMPORTED
                if claim.state == "done"
                else ImportOutcome.ALREADY_RUNNING
            )
            summary = request.summary(outcome, other_job_id=claim.job_id)
            self.imports.set_outcome(
                job_id, JobState.SUCCEEDED.value, summary.model_dump(mode="json")
            )
            return outcome.value

        validated = self.pipeline.validate(request)
        summary = validated.summary
        result = summary.model_dump(mode="json")
        if summary.outcome is ImportOutcome.IMPORTING:
            winner = self.imports.plan_chunks(
                job_id, validated.chunk_sizes, result, validated.attempt
            )
            if winner != validated.attempt:  # another run of this validation planned first
                self.store.drop_attempt(job_id, validated.attempt)
            self.imports.set_file_state(request.sha256, job_id, "importing")
            for no in self.jobs.pending_chunks(job_id):
                enqueue(job_id, no)
            return f"planned {len(validated.chunk_sizes)} chunks"
        if summary.outcome is ImportOutcome.NOTHING_TO_IMPORT:
            self.imports.set_outcome(job_id, JobState.SUCCEEDED.value, result)
        else:
            error = (
                f"file refused: {summary.file_error.code}"
                if summary.file_error
                else f"rejected: {summary.bad_rows} bad rows, nothing imported"
            )
            self.imports.set_outcome(job_id, JobState.FAILED.value, result, error)
        self.imports.set_file_state(request.sha256, job_id, "rejected")
        return summary.outcome.value

    def run_chunk(self, job_id: str, no: int) -> str:
        delivery = self.jobs.count_delivery(job_id, no, self.workers.max_deliveries)
        if delivery.state == "dead":
            self.abandon(job_id, f"chunk {no} set aside after {delivery.deliveries} deliveries")
            return "set aside"
        if delivery.state == "done":
            return "already done"
        job = self.jobs.get(job_id)
        if job.state is JobState.FAILED:
            return "abandoned"
        request = ImportRequest.of(job_id, job.params)
        attempt = self.imports.staging_of(job_id)
        if attempt is None:  # pragma: no cover - chunks exist only once a plan recorded it
            raise RuntimeError(f"import {job_id} has chunks but no staged attempt")
        dates = self.pipeline.date_keys(request.source)
        staged = self.store.read_chunk(job_id, attempt, no, dates)
        try:
            outcome = self.imports.apply_chunk(
                job_id,
                no,
                request.sha256,
                staged.rows,
                len(staged.present),
                self.pipeline.writer(request.source),
                _audit("import.completed"),
            )
        except ImportAbandonedError:
            return "abandoned"
        if outcome.finished:
            self.store.drop_staging(job_id)
        return "applied" if outcome.applied else "already done"

    def abandon(self, job_id: str, error: str) -> int:
        """Fail the import and remove what it wrote (idempotent); returns nodes removed."""
        job = self.jobs.get(job_id)
        request = ImportRequest.of(job_id, job.params)
        removed = self.imports.abandon(
            job_id,
            request.sha256,
            schema_of(request.source).entity.value,
            error,
            _audit("import.rolled_back", AuditOutcome.ERROR),
        )
        state, result = self.imports.job_result(job_id)
        if result:
            result["outcome"] = ImportOutcome.ROLLED_BACK.value
            self.imports.set_outcome(job_id, state, result, error)
        self.store.drop_staging(job_id)
        return removed

    def run_now(self, job_id: str) -> str:
        """Validate and write in this process, chunk after chunk (`bangfu import --now`)."""
        pending: list[int] = []
        outcome = self.validate(job_id, lambda _job, no: pending.append(no))
        for no in pending:
            self.run_chunk(job_id, no)
        return outcome


def build_import_job(graph: GraphClient) -> ImportJob:
    """An ImportJob wired to the process's settings, vault and store."""
    settings = get_settings()
    store = ImportStore(settings.imports.store_dir)
    imports = ImportRepository(graph)
    pipeline = ImportPipeline(
        get_vault(), store, imports, DeptRecordRepository(graph), settings.imports
    )
    return ImportJob(
        JobRepository(graph), imports, pipeline, store, settings.workers, settings.imports
    )

"""Celery tasks: stable dotted names, ids as arguments, idempotent, one service call each.
Transient database trouble is retried with exponential backoff; everything else fails the
job record."""

from __future__ import annotations

from celery import Task

from bangfu.errors import GraphBusyError, GraphTimeoutError, GraphUnavailableError
from bangfu.settings import get_settings
from graph.client import get_graph
from graph.repositories.audit import AuditRepository
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.needs import NeedRepository
from graph.repositories.region_stats import RegionStatsRepository
from matching.needs import NeedService
from verification.jobs import CrossCheckJob
from workers.celery_app import app
from workers.imports import build_import_job
from workers.jobs import RegionStatsJob, create_region_stats_job

TRANSIENT = (GraphUnavailableError, GraphTimeoutError, GraphBusyError)


class JobTask(Task):
    """A task whose first argument is a job id: a final failure is written to the job record
    (the type of the error only; messages may carry data that must not be logged)."""

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[object, ...],
        kwargs: object,
        einfo: object,
    ) -> None:
        if args:
            JobRepository(get_graph()).fail(str(args[0]), f"{type(exc).__name__} in {self.name}")


RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": get_settings().workers.max_retries,
}


def _region_stats_job() -> RegionStatsJob:
    graph = get_graph()
    return RegionStatsJob(
        JobRepository(graph), RegionStatsRepository(graph), get_settings().workers
    )


def _enqueue_chunk(job_id: str, no: int) -> None:
    refresh_chunk.delay(job_id, no)


@app.task(name="bangfu.stats.plan", base=JobTask, **RETRY)
def plan_region_stats(job_id: str) -> int:
    return _region_stats_job().plan(job_id, _enqueue_chunk)


@app.task(name="bangfu.stats.chunk", base=JobTask, **RETRY)
def refresh_chunk(job_id: str, no: int) -> str:
    return _region_stats_job().run_chunk(job_id, no)


@app.task(name="bangfu.stats.nightly", **RETRY)
def nightly_region_stats() -> str:
    job = create_region_stats_job(JobRepository(get_graph()), created_by="beat")
    plan_region_stats.delay(job.id)  # sent after the job record committed
    return job.id


@app.task(name="bangfu.market.tick", **RETRY)
def market_tick() -> dict[str, int]:
    graph = get_graph()
    service = NeedService(NeedRepository(graph), AuditRepository(graph), get_settings().market)
    return {
        "released": service.release_stale_claims(),
        "transferred": service.apply_due_transfers(),
    }


class ImportTask(JobTask):
    """An import task: a final failure also rolls the import back, so a failed import leaves
    the graph as it was (workers/imports.py)."""

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[object, ...],
        kwargs: object,
        einfo: object,
    ) -> None:
        super().on_failure(exc, task_id, args, kwargs, einfo)
        if args:
            reason = f"{type(exc).__name__} in {self.name}"
            build_import_job(get_graph()).abandon(str(args[0]), reason)


def _enqueue_import_chunk(job_id: str, no: int) -> None:
    import_chunk.delay(job_id, no)


@app.task(name="bangfu.imports.validate", base=ImportTask, **RETRY)
def validate_import(job_id: str) -> str:
    return build_import_job(get_graph()).validate(job_id, _enqueue_import_chunk)


@app.task(name="bangfu.imports.chunk", base=ImportTask, **RETRY)
def import_chunk(job_id: str, no: int) -> str:
    return build_import_job(get_graph()).run_chunk(job_id, no)


def _cross_check_job() -> CrossCheckJob:
    graph = get_graph()
    settings = get_settings()
    return CrossCheckJob(
        JobRepository(graph), CrossCheckRepository(graph), settings.workers, settings.risk
    )


def _enqueue_check_chunk(job_id: str, no: int) -> None:
    cross_check_chunk.delay(job_id, no)


@app.task(name="bangfu.checks.run", base=JobTask, **RETRY)
def run_cross_check(job_id: str) -> int:
    """Plan a cross-check job's chunks (once) and enqueue the pending ones."""
    return _cross_check_job().plan(job_id, _enqueue_check_chunk)


@app.task(name="bangfu.checks.chunk", base=JobTask, **RETRY)
def cross_check_chunk(job_id: str, no: int) -> str:
    return _cross_check_job().run_chunk(job_id, no)

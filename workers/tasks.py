"""Celery tasks: stable dotted names, ids as arguments, idempotent, one service call each.
Transient database trouble is retried with exponential backoff; everything else fails the
job record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from celery import Task

from bangfu.errors import GraphBusyError, GraphTimeoutError, GraphUnavailableError
from bangfu.settings import get_settings
from graph.client import get_graph
from graph.repositories.audit import AuditRepository
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.matching import MatchingRepository
from graph.repositories.needs import NeedRepository
from graph.repositories.projects import ProjectRepository
from graph.repositories.region_stats import RegionStatsRepository
from matching.needs import NeedService
from matching.service import MatchingService
from ml.pipeline import scoring_service
from verification.jobs import CrossCheckJob
from workers.celery_app import app
from workers.dispatch import FIRST_TASKS, start_job, start_proposal
from workers.imports import build_import_job
from workers.jobs import (
    AssignmentAcceptanceJob,
    ProjectScanJob,
    RegionStatsJob,
    RiskScoringJob,
    create_project_scan_job,
    create_region_stats_job,
    create_risk_scoring_job,
)
from workers.shown import shown_buffer

CHINA = ZoneInfo("Asia/Shanghai")
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


def _risk_scoring_job() -> RiskScoringJob:
    # The model is read from disk once per process (ml/registry.py); resolving the version per
    # task means a newly activated model is used from the next task on.
    graph = get_graph()
    settings = get_settings()
    return RiskScoringJob(
        JobRepository(graph), scoring_service(graph, settings.risk), settings.workers
    )


def _enqueue_risk_chunk(job_id: str, no: int) -> None:
    score_risk_chunk.delay(job_id, no)


@app.task(name="bangfu.risk.plan", base=JobTask, **RETRY)
def plan_risk_scoring(job_id: str) -> int:
    return _risk_scoring_job().plan(job_id, _enqueue_risk_chunk)


@app.task(name="bangfu.risk.chunk", base=JobTask, **RETRY)
def score_risk_chunk(job_id: str, no: int) -> str:
    return _risk_scoring_job().run_chunk(job_id, no)


def _risk_period() -> str:
    # A night in year Y scores the risk year Y from the last complete year of records (Y - 1).
    return str(datetime.now(CHINA).year)


@app.task(name="bangfu.risk.nightly", **RETRY)
def nightly_risk_scoring() -> str:
    job = create_risk_scoring_job(JobRepository(get_graph()), "beat", _risk_period())
    plan_risk_scoring.delay(job.id)  # sent after the job record committed
    return job.id


@app.task(name="bangfu.risk.sweep", **RETRY)
def sweep_risk_scoring() -> str:
    """Score what the night left unscored (a chunk set aside, a village added since)."""
    job = create_risk_scoring_job(
        JobRepository(get_graph()), "beat", _risk_period(), only_unscored=True
    )
    plan_risk_scoring.delay(job.id)
    return job.id


@app.task(name="bangfu.matching.embed", **RETRY)
def embed_texts(need_ids: list[str] | None = None, helper_ids: list[str] | None = None) -> int:
    """Embed needs and helpers that were created or changed (idempotent: an unchanged text is
    not embedded again)."""
    graph = get_graph()
    service = MatchingService(MatchingRepository(graph), get_settings().matching)
    return service.embed_of(need_ids or (), helper_ids or ())


def _acceptance_job() -> AssignmentAcceptanceJob:
    graph = get_graph()
    settings = get_settings()
    needs = NeedService(NeedRepository(graph), AuditRepository(graph), settings.market)
    return AssignmentAcceptanceJob(
        JobRepository(graph), MatchingRepository(graph), needs, settings.workers
    )


def _enqueue_acceptance_chunk(job_id: str, no: int) -> None:
    accept_assignment_chunk.delay(job_id, no)


@app.task(name="bangfu.matching.accept_plan", base=JobTask, **RETRY)
def plan_assignment_acceptance(job_id: str) -> int:
    return _acceptance_job().plan(job_id, _enqueue_acceptance_chunk)


@app.task(name="bangfu.matching.accept_chunk", base=JobTask, **RETRY)
def accept_assignment_chunk(job_id: str, no: int) -> str:
    return _acceptance_job().run_chunk(job_id, no)


class ProposalTask(Task):
    """Computing a queued assignment proposal: a final failure marks it failed, so that
    GET /assignments/{id} does not read 'computing' for ever."""

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[object, ...],
        kwargs: object,
        einfo: object,
    ) -> None:
        if args:
            MatchingRepository(get_graph()).fail_proposal(str(args[0]))


@app.task(name="bangfu.matching.propose", base=ProposalTask, **RETRY)
def compute_proposal(proposal_id: str) -> str:
    graph = get_graph()
    service = MatchingService(MatchingRepository(graph), get_settings().matching)
    return service.compute_queued_proposal(proposal_id)


@app.task(name="bangfu.matching.record_shown", **RETRY)
def record_shown() -> int:
    return shown_buffer().record(MatchingRepository(get_graph()))


@app.task(name="bangfu.matching.learn", **RETRY)
def learn_ranking_weights() -> dict[str, object]:
    graph = get_graph()
    service = MatchingService(
        MatchingRepository(graph), get_settings().matching, AuditRepository(graph)
    )
    score, switched = service.learn_weights()
    return {**score.model_dump(mode="json"), "switched": switched}


@app.task(name="bangfu.market.tick", **RETRY)
def market_tick() -> dict[str, int]:
    graph = get_graph()
    service = NeedService(NeedRepository(graph), AuditRepository(graph), get_settings().market)
    return {
        "released": service.release_stale_claims(),
        "transferred": service.apply_due_transfers(),
    }


def _project_scan_job() -> ProjectScanJob:
    graph = get_graph()
    settings = get_settings()
    return ProjectScanJob(
        JobRepository(graph), ProjectRepository(graph), settings.projects, settings.workers
    )


def _enqueue_scan_chunk(job_id: str, no: int) -> None:
    scan_projects_chunk.delay(job_id, no)


@app.task(name="bangfu.projects.scan", base=JobTask, **RETRY)
def scan_projects(job_id: str | None = None) -> str:
    """Plan (once) and enqueue the project checks of a job; without a job id (the nightly
    schedule) first create one for the whole province as of today (China time)."""
    if job_id is None:
        today = datetime.now(CHINA).date()
        job_id = create_project_scan_job(JobRepository(get_graph()), "beat", today).id
    _project_scan_job().plan(job_id, _enqueue_scan_chunk)
    return job_id


@app.task(name="bangfu.projects.scan_chunk", base=JobTask, **RETRY)
def scan_projects_chunk(job_id: str, no: int) -> str:
    return _project_scan_job().run_chunk(job_id, no)


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


@app.task(name="bangfu.jobs.resend", **RETRY)
def resend_jobs(older_than_s: int | None = None) -> list[str]:
    """Send again the first task of every job still queued, or running without activity, for
    longer than `older_than_s` seconds (by default WorkerSettings.queued_job_resend_s and
    stalled_job_resend_s): a message of it never reached the broker or was lost on the way to
    a worker (workers/dispatch.py); likewise the computation of assignment proposals left
    'computing'. Returns the ids of the jobs and proposals sent."""
    settings = get_settings().workers
    now = datetime.now(UTC)

    def cutoff(default_s: int) -> datetime:
        return now - timedelta(seconds=default_s if older_than_s is None else older_than_s)

    graph = get_graph()
    stalled_before = cutoff(settings.stalled_job_resend_s)
    jobs = JobRepository(graph).to_resend(
        queued_before=cutoff(settings.queued_job_resend_s), stalled_before=stalled_before
    )
    proposals = MatchingRepository(graph).stalled_proposals(stalled_before)
    return [job.id for job in jobs if job.kind in FIRST_TASKS and start_job(job.id, job.kind)] + [
        p for p in proposals if start_proposal(p)
    ]

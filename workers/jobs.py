"""Running chunked jobs: plan the chunks once, enqueue the pending ones, apply each exactly
once. Called by the thin tasks in workers/tasks.py."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from bangfu.access import Principal, Role
from bangfu.errors import BangfuError, GraphBusyError, GraphTimeoutError, GraphUnavailableError
from bangfu.settings import ProjectSettings, WorkerSettings
from graph.models import Job, JobChunk, JobState
from graph.repositories.jobs import JobRepository
from graph.repositories.matching import MatchingRepository
from graph.repositories.projects import ProjectRepository
from graph.repositories.region_stats import RegionStatsRepository
from matching.claims import ClaimConflictError
from matching.needs import Caller, NeedService

if TYPE_CHECKING:
    # Only the type: the API and CLI import this module, and ml/ pulls LightGBM (~1 s).
    from ml.scoring import ScoringService

REGION_STATS = "region_stats"
RISK_SCORING = "risk_scoring"
ASSIGNMENT_ACCEPTANCE = "assignment_acceptance"
# Items claimed per chunk: each is one short transaction (~10 ms here), so a chunk takes a few
# seconds and a killed worker repeats little.
ACCEPTANCE_CHUNK = 200

log = logging.getLogger("bangfu.workers")
Enqueue = Callable[[str, int], None]  # (job id, chunk number)
_TRANSIENT = (GraphUnavailableError, GraphTimeoutError, GraphBusyError)


class ChunkedJob:
    """A job planned once into chunks of ids, each chunk applied by one task. Subclasses say how
    the chunks are made (`chunks_for`), what a job with nothing to do records (`finish_empty`)
    and how one chunk is applied (`apply`)."""

    def __init__(self, jobs: JobRepository, settings: WorkerSettings) -> None:
        self.jobs = jobs
        self.settings = settings

    def plan(self, job_id: str, enqueue: Enqueue) -> int:
        """Plan (once) and enqueue every chunk still pending; returns how many were enqueued.
        Running it again re-enqueues only what is left, so it also heals a stalled job."""
        job = self.jobs.start(job_id)
        if job.chunks_total is None:
            chunks = self.chunks_for(job)
            if not chunks:
                self.finish_empty(job)
                return 0
            self.jobs.plan_chunks(job_id, chunks)
        pending = self.jobs.pending_chunks(job_id)
        for no in pending:
            enqueue(job_id, no)
        if not pending:
            self.after_last_chunk(job_id)  # heals a job whose last worker died before this
        return len(pending)

    def run_chunk(self, job_id: str, no: int) -> str:
        chunk = self.jobs.count_delivery(job_id, no, self.settings.max_deliveries)
        if chunk.state == "dead":
            return "set aside"
        # A copy of a chunk applied before still runs the final step: the worker that applied
        # it may have died before it.
        applied = chunk.state != "done" and self.apply(job_id, chunk)
        self.after_last_chunk(job_id)
        return "applied" if applied else "already done"

    def chunks_for(self, job: Job) -> list[list[str]]:
        raise NotImplementedError

    def finish_empty(self, job: Job) -> None:
        self.jobs.finish(job.id, {}, rows=0)

    def apply(self, job_id: str, chunk: JobChunk) -> bool:
        """Apply one chunk; False when another delivery already completed it."""
        raise NotImplementedError

    def after_last_chunk(self, job_id: str) -> None:
        """Work once every chunk is done (checked after each chunk; must be idempotent)."""


def awaits_final_step(job: Job) -> bool:
    """Every chunk of a job with a final step is done and the step has not finished it yet
    (graph/repositories/jobs.py FINISH_CHUNK)."""
    return (
        job.state is JobState.RUNNING
        and job.chunks_total is not None
        and job.chunks_done == job.chunks_total
    )


class RegionStatsJob(ChunkedJob):
    """Recompute per-village statistics under a region, `villages_per_chunk` villages a chunk."""

    def __init__(
        self, jobs: JobRepository, stats: RegionStatsRepository, settings: WorkerSettings
    ) -> None:
        super().__init__(jobs, settings)
        self.stats = stats

    def chunks_for(self, job: Job) -> list[list[str]]:
        size = int(job.params.get("villages_per_chunk", self.settings.villages_per_chunk))
        codes = self.stats.village_codes(str(job.params.get("region", "")))
        return [codes[i : i + size] for i in range(0, len(codes), size)]

    def finish_empty(self, job: Job) -> None:
        self.jobs.finish(job.id, {"villages": 0}, rows=0)

    def apply(self, job_id: str, chunk: JobChunk) -> bool:
        # The figures and the chunk's completion commit together.
        return self.stats.refresh_chunk(job_id, chunk.no)


def create_region_stats_job(
    jobs: JobRepository, created_by: str, region: str = "", villages_per_chunk: int | None = None
) -> Job:
    params: dict[str, object] = {"region": region}
    if villages_per_chunk is not None:
        params["villages_per_chunk"] = villages_per_chunk
    return jobs.create(REGION_STATS, created_by, params)


class RiskScoringJob(ChunkedJob):
    """A night's risk scoring under a region: chunks of whole villages (about
    `RiskSettings.chunk_households` households each, never one task per household), each scored
    by one task. Scoring merges alerts on a deterministic id, so a chunk delivered twice (its
    worker died after writing, before completing) writes nothing new; the chunk is completed in
    a transaction of its own after the alerts committed."""

    def __init__(
        self, jobs: JobRepository, scoring: ScoringService, settings: WorkerSettings
    ) -> None:
        super().__init__(jobs, settings)
        self.scoring = scoring

    def chunks_for(self, job: Job) -> list[list[str]]:
        return self.scoring.plan(
            str(job.params["period"]),
            str(job.params.get("region", "")),
            only_unscored=bool(job.params.get("only_unscored", False)),
        )

    def finish_empty(self, job: Job) -> None:
        self.jobs.finish(job.id, {"villages": 0}, rows=0)

    def apply(self, job_id: str, chunk: JobChunk) -> bool:
        period = str(self.jobs.get(job_id).params["period"])
        self.scoring.score_chunk(chunk.ids, period)
        return self.jobs.complete_chunk(job_id, chunk.no, final_step=True)

    def after_last_chunk(self, job_id: str) -> None:
        """The night's drift check, once every chunk is scored; kept in the job's result, which
        finishes the job."""
        job = self.jobs.get(job_id)
        if not awaits_final_step(job):
            return
        drift = self.scoring.drift_check(
            str(job.params["period"]), str(job.params.get("region", ""))
        )
        if drift is not None and drift.shifting:
            log.warning(
                "risk features drifted since training: %s%s",
                ", ".join(drift.shifting),
                " - retrain" if drift.retrain else "",
            )
        self.jobs.finish(job_id, {"drift": drift.model_dump() if drift is not None else None})


def create_risk_scoring_job(
    jobs: JobRepository, created_by: str, period: str, region: str = "", only_unscored: bool = False
) -> Job:
    """`only_unscored` re-enqueues the households a night left unscored (a chunk set aside, a
    village added since): the sweep that follows the nightly run."""
    return jobs.create(
        RISK_SCORING,
        created_by,
        {"period": period, "region": region, "only_unscored": only_unscored},
    )


class AssignmentAcceptanceJob(ChunkedJob):
    """Turn an accepted assignment proposal into claims, `ACCEPTANCE_CHUNK` items a chunk. Each
    item is claimed for its helper in its own transaction, with every check a helper's own claim
    gets (still open, capability, capacity); an item that no longer fits is skipped with the
    reason (its error code) recorded on the item. An item already decided is never tried again,
    and a claim that committed before its worker died counts as claimed on the next delivery."""

    def __init__(
        self,
        jobs: JobRepository,
        matching: MatchingRepository,
        needs: NeedService,
        settings: WorkerSettings,
    ) -> None:
        super().__init__(jobs, settings)
        self.matching = matching
        self.needs = needs

    def chunks_for(self, job: Job) -> list[list[str]]:
        ids = self.matching.open_proposal_items(str(job.params["proposal_id"]))
        return [ids[i : i + ACCEPTANCE_CHUNK] for i in range(0, len(ids), ACCEPTANCE_CHUNK)]

    def finish_empty(self, job: Job) -> None:
        self._finish(job.id, str(job.params["proposal_id"]))

    def apply(self, job_id: str, chunk: JobChunk) -> bool:
        job = self.jobs.get(job_id)
        proposal_id = str(job.params["proposal_id"])
        caller = acceptance_caller(job)
        outcomes: list[tuple[str, str]] = []
        for item, outcome in self.matching.proposal_items_of(proposal_id, chunk.ids):
            if outcome is not None:
                continue
            try:
                self.needs.assign(caller, item.need_id, item.helper_id)
                outcomes.append((item.need_id, "claimed"))
            except ClaimConflictError as exc:
                done = exc.holder_id == item.helper_id
                outcomes.append((item.need_id, "claimed" if done else exc.code))
            except _TRANSIENT:
                raise  # the task retries; items decided so far are decided again the same way
            except BangfuError as exc:
                # An expected refusal: no longer open, helper full or lacking the capability.
                outcomes.append((item.need_id, exc.code))
        if outcomes:
            self.matching.set_item_outcomes(proposal_id, outcomes)
        return self.jobs.complete_chunk(job_id, chunk.no, final_step=True)

    def after_last_chunk(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if awaits_final_step(job):
            self._finish(job_id, str(job.params["proposal_id"]))

    def _finish(self, job_id: str, proposal_id: str) -> None:
        claimed, skipped = self.matching.finish_acceptance(proposal_id)
        self.jobs.finish(job_id, {"claimed": claimed, "skipped": skipped})


def acceptance_caller(job: Job) -> Caller:
    """The accepting official as the job recorded them, scoped to the proposal's region."""
    params = job.params
    return Caller(
        principal=Principal(
            user_id=str(params["accepted_by"]),
            username=str(params["username"]),
            role=Role(str(params["role"])),
            region_code=params.get("region_code"),
        ),
        prefixes=(str(params["proposal_region"]),),
        request_id=f"job:{job.id}",
    )


def create_acceptance_job(
    jobs: JobRepository, principal: Principal, proposal_id: str, proposal_region: str
) -> Job:
    return jobs.create(
        ASSIGNMENT_ACCEPTANCE,
        principal.user_id,
        {
            "proposal_id": proposal_id,
            "proposal_region": proposal_region,
            "accepted_by": principal.user_id,
            "username": principal.username,
            "role": principal.role.value,
            "region_code": principal.region_code,
        },
    )


PROJECT_SCAN = "project_scan"


class ProjectScanJob(ChunkedJob):
    """Run the project checks county by county and store their findings (ProjectFlag nodes):
    a chunk replaces its counties' flags in the transaction that marks it done, so a re-run or a
    re-delivered chunk leaves the same flags, never duplicates."""

    def __init__(
        self,
        jobs: JobRepository,
        projects: ProjectRepository,
        checks: ProjectSettings,
        settings: WorkerSettings,
    ) -> None:
        super().__init__(jobs, settings)
        self.projects = projects
        self.checks = checks

    def chunks_for(self, job: Job) -> list[list[str]]:
        prefix = str(job.params.get("region", ""))
        size = int(job.params.get("counties_per_chunk", self.checks.counties_per_chunk))
        # A region below a county is scanned as its whole county (flags are kept per county).
        codes = self.projects.county_codes(prefix[:6])
        return [codes[i : i + size] for i in range(0, len(codes), size)]

    def finish_empty(self, job: Job) -> None:
        self.jobs.finish(job.id, {"counties": 0}, rows=0)

    def apply(self, job_id: str, chunk: JobChunk) -> bool:
        job = self.jobs.get(job_id)
        c = self.checks
        flags = self.projects.scan_chunk(
            job_id,
            chunk.no,
            date.fromisoformat(str(job.params["as_of"])),
            c.advance_share,
            c.stall_days,
            c.eligible_statuses,
            c.max_projects_per_household,
        )
        return flags is not None


def create_project_scan_job(
    jobs: JobRepository,
    created_by: str,
    as_of: date,
    region: str = "",
    counties_per_chunk: int | None = None,
) -> Job:
    params: dict[str, object] = {"region": region, "as_of": as_of.isoformat()}
    if counties_per_chunk is not None:
        params["counties_per_chunk"] = counties_per_chunk
    return jobs.create(PROJECT_SCAN, created_by, params)

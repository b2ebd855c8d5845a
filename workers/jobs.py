"""Running chunked jobs: plan the chunks once, enqueue the pending ones, apply each exactly
once. Called by the thin tasks in workers/tasks.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bangfu.settings import WorkerSettings
from graph.models import Job
from graph.repositories.jobs import JobRepository
from graph.repositories.region_stats import RegionStatsRepository

if TYPE_CHECKING:
    # Only the type: the API and CLI import this module, and ml/ pulls LightGBM (~1 s).
    from ml.scoring import ScoringService

REGION_STATS = "region_stats"
RISK_SCORING = "risk_scoring"

Enqueue = Callable[[str, int], None]  # (job id, chunk number)


class RegionStatsJob:
    """Recompute per-village statistics under a region, `villages_per_chunk` villages a chunk."""

    def __init__(
        self, jobs: JobRepository, stats: RegionStatsRepository, settings: WorkerSettings
    ) -> None:
        self.jobs = jobs
        self.stats = stats
        self.settings = settings

    def plan(self, job_id: str, enqueue: Enqueue) -> int:
        """Plan (once) and enqueue every chunk still pending; returns how many were enqueued.
        Running it again re-enqueues only what is left, so it also heals a stalled job."""
        job = self.jobs.start(job_id)
        prefix = str(job.params.get("region", ""))
        size = int(job.params.get("villages_per_chunk", self.settings.villages_per_chunk))
        if job.chunks_total is None:
            codes = self.stats.village_codes(prefix)
            chunks = [codes[i : i + size] for i in range(0, len(codes), size)]
            if not chunks:
                self.jobs.finish(job_id, {"villages": 0}, rows=0)
                return 0
            self.jobs.plan_chunks(job_id, chunks)
        pending = self.jobs.pending_chunks(job_id)
        for no in pending:
            enqueue(job_id, no)
        return len(pending)

    def run_chunk(self, job_id: str, no: int) -> str:
        chunk = self.jobs.count_delivery(job_id, no, self.settings.max_deliveries)
        if chunk.state == "dead":
            return "set aside"
        if chunk.state == "done":
            return "already done"
        return "applied" if self.stats.refresh_chunk(job_id, no) else "already done"


def create_region_stats_job(
    jobs: JobRepository, created_by: str, region: str = "", villages_per_chunk: int | None = None
) -> Job:
    params: dict[str, object] = {"region": region}
    if villages_per_chunk is not None:
        params["villages_per_chunk"] = villages_per_chunk
    return jobs.create(REGION_STATS, created_by, params)


class RiskScoringJob:
    """A night's risk scoring under a region: chunks of whole villages (about
    `RiskSettings.chunk_households` households each, never one task per household), each scored
    by one task. Scoring merges alerts on a deterministic id, so a chunk delivered twice (its
    worker died after writing, before completing) writes nothing new; the chunk is completed in
    a transaction of its own after the alerts committed."""

    def __init__(
        self, jobs: JobRepository, scoring: ScoringService, settings: WorkerSettings
    ) -> None:
        self.jobs = jobs
        self.scoring = scoring
        self.settings = settings

    def plan(self, job_id: str, enqueue: Enqueue) -> int:
        job = self.jobs.start(job_id)
        if job.chunks_total is None:
            chunks = self.scoring.plan(
                str(job.params["period"]),
                str(job.params.get("region", "")),
                only_unscored=bool(job.params.get("only_unscored", False)),
            )
            if not chunks:
                self.jobs.finish(job_id, {"villages": 0}, rows=0)
                return 0
            self.jobs.plan_chunks(job_id, chunks)
        pending = self.jobs.pending_chunks(job_id)
        for no in pending:
            enqueue(job_id, no)
        return len(pending)

    def run_chunk(self, job_id: str, no: int) -> str:
        chunk = self.jobs.count_delivery(job_id, no, self.settings.max_deliveries)
        if chunk.state == "dead":
            return "set aside"
        if chunk.state == "done":
            return "already done"
        period = str(self.jobs.get(job_id).params["period"])
        self.scoring.score_chunk(chunk.ids, period)
        return "applied" if self.jobs.complete_chunk(job_id, no) else "already done"


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

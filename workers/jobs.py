"""Running chunked jobs: plan the chunks once, enqueue the pending ones, apply each exactly
once. Called by the thin tasks in workers/tasks.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bangfu.settings import ProjectSettings, WorkerSettings
from graph.models import Job
from graph.repositories.jobs import JobRepository
from graph.repositories.projects import ProjectRepository
from graph.repositories.region_stats import RegionStatsRepository

REGION_STATS = "region_stats"

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


PROJECT_SCAN = "project_scan"


class ProjectScanJob:
    """Run the project checks county by county and store their findings (ProjectFlag nodes):
    a chunk replaces its counties' flags in the transaction that marks it done, so a re-run or a
    re-delivered chunk leaves the same flags, never duplicates."""

    def __init__(
        self,
        jobs: JobRepository,
        projects: ProjectRepository,
        settings: ProjectSettings,
        worker_settings: WorkerSettings,
    ) -> None:
        self.jobs = jobs
        self.projects = projects
        self.settings = settings
        self.worker_settings = worker_settings

    def plan(self, job_id: str, enqueue: Enqueue) -> int:
        job = self.jobs.start(job_id)
        prefix = str(job.params.get("region", ""))
        size = int(job.params.get("counties_per_chunk", self.settings.counties_per_chunk))
        if job.chunks_total is None:
            # A region below a county is scanned as its whole county (flags are kept per county).
            codes = self.projects.county_codes(prefix[:6])
            chunks = [codes[i : i + size] for i in range(0, len(codes), size)]
            if not chunks:
                self.jobs.finish(job_id, {"counties": 0}, rows=0)
                return 0
            self.jobs.plan_chunks(job_id, chunks)
        pending = self.jobs.pending_chunks(job_id)
        for no in pending:
            enqueue(job_id, no)
        return len(pending)

    def run_chunk(self, job_id: str, no: int) -> str:
        chunk = self.jobs.count_delivery(job_id, no, self.worker_settings.max_deliveries)
        if chunk.state == "dead":
            return "set aside"
        if chunk.state == "done":
            return "already done"
        job = self.jobs.get(job_id)
        s = self.settings
        flags = self.projects.scan_chunk(
            job_id,
            no,
            date.fromisoformat(str(job.params["as_of"])),
            s.advance_share,
            s.stall_days,
            s.eligible_statuses,
            s.max_projects_per_household,
        )
        return "already done" if flags is None else f"{flags} flags"


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

"""Starting jobs and reading their records. A job record is committed before its task is sent,
so a worker never looks for a job that does not exist yet."""

from __future__ import annotations

from datetime import date

from bangfu.access import Principal, Role
from bangfu.errors import InvalidInputError, NotFoundError
from graph.models import Job, RegionStats
from graph.repositories.jobs import JobRepository
from graph.repositories.region_stats import RegionStatsRepository
from matching.needs import Caller
from workers.dispatch import start_job
from workers.jobs import RISK_SCORING, create_region_stats_job, create_risk_scoring_job


class JobService:
    def __init__(self, jobs: JobRepository, stats: RegionStatsRepository) -> None:
        self.jobs = jobs
        self.stats = stats

    def start(self, principal: Principal, kind: str, region: str, period: str | None) -> Job:
        if region and not region.isdigit():
            raise InvalidInputError("region must be a region code", message_zh="区划代码无效")
        if kind == RISK_SCORING:
            job = create_risk_scoring_job(
                self.jobs, principal.user_id, period or str(date.today().year), region
            )
            start_job(job.id, job.kind)  # the job record has committed
            return job
        job = create_region_stats_job(self.jobs, created_by=principal.user_id, region=region)
        start_job(job.id, job.kind)
        return job

    def get(self, principal: Principal, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if principal.role is not Role.ADMIN and job.created_by != principal.user_id:
            raise NotFoundError(f"job {job_id} not found", message_zh="未找到该任务")
        return job

    def region_summary(self, caller: Caller, region: str) -> RegionStats:
        """Precomputed counts for a region inside the caller's scope (404 outside it)."""
        if not any(region.startswith(p) for p in caller.prefixes):
            raise NotFoundError(f"region {region} not found", message_zh="未找到该区划")
        return self.stats.summary(region)

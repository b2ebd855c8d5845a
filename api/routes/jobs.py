"""Jobs (long tasks run by workers) and the statistics they precompute."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentPrincipal, Graph, caller_for, require_roles
from api.jobs import JobService
from api.policy import Action
from bangfu.access import Principal, Role
from graph.models import Job, RegionStats
from graph.repositories.jobs import JobRepository
from graph.repositories.region_stats import RegionStatsRepository
from matching.needs import Caller

router = APIRouter(tags=["jobs"])


def job_service(graph: Graph) -> JobService:
    return JobService(JobRepository(graph), RegionStatsRepository(graph))


Jobs = Annotated[JobService, Depends(job_service)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[Caller, Depends(caller_for(Action.READ_HOUSEHOLD))]


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["region_stats", "risk_scoring"]
    region: str = Field(default="", pattern=r"^(\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?)?$")
    # Risk scoring only: the risk year (alerts for 2026 use 2025's records); default this year.
    period: str | None = Field(default=None, pattern=r"^20\d{2}$")


@router.post("/jobs", response_model=Job, status_code=status.HTTP_202_ACCEPTED)
def start_job(body: JobRequest, admin: Admin, jobs: Jobs) -> Job:
    """Start a job in the background; poll GET /jobs/{id} for its state and progress."""
    return jobs.start(admin, body.kind, body.region, body.period)


@router.get("/jobs/{job_id}", response_model=Job)
def get_job(job_id: str, principal: CurrentPrincipal, jobs: Jobs) -> Job:
    """State and progress (chunks and rows done of total) of a job you started."""
    return jobs.get(principal, job_id)


@router.get("/stats/{region}", response_model=RegionStats)
def region_stats(
    region: Annotated[str, Path(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")],
    caller: Reader,
    jobs: Jobs,
) -> RegionStats:
    """Households and needs of a region, from the last statistics job (see computed_at)."""
    return jobs.region_summary(caller, region)

"""Verification tasks (核查任务) as the API and the pages show them: the caller becomes the
service's actor, findings become views (no ID numbers: evidence names records by their keyed
hash), and a cross-check job is sent to the workers after its record committed.

The methods of `VerificationTasks` are what routes and pages call; their signatures are kept
stable:

    start(caller, body) -> Job
    list(caller, query, page, size) -> TaskPageView
    get(caller, task_id) -> TaskView
    resolve(caller, task_id, body) -> TaskView
    error_rates(caller, region) -> ErrorRateReport
    job(caller, job_id) -> Job
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Graph
from bangfu.vocabulary import FINDING_STATUS_ZH, FindingStatus, label_zh
from graph.models import Finding, FindingQuery, Job
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from matching.needs import Caller
from verification.report import ErrorRateReport
from verification.resolution import Resolution
from verification.service import Actor, VerificationService
from verification.sources import SOURCE_ZH
from workers.dispatch import start_job

# Check dates the rules can work with (school years, the income line's table).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
REGION_PATTERN = r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$"


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class EvidenceView(View):
    source: str
    source_zh: str
    record_key: str | None
    values: dict[str, Any]


class TaskView(View):
    id: str
    rule: str
    rule_zh: str
    household_id: str
    person_id: str | None
    village_code: str
    household_status: str
    status: str
    status_zh: str
    summary_zh: str
    summary_en: str
    evidence: list[EvidenceView]
    assignee_cadre_id: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    next_steps: list[str]

    @classmethod
    def of(cls, f: Finding) -> TaskView:
        return cls(
            id=f.key,
            rule=f.rule.value,
            rule_zh=label_zh(f.rule.value),
            household_id=f.household_id,
            person_id=f.person_id,
            village_code=f.village_code,
            household_status=f.household_status.value,
            status=f.status.value,
            status_zh=FINDING_STATUS_ZH[f.status.value],
            summary_zh=f.summary_zh,
            summary_en=f.summary_en,
            evidence=[
                EvidenceView(
                    source=e.source,
                    source_zh=SOURCE_ZH.get(e.source, e.source),
                    record_key=e.record_key,
                    values=dict(e.values),
                )
                for e in f.evidence
            ],
            assignee_cadre_id=f.assignee_cadre_id,
            created_at=f.created_at,
            resolved_at=f.resolved_at,
            resolved_by=f.resolved_by,
            resolution_note=f.resolution_note,
            next_steps=["confirm", "dismiss"] if f.status is FindingStatus.OPEN else [],
        )


class TaskPageView(View):
    items: list[TaskView]
    total: int
    page: int
    page_size: int


class CrossCheckRequest(BaseModel):
    """Start a cross-check of a region (default: the caller's own)."""

    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(default=None, pattern=REGION_PATTERN)
    as_of: date | None = Field(
        default=None, ge=FIRST_DAY, le=LAST_DAY, description="the check date; default today"
    )
    villages_per_chunk: int | None = Field(default=None, ge=1, le=2_000)


def actor_of(caller: Caller) -> Actor:
    return Actor(principal=caller.principal, prefixes=caller.prefixes, request_id=caller.request_id)


class VerificationTasks:
    """The routes' (and pages') one call each: caller in, view out."""

    def __init__(self, service: VerificationService) -> None:
        self.service = service

    def start(self, caller: Caller, body: CrossCheckRequest) -> Job:
        job = self.service.create_job(
            actor_of(caller), body.region, body.as_of, body.villages_per_chunk
        )
        start_job(job.id, job.kind)  # the job record has committed
        return job

    def list(self, caller: Caller, query: FindingQuery, page: int, size: int) -> TaskPageView:
        result = self.service.list_tasks(actor_of(caller), query)
        return TaskPageView(
            items=[TaskView.of(f) for f in result.items],
            total=result.total,
            page=page,
            page_size=size,
        )

    def get(self, caller: Caller, task_id: str) -> TaskView:
        return TaskView.of(self.service.get_task(actor_of(caller), task_id))

    def resolve(self, caller: Caller, task_id: str, body: Resolution) -> TaskView:
        return TaskView.of(self.service.resolve(actor_of(caller), task_id, body))

    def error_rates(self, caller: Caller, region: str | None) -> ErrorRateReport:
        return self.service.error_rates(actor_of(caller), region)

    def job(self, caller: Caller, job_id: str) -> Job:
        """A cross-check job of the caller's (see VerificationService.get_job)."""
        return self.service.get_job(actor_of(caller), job_id)


def verification_tasks(graph: Graph) -> VerificationTasks:
    return VerificationTasks(VerificationService(CrossCheckRepository(graph), JobRepository(graph)))


Verification = Annotated[VerificationTasks, Depends(verification_tasks)]

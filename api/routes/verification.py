"""Cross-checks (数据比对) and their verification tasks (核查任务). Thin: the policy dependency
admits the role and brings the caller's region, then one call (api/verification.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import Pagination, caller_for
from api.policy import Action
from api.verification import (
    REGION_PATTERN,
    CrossCheckRequest,
    TaskPageView,
    TaskView,
    Verification,
)
from bangfu.vocabulary import CrossCheckRule, FindingStatus
from graph.models import FindingQuery, Job
from matching.needs import Caller
from verification.report import ErrorRateReport
from verification.resolution import Resolution

router = APIRouter(prefix="/verification", tags=["verification"])

Starter = Annotated[Caller, Depends(caller_for(Action.RUN_CROSS_CHECK))]
Reader = Annotated[Caller, Depends(caller_for(Action.READ_VERIFICATION_TASKS))]
Resolver = Annotated[Caller, Depends(caller_for(Action.RESOLVE_VERIFICATION_TASK))]
RateReader = Annotated[Caller, Depends(caller_for(Action.READ_ERROR_RATE))]
RegionCode = Annotated[str | None, Query(pattern=REGION_PATTERN)]


@router.post("/cross-checks", response_model=Job, status_code=status.HTTP_202_ACCEPTED)
def start_cross_check(body: CrossCheckRequest, caller: Starter, tasks: Verification) -> Job:
    """Cross-check a region (default: yours) against the imported department data, in the
    background; poll GET /jobs/{id}. Running it again adds no duplicate findings."""
    return tasks.start(caller, body)


@router.get("/tasks", response_model=TaskPageView)
def list_tasks(
    caller: Reader,
    tasks: Verification,
    page: Pagination,
    status: Annotated[list[FindingStatus] | None, Query()] = None,
    rule: CrossCheckRule | None = None,
    region: RegionCode = None,
    household_id: Annotated[str | None, Query(max_length=64)] = None,
) -> TaskPageView:
    """Verification tasks of your region, grouped by village and household."""
    query = FindingQuery(
        statuses=tuple(s.value for s in status or ()),
        rule=rule.value if rule else None,
        region_code=region,
        household_id=household_id,
        skip=page.skip,
        limit=page.page_size,
    )
    return tasks.list(caller, query, page.page, page.page_size)


@router.get("/tasks/{task_id}", response_model=TaskView)
def get_task(task_id: str, caller: Reader, tasks: Verification) -> TaskView:
    return tasks.get(caller, task_id)


@router.post("/tasks/{task_id}/resolve", response_model=TaskView)
def resolve_task(task_id: str, body: Resolution, caller: Resolver, tasks: Verification) -> TaskView:
    """After the visit: `confirm` (the department is right: the record is corrected) or
    `dismiss` (the record is right); the note is required and kept in the audit trail."""
    return tasks.resolve(caller, task_id, body)


@router.get("/error-rates", response_model=ErrorRateReport)
def error_rates(
    caller: RateReader, tasks: Verification, region: RegionCode = None
) -> ErrorRateReport:
    """Identification error rate per county (definition in the answer)."""
    return tasks.error_rates(caller, region)

"""Verification tasks (核查任务) for field workers and officials of the region: the findings of
the cross-checks against department data, with their evidence, and the form that resolves one
after the visit (confirm: the department is right and the record is corrected; dismiss: the
record is right). Tasks are TaskView, the view the API gives (no ID numbers: evidence names
records by their keyed hash)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.pages.deps import CheckedForm, page_caller_for
from api.pages.filters import PAGE_SIZE, TaskFilter
from api.pages.forms import FormResult, parse_form
from api.pages.i18n import lang_of
from api.pages.render import redirect, render
from api.policy import Action, can
from api.verification import TaskView, Verification
from bangfu.vocabulary import CrossCheckRule, FindingStatus
from graph.models import FindingQuery
from matching.needs import Caller
from verification.resolution import Resolution

router = APIRouter(include_in_schema=False)

Reader = Annotated[Caller, Depends(page_caller_for(Action.READ_VERIFICATION_TASKS))]
Resolver = Annotated[Caller, Depends(page_caller_for(Action.RESOLVE_VERIFICATION_TASK))]


@router.get("/checks")
def tasks(
    request: Request,
    caller: Reader,
    verification: Verification,
    filters: Annotated[TaskFilter, Query()],
) -> Response:
    query = FindingQuery(
        statuses=(filters.status.value,) if filters.status else (FindingStatus.OPEN.value,),
        rule=filters.rule.value if filters.rule else None,
        region_code=filters.region,
        skip=filters.skip,
        limit=PAGE_SIZE,
    )
    page = verification.list(caller, query, filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "statuses": [s.value for s in FindingStatus],
        "rules": [r.value for r in CrossCheckRule],
        "has_more": page.page * PAGE_SIZE < page.total,
    }
    return render(request, "checks.html", context)


def _task_page(
    request: Request,
    task: TaskView,
    caller: Caller,
    form: FormResult[Resolution] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "task": task,
        "form": form or FormResult(values={}),
        "can_resolve": can(caller.principal, Action.RESOLVE_VERIFICATION_TASK),
    }
    return render(request, "check.html", context, status)


@router.get("/checks/{task_id}")
def task(request: Request, task_id: str, caller: Reader, verification: Verification) -> Response:
    return _task_page(request, verification.get(caller, task_id), caller)


@router.post("/checks/{task_id}/resolve")
def resolve(
    request: Request,
    task_id: str,
    form: CheckedForm,
    caller: Resolver,
    verification: Verification,
) -> Response:
    result = parse_form(Resolution, form, lang_of(request))
    if result.model is None:
        return _task_page(request, verification.get(caller, task_id), caller, result, 422)
    verification.resolve(caller, task_id, result.model)
    return redirect(request, f"/checks/{task_id}?done=resolved_ok")

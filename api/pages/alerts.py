"""The risk-alert queue (返贫致贫风险预警) of officials and field workers: alerts of their
region with the model's and the rules' explanations, and a form for each review step the alert
allows next. Alerts are AlertView, the view the API gives the same roles; ml/review.py decides
which steps a role and level may take (a refused step is the 403 page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.pages.deps import CheckedForm, page_caller_for
from api.pages.filters import PAGE_SIZE, AlertFilter
from api.pages.forms import FormResult
from api.pages.i18n import lang_of
from api.pages.render import redirect, render
from api.pages.review_forms import STEP_FORMS, parse_step
from api.policy import Action
from api.risk import AlertView, Risk, RiskReview
from bangfu.errors import NotFoundError
from bangfu.vocabulary import AlertReason, AlertStatus, MonitorType, NeedCategory
from graph.models import AlertQuery
from matching.needs import Caller
from ml import review

router = APIRouter(include_in_schema=False)

Reader = Annotated[Caller, Depends(page_caller_for(Action.READ_RISK_ALERTS))]
Reviewer = Annotated[Caller, Depends(page_caller_for(Action.REVIEW_RISK_ALERT))]


@router.get("/alerts")
def alerts(
    request: Request, caller: Reader, risk: Risk, filters: Annotated[AlertFilter, Query()]
) -> Response:
    query = AlertQuery(
        statuses=(filters.status.value,) if filters.status else review.OPEN_STATUSES,
        region_code=filters.region,
        reason=filters.reason.value if filters.reason else None,
        sort=filters.sort,
        skip=filters.skip,
        limit=PAGE_SIZE,
    )
    page = risk.list(caller, query, filters.overdue, filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "statuses": [s.value for s in AlertStatus],
        "reasons": [r.value for r in AlertReason],
        "has_more": page.page * PAGE_SIZE < page.total,
    }
    return render(request, "alerts.html", context)


def _alert_page(
    request: Request,
    alert: AlertView,
    forms: Mapping[str, FormResult[BaseModel]] | None = None,
    status: int = 200,
) -> Response:
    steps = [s for s in alert.next_steps if s in STEP_FORMS]
    blank: dict[str, FormResult[BaseModel]] = {
        s: FormResult(values={"notice_days": "5", "data_matches": "true"}) for s in steps
    }
    context = {
        "alert": alert,
        "steps": steps,
        "forms": {**blank, **(forms or {})},
        "monitor_types": [m.value for m in MonitorType],
        "categories": [c.value for c in NeedCategory],
    }
    return render(request, "alert.html", context, status)


@router.get("/alerts/{alert_id}")
def alert(request: Request, alert_id: str, caller: Reader, risk: Risk) -> Response:
    return _alert_page(request, risk.get(caller, alert_id))


def _apply(
    risk: RiskReview, caller: Caller, alert_id: str, step: str, body: BaseModel | None
) -> None:
    """One review step through the same RiskReview calls as the API's routes."""
    if step == "accept":
        risk.accept(caller, alert_id)
    elif isinstance(body, review.Visit):
        risk.visit(caller, alert_id, body)
    elif isinstance(body, review.Notice):
        risk.start_notice(caller, alert_id, body)
    elif isinstance(body, review.TownReview):
        risk.town_review(caller, alert_id, body)
    elif isinstance(body, review.Decision):
        risk.confirm(caller, alert_id, body)
    elif isinstance(body, review.Dismissal):
        risk.dismiss(caller, alert_id, body)
    elif isinstance(body, review.IncomeCheckIn):
        risk.record_income(caller, alert_id, body)
    elif isinstance(body, review.Elimination):
        risk.eliminate(caller, alert_id, body)


@router.post("/alerts/{alert_id}/{step}")
def review_step(
    request: Request, alert_id: str, step: str, form: CheckedForm, caller: Reviewer, risk: Risk
) -> Response:
    if step not in STEP_FORMS:
        raise NotFoundError(f"review step {step} not found", message_zh="未找到该办理步骤")
    model = STEP_FORMS[step]
    body: BaseModel | None = None
    if model is not None:
        result = parse_step(model, form, lang_of(request))
        if result.model is None:
            return _alert_page(request, risk.get(caller, alert_id), {step: result}, 422)
        body = result.model
    _apply(risk, caller, alert_id, step, body)
    return redirect(request, f"/alerts/{alert_id}?done=reviewed_ok")

"""Risk alerts (返贫致贫风险预警) and their review. Thin: the policy dependency admits the role and
brings the caller's region, then one call; ml/review.py decides every step."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Pagination, caller_for
from api.policy import Action
from api.risk import AlertPageView, AlertView, NoticeView, Risk
from bangfu.vocabulary import AlertReason, AlertStatus
from graph.models import AlertQuery
from matching.needs import Caller
from ml import review

router = APIRouter(prefix="/risk", tags=["risk"])

Reader = Annotated[Caller, Depends(caller_for(Action.READ_RISK_ALERTS))]
Reviewer = Annotated[Caller, Depends(caller_for(Action.REVIEW_RISK_ALERT))]
RegionCode = Annotated[str | None, Query(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")]


@router.get("/alerts", response_model=AlertPageView)
def list_alerts(
    caller: Reader,
    risk: Risk,
    page: Pagination,
    status: Annotated[list[AlertStatus] | None, Query()] = None,
    region: RegionCode = None,
    reason: AlertReason | None = None,
    overdue: bool = False,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    sort: Literal["score", "newest", "oldest", "due"] = "score",
) -> AlertPageView:
    """Alerts of the caller's region: filter by status, sub-region, reason, overdue steps and
    score; sort by score (default), age or due date."""
    query = AlertQuery(
        statuses=tuple(s.value for s in status or ()),
        region_code=region,
        reason=reason.value if reason else None,
        min_score=min_score,
        sort=sort,
        skip=page.skip,
        limit=page.page_size,
    )
    return risk.list(caller, query, overdue, page.page, page.page_size)


@router.get("/alerts/{alert_id}", response_model=AlertView)
def get_alert(alert_id: str, caller: Reader, risk: Risk) -> AlertView:
    return risk.get(caller, alert_id)


@router.get("/alerts/{alert_id}/notice", response_model=NoticeView)
def public_notice(alert_id: str, caller: Reader, risk: Risk) -> NoticeView:
    """The text of the village's public notice (公示), without IDs, phones, bank or health
    details."""
    return risk.notice(caller, alert_id)


@router.post("/alerts/{alert_id}/accept", response_model=AlertView)
def accept(alert_id: str, caller: Reviewer, risk: Risk) -> AlertView:
    """受理: due within 2 days of the alert."""
    return risk.accept(caller, alert_id)


@router.post("/alerts/{alert_id}/visit", response_model=AlertView)
def visit(alert_id: str, body: review.Visit, caller: Reviewer, risk: Risk) -> AlertView:
    """入户核实 and comparison with department data."""
    return risk.visit(caller, alert_id, body)


@router.post("/alerts/{alert_id}/notice", response_model=AlertView)
def start_notice(alert_id: str, body: review.Notice, caller: Reviewer, risk: Risk) -> AlertView:
    """村级评议 done; the public notice starts now and runs at least 5 days."""
    return risk.start_notice(caller, alert_id, body)


@router.post("/alerts/{alert_id}/town-review", response_model=AlertView)
def town_review(alert_id: str, body: review.TownReview, caller: Reviewer, risk: Risk) -> AlertView:
    """乡镇审核, after the notice has run its course (town officials or above)."""
    return risk.town_review(caller, alert_id, body)


@router.post("/alerts/{alert_id}/decision", response_model=AlertView)
def confirm(alert_id: str, body: review.Decision, caller: Reviewer, risk: Risk) -> AlertView:
    """县级审定: the household becomes a monitored household with measures (county officials)."""
    return risk.confirm(caller, alert_id, body)


@router.post("/alerts/{alert_id}/dismiss", response_model=AlertView)
def dismiss(alert_id: str, body: review.Dismissal, caller: Reviewer, risk: Risk) -> AlertView:
    """Not a risk after all; the reason is required and kept."""
    return risk.dismiss(caller, alert_id, body)


@router.post("/alerts/{alert_id}/income-checks", response_model=AlertView)
def record_income(
    alert_id: str, body: review.IncomeCheckIn, caller: Reviewer, risk: Risk
) -> AlertView:
    """A monitored household's income as verified on a date (the basis of 风险消除)."""
    return risk.record_income(caller, alert_id, body)


@router.post("/alerts/{alert_id}/eliminate", response_model=AlertView)
def eliminate(alert_id: str, body: review.Elimination, caller: Reviewer, risk: Risk) -> AlertView:
    """风险消除: income above the line for 6 months, costs, 三保障 and water resolved, and the
    household able to work (county officials)."""
    return risk.eliminate(caller, alert_id, body)

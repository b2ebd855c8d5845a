"""Risk alerts as officials and field workers of the region see them, and the dependency the
risk routes use. The review itself lives in ml/alerts.py; this turns the API's caller into the
service's actor and alerts into response views (one view per audience: only officials and field
workers of the alert's region see alerts, and the public notice is its own view)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, ConfigDict

from api.deps import Graph
from bangfu.settings import get_settings
from bangfu.vocabulary import AlertStatus, label_zh
from graph.models import AlertQuery, RiskAlert
from graph.repositories.audit import AuditRepository
from graph.repositories.risk import RiskRepository
from matching.needs import Caller
from ml import review
from ml.alerts import AlertService


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class IncomeCheckView(View):
    checked_on: date
    per_capita_income: float


class AlertView(View):
    id: str
    household_id: str
    village_code: str
    period: str
    status: str
    status_zh: str
    score: float
    latest_score: float | None
    model_version: str
    reasons: list[str]
    reasons_zh: list[str]
    factors_zh: list[str]
    factors_en: list[str]
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    late_steps: list[str]
    next_steps: list[str]
    accepted_at: datetime | None
    visited_at: datetime | None
    visit_findings: str | None
    verified_income: float | None
    data_matches: bool | None
    appraisal: str | None
    notice_start: datetime | None
    notice_ends: datetime | None
    town_reviewed_at: datetime | None
    town_note: str | None
    decided_at: datetime | None
    monitor_type: str | None
    monitor_type_zh: str | None
    dismissed_reason: str | None
    eliminated_at: datetime | None
    income_checks: list[IncomeCheckView]

    @classmethod
    def of(cls, alert: RiskAlert, timing: review.Timeliness) -> AlertView:
        return cls(
            id=alert.id,
            household_id=alert.household_id,
            village_code=alert.village_code,
            period=alert.period,
            status=alert.status,
            status_zh=label_zh(alert.status),
            score=alert.score,
            latest_score=alert.latest_score,
            model_version=alert.model_version,
            reasons=list(alert.reasons),
            reasons_zh=[label_zh(r) for r in alert.reasons],
            factors_zh=list(alert.factors_zh),
            factors_en=list(alert.factors_en),
            created_at=alert.created_at,
            due_at=timing.due_at,
            overdue=timing.overdue,
            late_steps=list(timing.late_steps),
            next_steps=[a.value for a in review.allowed_actions(alert.status)],
            accepted_at=alert.accepted_at,
            visited_at=alert.visited_at,
            visit_findings=alert.visit_findings,
            verified_income=alert.verified_income,
            data_matches=alert.data_matches,
            appraisal=alert.appraisal,
            notice_start=alert.notice_start,
            notice_ends=review.notice_ends(alert),
            town_reviewed_at=alert.town_reviewed_at,
            town_note=alert.town_note,
            decided_at=alert.decided_at,
            monitor_type=alert.monitor_type,
            monitor_type_zh=label_zh(alert.monitor_type) if alert.monitor_type else None,
            dismissed_reason=alert.dismissed_reason,
            eliminated_at=alert.eliminated_at,
            income_checks=[
                IncomeCheckView(checked_on=c.checked_on, per_capita_income=c.per_capita_income)
                for c in alert.income_checks
            ],
        )


class AlertPageView(View):
    items: list[AlertView]
    total: int
    page: int
    page_size: int


class NoticeView(View):
    """The public notice (公示) as posted in the village: no ID numbers, phones, bank or
    health details."""

    alert_id: str
    text_zh: str
    text_en: str


class AlertCounts(View):
    """Alerts of a region by status (AlertStatus values, in the procedure's order)."""

    region_code: str
    counts: dict[str, int]


def actor_of(caller: Caller) -> review.Actor:
    return review.Actor(
        principal=caller.principal, prefixes=caller.prefixes, request_id=caller.request_id
    )


class RiskReview:
    """The routes' one call each: caller in, view out."""

    def __init__(self, service: AlertService) -> None:
        self.service = service

    def _view(self, alert: RiskAlert) -> AlertView:
        return AlertView.of(alert, self.service.timeliness(alert))

    def list(
        self, caller: Caller, query: AlertQuery, overdue: bool, page: int, size: int
    ) -> AlertPageView:
        result = self.service.list(actor_of(caller), query, overdue=overdue)
        return AlertPageView(
            items=[self._view(a) for a in result.items],
            total=result.total,
            page=page,
            page_size=size,
        )

    def get(self, caller: Caller, alert_id: str) -> AlertView:
        return self._view(self.service.get(actor_of(caller), alert_id))

    def status_counts(self, caller: Caller, region_code: str) -> AlertCounts:
        """How many of the region's alerts are at each step (one count per status)."""
        actor = actor_of(caller)
        counts = {
            status.value: self.service.list(
                actor, AlertQuery(statuses=(status.value,), region_code=region_code, limit=1)
            ).total
            for status in AlertStatus
        }
        return AlertCounts(region_code=region_code, counts=counts)

    def notice(self, caller: Caller, alert_id: str) -> NoticeView:
        zh, en = self.service.public_notice(actor_of(caller), alert_id)
        return NoticeView(alert_id=alert_id, text_zh=zh, text_en=en)

    def accept(self, caller: Caller, alert_id: str) -> AlertView:
        return self._view(self.service.accept(actor_of(caller), alert_id))

    def visit(self, caller: Caller, alert_id: str, body: review.Visit) -> AlertView:
        return self._view(self.service.visit(actor_of(caller), alert_id, body))

    def start_notice(self, caller: Caller, alert_id: str, body: review.Notice) -> AlertView:
        return self._view(self.service.start_notice(actor_of(caller), alert_id, body))

    def town_review(self, caller: Caller, alert_id: str, body: review.TownReview) -> AlertView:
        return self._view(self.service.town_review(actor_of(caller), alert_id, body))

    def confirm(self, caller: Caller, alert_id: str, body: review.Decision) -> AlertView:
        return self._view(self.service.confirm(actor_of(caller), alert_id, body))

    def dismiss(self, caller: Caller, alert_id: str, body: review.Dismissal) -> AlertView:
        return self._view(self.service.dismiss(actor_of(caller), alert_id, body))

    def record_income(self, caller: Caller, alert_id: str, body: review.IncomeCheckIn) -> AlertView:
        return self._view(self.service.record_income(actor_of(caller), alert_id, body))

    def eliminate(self, caller: Caller, alert_id: str, body: review.Elimination) -> AlertView:
        return self._view(self.service.eliminate(actor_of(caller), alert_id, body))


def risk_review(graph: Graph) -> RiskReview:
    return RiskReview(
        AlertService(RiskRepository(graph), AuditRepository(graph), get_settings().risk)
    )


Risk = Annotated[RiskReview, Depends(risk_review)]

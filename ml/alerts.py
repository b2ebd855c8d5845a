"""Officials' review of risk alerts: list their region's alerts, read one and its public
notice, and move it through the monitoring procedure (ml/review.py decides each step).

Every step runs in one transaction with its audit event (graph/repositories/risk.py); a step
refused because the alert lies outside the caller's region or the caller's level is too low is
audited as denied before the error goes up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from bangfu.errors import NotFoundError, PermissionDeniedError
from bangfu.settings import RiskSettings
from graph.models import (
    AlertChange,
    AlertPage,
    AlertQuery,
    AlertState,
    AuditEntry,
    AuditOutcome,
    RiskAlert,
)
from graph.repositories.audit import AuditRepository
from graph.repositories.risk import RiskRepository
from ml import review
from ml.review import Actor, Decider, ReviewAction

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class AlertService:
    def __init__(
        self,
        repo: RiskRepository,
        audit: AuditRepository,
        settings: RiskSettings,
        clock: Clock = _now,
    ) -> None:
        self.repo = repo
        self.audit = audit
        self.settings = settings
        self.clock = clock

    # --- reads -------------------------------------------------------------------------------

    def list(self, actor: Actor, query: AlertQuery, overdue: bool = False) -> AlertPage:
        if overdue:
            query = query.model_copy(update={"overdue_at": self.clock()})
        return self.repo.list_alerts(query, actor.prefixes, review.OPEN_STATUSES)

    def get(self, actor: Actor, alert_id: str) -> RiskAlert:
        return self.repo.get_in_scope(alert_id, actor.prefixes)

    def timeliness(self, alert: RiskAlert) -> review.Timeliness:
        return review.timeliness(alert, self.clock(), self.settings)

    def public_notice(self, actor: Actor, alert_id: str) -> tuple[str, str]:
        state = self.repo.state_in_scope(alert_id, actor.prefixes, self.clock().date())
        return review.public_notice(state, self.settings)

    # --- steps -------------------------------------------------------------------------------

    def accept(self, actor: Actor, alert_id: str) -> RiskAlert:
        decide = review.decide_accept(actor, self.clock(), self.settings)
        return self._step(actor, ReviewAction.ACCEPT, alert_id, decide)

    def visit(self, actor: Actor, alert_id: str, visit: review.Visit) -> RiskAlert:
        decide = review.decide_visit(actor, visit, self.clock(), self.settings)
        return self._step(actor, ReviewAction.VISIT, alert_id, decide)

    def start_notice(self, actor: Actor, alert_id: str, notice: review.Notice) -> RiskAlert:
        decide = review.decide_notice(actor, notice, self.clock(), self.settings)
        return self._step(actor, ReviewAction.NOTICE, alert_id, decide)

    def town_review(self, actor: Actor, alert_id: str, note: review.TownReview) -> RiskAlert:
        decide = review.decide_town_review(actor, note, self.clock(), self.settings)
        return self._step(actor, ReviewAction.TOWN_REVIEW, alert_id, decide)

    def confirm(self, actor: Actor, alert_id: str, decision: review.Decision) -> RiskAlert:
        decide = review.decide_confirm(actor, decision, self.clock(), self.settings)
        return self._step(actor, ReviewAction.CONFIRM, alert_id, decide)

    def dismiss(self, actor: Actor, alert_id: str, dismissal: review.Dismissal) -> RiskAlert:
        decide = review.decide_dismiss(actor, dismissal, self.clock(), self.settings)
        return self._step(actor, ReviewAction.DISMISS, alert_id, decide, reason=dismissal.reason)

    def record_income(self, actor: Actor, alert_id: str, check: review.IncomeCheckIn) -> RiskAlert:
        decide = review.decide_record_income(actor, check, self.clock(), self.settings)
        return self._step(actor, ReviewAction.RECORD_INCOME, alert_id, decide)

    def eliminate(self, actor: Actor, alert_id: str, elimination: review.Elimination) -> RiskAlert:
        decide = review.decide_eliminate(actor, elimination, self.clock(), self.settings)
        return self._step(actor, ReviewAction.ELIMINATE, alert_id, decide)

    # --- the one way a step is written -----------------------------------------------------

    def _step(
        self,
        actor: Actor,
        action: ReviewAction,
        alert_id: str,
        decide: Decider,
        reason: str | None = None,
    ) -> RiskAlert:
        def audit(state: AlertState, change: AlertChange) -> AuditEntry:
            return AuditEntry(
                actor_id=actor.principal.user_id,
                actor_role=actor.principal.role.value,
                action=f"risk_alert.{action.value}",
                subject_type="risk_alert",
                subject_id=alert_id,
                reason=reason,
                before={"status": state.alert.status, "household_status": state.household_status},
                after={
                    **change.response,
                    **{k: v for k, v in change.alert_props.items() if k != "updated_at"},
                },
                request_id=actor.request_id,
            )

        with self._denials_audited(actor, action, alert_id):
            self.repo.change(alert_id, actor.prefixes, self.clock().date(), decide, audit)
        return self.repo.get_in_scope(alert_id, actor.prefixes)

    @contextmanager
    def _denials_audited(self, actor: Actor, action: ReviewAction, alert_id: str) -> Iterator[None]:
        try:
            yield
        except (NotFoundError, PermissionDeniedError) as exc:
            self.audit.append(
                AuditEntry(
                    actor_id=actor.principal.user_id,
                    actor_role=actor.principal.role.value,
                    action=f"risk_alert.{action.value}",
                    subject_type="risk_alert",
                    subject_id=alert_id,
                    outcome=AuditOutcome.DENIED,
                    reason=exc.code,
                    request_id=actor.request_id,
                )
            )
            raise

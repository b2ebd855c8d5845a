"""Projects (扶贫项目) as a service: list and read a region's projects, propose, approve or
reject, record milestones, money by source, beneficiaries and their income effect, and check for
anomalies. Every change runs under the project's lock with its audit event in one transaction
(graph/repositories/projects.py); matching/project_lifecycle.py decides each change. A change
refused because the project lies outside the caller's region or the caller may not take it is
audited as denied before the error goes up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from bangfu.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from bangfu.settings import ProjectSettings
from bangfu.vocabulary import ProjectAnomaly, ProjectStage, label_zh
from graph.models import AuditEntry, AuditOutcome
from graph.project_records import (
    AnomalyFlag,
    ProjectChange,
    ProjectDetails,
    ProjectPage,
    ProjectQuery,
    ProjectState,
)
from graph.repositories.audit import AuditRepository
from graph.repositories.projects import ProjectRepository
from matching import project_lifecycle as lifecycle
from matching.project_lifecycle import Actor, Decider, ProjectAction, ProjectDraft

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _snapshot(state: ProjectState) -> dict[str, object]:
    return {
        "stage": state.project.stage.value,
        "version": state.version,
        "progress_pct": state.progress_pct,
        "funds_allocated": state.project.funds_allocated,
        "funds_disbursed": state.project.funds_disbursed,
        "beneficiaries": len(state.beneficiaries),
    }


class ProjectService:
    def __init__(
        self,
        repo: ProjectRepository,
        audit: AuditRepository,
        settings: ProjectSettings,
        clock: Clock = _now,
    ) -> None:
        self.repo = repo
        self.audit = audit
        self.settings = settings
        self.clock = clock

    # --- reads -------------------------------------------------------------------------------

    def browse(self, actor: Actor, query: ProjectQuery) -> ProjectPage:
        return self.repo.list_in_scope(query, actor.prefixes)

    def get(self, actor: Actor, project_id: str) -> ProjectDetails:
        return self.repo.details_in_scope(project_id, actor.prefixes)

    def anomalies(
        self, actor: Actor, rule: ProjectAnomaly | None = None, as_of: date | None = None
    ) -> list[AnomalyFlag]:
        """The checks run now over the caller's region (always current; the nightly scan
        stores the same findings per county, see `stored_flags`)."""
        s = self.settings
        day = as_of or self.clock().date()
        if not lifecycle.EARLIEST <= day <= lifecycle.LATEST:
            raise InvalidInputError(
                f"as_of lies between {lifecycle.EARLIEST} and {lifecycle.LATEST}",
                message_zh="核查日期须在2000年至2100年之间",
            )
        flags = self.repo.anomalies(
            actor.prefixes,
            day,
            s.advance_share,
            s.stall_days,
            s.eligible_statuses,
            s.max_projects_per_household,
            timeout_s=60,
        )
        return [f for f in flags if rule is None or f.rule is rule]

    def stored_flags(self, actor: Actor, rule: ProjectAnomaly | None = None) -> list[AnomalyFlag]:
        return self.repo.stored_flags(actor.prefixes, rule)

    # --- proposal ----------------------------------------------------------------------------

    def propose(self, actor: Actor, draft: ProjectDraft) -> ProjectDetails:
        now = self.clock()
        with self._denials_audited(actor, "project.propose", draft.region_code):
            lifecycle.check_propose(actor.principal, draft.region_code)
            if not any(draft.region_code.startswith(p) for p in actor.prefixes):
                raise NotFoundError(
                    f"region {draft.region_code} not found", message_zh="未找到该地区"
                )
        village = draft.region_code if len(draft.region_code) == 12 else None
        props: dict[str, object] = {
            "id": f"P-{uuid.uuid4().hex[:16]}",
            "name": draft.name.strip(),
            "type": draft.type.value,
            "stage": ProjectStage.PROPOSED.value,
            "county_code": draft.region_code[:6],
            "village_code": village,
            # The planned main source, in words as the generator's projects carry it; money is
            # recorded per source once allocated.
            "fund_source": label_zh(draft.main_source.value),
            "main_source": draft.main_source.value,
            "budget": round(draft.budget, 2),
            "funds_allocated": 0.0,
            "funds_disbursed": 0.0,
            "progress_pct": 0,
            "managing_body": draft.managing_body.strip(),
            "operating_body": draft.operating_body.strip(),
            "supervising_body": draft.supervising_body.strip(),
            "start_date": draft.start_date,
            "proposed_by": actor.principal.user_id,
            "proposed_at": now,
            "version": 1,
        }
        props = {k: v for k, v in props.items() if v is not None}

        def audit(project_id: str) -> AuditEntry:
            return AuditEntry(
                actor_id=actor.principal.user_id,
                actor_role=actor.principal.role.value,
                action="project.propose",
                subject_type="project",
                subject_id=project_id,
                after={k: v for k, v in props.items() if k != "proposed_at"},
                request_id=actor.request_id,
            )

        with self._denials_audited(actor, "project.propose", draft.region_code):
            project_id = self.repo.create(props, draft.region_code, audit)
        return self.repo.details_in_scope(project_id, actor.prefixes)

    # --- steps -------------------------------------------------------------------------------

    def approve(self, actor: Actor, project_id: str, body: lifecycle.DecisionIn) -> ProjectDetails:
        decide = lifecycle.decide_approve(actor, body, self.clock(), self.settings)
        return self._step(actor, ProjectAction.APPROVE, project_id, decide)

    def reject(self, actor: Actor, project_id: str, body: lifecycle.RejectionIn) -> ProjectDetails:
        decide = lifecycle.decide_reject(actor, body, self.clock(), self.settings)
        return self._step(actor, ProjectAction.REJECT, project_id, decide, reason=body.reason)

    def add_milestone(
        self, actor: Actor, project_id: str, body: lifecycle.MilestoneIn
    ) -> ProjectDetails:
        decide = lifecycle.decide_add_milestone(actor, body, self.clock(), self.settings)
        return self._step(actor, ProjectAction.ADD_MILESTONE, project_id, decide)

    def achieve_milestone(
        self, actor: Actor, project_id: str, milestone_id: str, body: lifecycle.AchievementIn
    ) -> ProjectDetails:
        decide = lifecycle.decide_achieve_milestone(
            actor, milestone_id, body, self.clock(), self.settings
        )
        return self._step(actor, ProjectAction.ACHIEVE_MILESTONE, project_id, decide)

    def step(
        self, actor: Actor, project_id: str, action: ProjectAction, body: lifecycle.StepIn
    ) -> ProjectDetails:
        decide = lifecycle.decide_step(actor, action, body, self.clock(), self.settings)
        return self._step(actor, action, project_id, decide)

    def funds(
        self, actor: Actor, project_id: str, action: ProjectAction, body: lifecycle.FundsIn
    ) -> ProjectDetails:
        decide = lifecycle.decide_funds(actor, action, body, self.clock(), self.settings)
        return self._step(actor, action, project_id, decide)

    def add_beneficiaries(
        self, actor: Actor, project_id: str, body: lifecycle.BeneficiariesIn
    ) -> ProjectDetails:
        decide = lifecycle.decide_add_beneficiaries(actor, body, self.clock(), self.settings)
        return self._step(
            actor, ProjectAction.ADD_BENEFICIARIES, project_id, decide, body.household_ids
        )

    def report_income(
        self, actor: Actor, project_id: str, body: lifecycle.IncomeIn
    ) -> ProjectDetails:
        decide = lifecycle.decide_report_income(actor, body, self.clock(), self.settings)
        return self._step(actor, ProjectAction.REPORT_INCOME, project_id, decide)

    # --- the one way a change is written -------------------------------------------------------

    def _step(
        self,
        actor: Actor,
        action: ProjectAction,
        project_id: str,
        decide: Decider,
        candidate_ids: tuple[str, ...] = (),
        reason: str | None = None,
    ) -> ProjectDetails:
        def audit(state: ProjectState, change: ProjectChange) -> AuditEntry:
            return AuditEntry(
                actor_id=actor.principal.user_id,
                actor_role=actor.principal.role.value,
                action=f"project.{action.value}",
                subject_type="project",
                subject_id=project_id,
                reason=reason,
                before=_snapshot(state),
                after=change.response,
                request_id=actor.request_id,
            )

        with self._denials_audited(actor, f"project.{action.value}", project_id):
            self.repo.change(project_id, actor.prefixes, decide, audit, candidate_ids)
        return self.repo.details_in_scope(project_id, actor.prefixes)

    @contextmanager
    def _denials_audited(self, actor: Actor, action: str, subject_id: str) -> Iterator[None]:
        try:
            yield
        except (NotFoundError, PermissionDeniedError) as exc:
            self.audit.append(
                AuditEntry(
                    actor_id=actor.principal.user_id,
                    actor_role=actor.principal.role.value,
                    action=action,
                    subject_type="project",
                    subject_id=subject_id,
                    outcome=AuditOutcome.DENIED,
                    reason=exc.code,
                    request_id=actor.request_id,
                )
            )
            raise

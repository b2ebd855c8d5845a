"""Exits (退出) as officials use them: compute the proposals of a region, list and read them,
approve or reject one. Every run and every decision is audited in the transaction that writes
it; a decision changes the household's status (exited) or marks the village 出列.

Proposals are computed in the request for the caller's region, reading its poor and monitored
households: seconds for a county (~900 such households). A province-wide run would belong in a
chunked job like the cross-check; not built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from bangfu.errors import NotFoundError, PermissionDeniedError
from bangfu.settings import RiskSettings
from graph.models import AuditEntry, AuditOutcome, ExitPage, ExitProposal, ExitQuery
from graph.repositories.audit import AuditRepository
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.exits import ExitRepository
from verification import exits
from verification import sources as src
from verification.jobs import sources_of_county
from verification.service import Actor

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class ProposalRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str
    as_of: date
    households_judged: int
    households_proposed: int
    villages_judged: int
    villages_proposed: int
    new_proposals: int


class ExitService:
    def __init__(
        self,
        repo: ExitRepository,
        checks: CrossCheckRepository,
        audit: AuditRepository,
        settings: RiskSettings,
        clock: Clock = _now,
    ) -> None:
        self.repo = repo
        self.checks = checks
        self.audit = audit
        self.settings = settings
        self.clock = clock

    def propose(self, actor: Actor, region: str | None, as_of: date | None = None) -> ProposalRun:
        target = region if region is not None else (actor.principal.region_code or "")
        if not actor.covers(target) or len(target) < 2:
            # A province-wide run is a job's work; a region of at least a province is required.
            raise NotFoundError(f"region {target} not found", message_zh="未找到该区划")
        now = self.clock()
        day = as_of or now.date()
        by_region = self.checks.sources_by_region(target, src.PRESENCE_SOURCES)
        # Sources per county; a run inside one county (the usual case) has one context.
        drafts = []
        households = self.repo.households(target, day.year, _school_year(day))
        villages = self.repo.villages(target)
        rules_of: dict[str, exits.ExitRules] = {}

        def rules(code: str) -> exits.ExitRules:
            county = code[:6]
            if county not in rules_of:
                rules_of[county] = exits.ExitRules(
                    as_of=day,
                    income_line=self.settings.monitoring_line(county, day.year),
                    sources_present=sources_of_county(county, by_region),
                )
            return rules_of[county]

        for h in households:
            if (p := exits.household_proposal(h, rules(h.village_code))) is not None:
                drafts.append(p)
        household_count = len(drafts)
        for v in villages:
            if (p := exits.village_proposal(v, rules(v.village_code))) is not None:
                drafts.append(p)
        audit = AuditEntry(
            actor_id=actor.principal.user_id,
            actor_role=actor.principal.role.value,
            action="exit.propose",
            subject_type="region",
            subject_id=target,
            after={
                "as_of": day.isoformat(),
                "households": household_count,
                "villages": len(drafts) - household_count,
            },
            request_id=actor.request_id,
        )
        created = self.repo.save(drafts, actor.principal.user_id, now, audit)
        return ProposalRun(
            region=target,
            as_of=day,
            households_judged=len(households),
            households_proposed=household_count,
            villages_judged=len(villages),
            villages_proposed=len(drafts) - household_count,
            new_proposals=created,
        )

    def list(self, actor: Actor, query: ExitQuery) -> ExitPage:
        return self.repo.list(query, actor.prefixes)

    def get(self, actor: Actor, proposal_id: str) -> ExitProposal:
        return self.repo.get_in_scope(proposal_id, actor.prefixes)

    def decide(self, actor: Actor, proposal_id: str, body: exits.ExitDecision) -> ExitProposal:
        now = self.clock()

        def choose(
            proposal: ExitProposal,
        ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            change = exits.decide(proposal, body, actor.principal, now)
            return change.proposal_props, change.household_props, change.village_props

        def audit(proposal: ExitProposal, written: dict[str, Any]) -> AuditEntry:
            return AuditEntry(
                actor_id=actor.principal.user_id,
                actor_role=actor.principal.role.value,
                action=f"exit.{body.decision}",
                subject_type=f"exit_{proposal.kind.value}",
                subject_id=proposal.id,
                reason=body.note,
                before={"status": proposal.status.value, "subject_id": proposal.subject_id},
                after={k: v for k, v in written.items() if k != "decision_note"},
                request_id=actor.request_id,
            )

        try:
            return self.repo.decide(proposal_id, actor.prefixes, choose, audit)
        except PermissionDeniedError:
            # Refused for the caller's level: the attempt is on the trail too.
            self.audit.append(
                AuditEntry(
                    actor_id=actor.principal.user_id,
                    actor_role=actor.principal.role.value,
                    action=f"exit.{body.decision}",
                    subject_type="exit_proposal",
                    subject_id=proposal_id,
                    outcome=AuditOutcome.DENIED,
                    reason="below_county_level",
                    request_id=actor.request_id,
                )
            )
            raise


def _school_year(day: date) -> int:
    return day.year if day.month >= 9 else day.year - 1

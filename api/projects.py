"""Projects for the routes: the service dependency, the routes' one call each, and one response
model per audience.

- `ProjectView` with `beneficiaries` and `income_effects` listed per household: officials and
  field workers of the region, admins (api/policy.py `sees_beneficiaries`). Households are named
  by their internal id with village and status; names, ID numbers and phones never appear here.
- The same model for charities, federations and helper units, with those two lists left out
  (null): they get the number of beneficiary households and income totals per year, so a
  project's effect is public without saying who received it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Graph
from api.policy import sees_beneficiaries
from bangfu.access import Principal
from bangfu.settings import get_settings
from bangfu.vocabulary import ProjectAnomaly, label_zh
from graph.project_records import (
    AnomalyFlag,
    ProjectDetails,
    ProjectQuery,
    ProjectSummary,
)
from graph.repositories.audit import AuditRepository
from graph.repositories.projects import ProjectRepository
from matching import project_lifecycle as lifecycle
from matching.needs import Caller
from matching.project_lifecycle import ProjectAction
from matching.projects import ProjectService


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class MilestoneView(View):
    id: str
    seq: int
    name: str
    planned_date: date
    achieved_date: date | None
    progress_pct: int


class FundView(View):
    source: str
    source_zh: str
    allocated: float
    disbursed: float


class BeneficiaryView(View):
    household_id: str
    village_code: str
    status: str
    status_zh: str


class IncomeEffectView(View):
    household_id: str
    year: int
    amount: float


class IncomeYearView(View):
    year: int
    households: int
    total: float


class ProjectSummaryView(View):
    id: str
    name: str
    type: str
    type_zh: str
    stage: str
    stage_zh: str
    county_code: str
    village_code: str | None
    funds_allocated: float
    funds_disbursed: float
    progress_pct: int
    beneficiary_count: int
    version: int

    @classmethod
    def of(cls, s: ProjectSummary) -> ProjectSummaryView:
        p = s.project
        return cls(
            id=p.id,
            name=p.name,
            type=p.type.value,
            type_zh=label_zh(p.type.value),
            stage=p.stage.value,
            stage_zh=label_zh(p.stage.value),
            county_code=p.county_code,
            village_code=p.village_code,
            funds_allocated=p.funds_allocated,
            funds_disbursed=p.funds_disbursed,
            progress_pct=s.progress_pct,
            beneficiary_count=s.beneficiaries,
            version=s.version,
        )


class ProjectPageView(View):
    items: list[ProjectSummaryView]
    total: int
    page: int
    page_size: int


class ProjectView(View):
    id: str
    name: str
    type: str
    type_zh: str
    stage: str
    stage_zh: str
    county_code: str
    village_code: str | None
    version: int = Field(description="send it back as expected_version to change the project")
    budget: float
    fund_source: str
    funds_allocated: float
    funds_disbursed: float
    progress_pct: int
    managing_body: str
    operating_body: str
    supervising_body: str
    start_date: date
    approved_at: date | None
    last_milestone_at: date | None
    milestones: list[MilestoneView]
    funds: list[FundView]
    beneficiary_count: int
    income_by_year: list[IncomeYearView]
    beneficiaries: list[BeneficiaryView] | None = Field(
        description="null for roles that may not see which households benefit"
    )
    income_effects: list[IncomeEffectView] | None
    proposed_by_you: bool = Field(
        default=False, description="the caller proposed it, so another official decides on it"
    )

    @classmethod
    def of(cls, d: ProjectDetails, principal: Principal) -> ProjectView:
        p = d.project
        identified = sees_beneficiaries(principal)
        years: dict[int, list[float]] = {}
        for e in d.income_effects:
            years.setdefault(e.year, []).append(e.amount)
        return cls(
            id=p.id,
            name=p.name,
            type=p.type.value,
            type_zh=label_zh(p.type.value),
            stage=p.stage.value,
            stage_zh=label_zh(p.stage.value),
            county_code=p.county_code,
            village_code=p.village_code,
            version=d.version,
            budget=d.budget,
            fund_source=p.fund_source,
            funds_allocated=p.funds_allocated,
            funds_disbursed=p.funds_disbursed,
            progress_pct=d.progress_pct,
            managing_body=p.managing_body,
            operating_body=p.operating_body,
            supervising_body=p.supervising_body,
            proposed_by_you=d.proposed_by is not None and d.proposed_by == principal.user_id,
            start_date=p.start_date,
            approved_at=d.approved_at,
            last_milestone_at=d.last_milestone_at,
            milestones=[MilestoneView.model_validate(m.model_dump()) for m in d.milestones],
            funds=[
                FundView(
                    source=f.source.value,
                    source_zh=label_zh(f.source.value),
                    allocated=f.allocated,
                    disbursed=f.disbursed,
                )
                for f in d.funds
            ],
            beneficiary_count=len(d.beneficiaries),
            income_by_year=[
                IncomeYearView(year=y, households=len(v), total=round(sum(v), 2))
                for y, v in sorted(years.items())
            ],
            beneficiaries=(
                [
                    BeneficiaryView(
                        household_id=b.household_id,
                        village_code=b.village_code,
                        status=b.status,
                        status_zh=label_zh(b.status),
                    )
                    for b in d.beneficiaries
                ]
                if identified
                else None
            ),
            income_effects=(
                [
                    IncomeEffectView(household_id=e.household_id, year=e.year, amount=e.amount)
                    for e in d.income_effects
                ]
                if identified
                else None
            ),
        )


class AnomalyView(View):
    id: str
    rule: str
    rule_zh: str
    project_id: str | None
    household_id: str | None
    county_code: str
    region_code: str
    evidence: dict[str, Any]

    @classmethod
    def of(cls, f: AnomalyFlag) -> AnomalyView:
        return cls(
            id=f.id,
            rule=f.rule.value,
            rule_zh=label_zh(f.rule.value),
            project_id=f.project_id,
            household_id=f.household_id,
            county_code=f.county_code,
            region_code=f.region_code,
            evidence=f.evidence,
        )


class AnomalyListView(View):
    source: str = Field(description="'live': checked now; 'scan': stored by the nightly scan")
    items: list[AnomalyView]


def actor_of(caller: Caller) -> lifecycle.Actor:
    return lifecycle.Actor(
        principal=caller.principal, prefixes=caller.prefixes, request_id=caller.request_id
    )


class ProjectDesk:
    """The routes' one call each: caller in, view out."""

    def __init__(self, service: ProjectService) -> None:
        self.service = service

    def list(self, caller: Caller, query: ProjectQuery, page: int, size: int) -> ProjectPageView:
        result = self.service.browse(actor_of(caller), query)
        return ProjectPageView(
            items=[ProjectSummaryView.of(s) for s in result.items],
            total=result.total,
            page=page,
            page_size=size,
        )

    def get(self, caller: Caller, project_id: str) -> ProjectView:
        return ProjectView.of(self.service.get(actor_of(caller), project_id), caller.principal)

    def propose(self, caller: Caller, draft: lifecycle.ProjectDraft) -> ProjectView:
        return ProjectView.of(self.service.propose(actor_of(caller), draft), caller.principal)

    def approve(self, caller: Caller, project_id: str, body: lifecycle.DecisionIn) -> ProjectView:
        details = self.service.approve(actor_of(caller), project_id, body)
        return ProjectView.of(details, caller.principal)

    def reject(self, caller: Caller, project_id: str, body: lifecycle.RejectionIn) -> ProjectView:
        details = self.service.reject(actor_of(caller), project_id, body)
        return ProjectView.of(details, caller.principal)

    def add_milestone(
        self, caller: Caller, project_id: str, body: lifecycle.MilestoneIn
    ) -> ProjectView:
        details = self.service.add_milestone(actor_of(caller), project_id, body)
        return ProjectView.of(details, caller.principal)

    def achieve_milestone(
        self, caller: Caller, project_id: str, milestone_id: str, body: lifecycle.AchievementIn
    ) -> ProjectView:
        details = self.service.achieve_milestone(actor_of(caller), project_id, milestone_id, body)
        return ProjectView.of(details, caller.principal)

    def step(
        self, caller: Caller, project_id: str, action: ProjectAction, body: lifecycle.StepIn
    ) -> ProjectView:
        details = self.service.step(actor_of(caller), project_id, action, body)
        return ProjectView.of(details, caller.principal)

    def funds(
        self, caller: Caller, project_id: str, action: ProjectAction, body: lifecycle.FundsIn
    ) -> ProjectView:
        details = self.service.funds(actor_of(caller), project_id, action, body)
        return ProjectView.of(details, caller.principal)

    def add_beneficiaries(
        self, caller: Caller, project_id: str, body: lifecycle.BeneficiariesIn
    ) -> ProjectView:
        details = self.service.add_beneficiaries(actor_of(caller), project_id, body)
        return ProjectView.of(details, caller.principal)

    def report_income(
        self, caller: Caller, project_id: str, body: lifecycle.IncomeIn
    ) -> ProjectView:
        details = self.service.report_income(actor_of(caller), project_id, body)
        return ProjectView.of(details, caller.principal)

    def anomalies(
        self, caller: Caller, rule: ProjectAnomaly | None, as_of: date | None, stored: bool
    ) -> AnomalyListView:
        actor = actor_of(caller)
        if stored:
            flags = self.service.stored_flags(actor, rule)
        else:
            flags = self.service.anomalies(actor, rule, as_of)
        return AnomalyListView(
            source="scan" if stored else "live", items=[AnomalyView.of(f) for f in flags]
        )


def project_desk(graph: Graph) -> ProjectDesk:
    return ProjectDesk(
        ProjectService(ProjectRepository(graph), AuditRepository(graph), get_settings().projects)
    )


Projects = Annotated[ProjectDesk, Depends(project_desk)]

"""The project chain's pure decisions: stages, who may take each step, money limits, milestones,
beneficiaries and income effects, the optimistic version. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from bangfu.settings import ProjectSettings
from bangfu.vocabulary import FundSource, ProjectStage, ProjectType
from graph.models import Project
from graph.project_records import Beneficiary, FundLine, Milestone, ProjectState
from matching import project_lifecycle as lc
from matching.project_lifecycle import (
    TRANSITIONS,
    Actor,
    InvalidProjectStepError,
    ProjectAction,
    StaleVersionError,
    allowed_actions,
    next_stage,
)

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SETTINGS = ProjectSettings(county_approval_limit=5_000_000)
COUNTY = "440223"
VILLAGE = "440223101001"


def actor(role: Role = Role.OFFICIAL, region: str = COUNTY, user: str = "u-approver") -> Actor:
    principal = Principal(user_id=user, username=user, role=role, region_code=region)
    return Actor(principal=principal, prefixes=(region,))


def state(
    stage: ProjectStage = ProjectStage.PROPOSED,
    budget: float = 1_000_000,
    allocated: float = 0,
    disbursed: float = 0,
    version: int = 3,
    milestones: tuple[Milestone, ...] = (),
    funds: tuple[FundLine, ...] = (),
    beneficiaries: tuple[Beneficiary, ...] = (),
    progress: int = 0,
    proposed_by: str = "u-proposer",
) -> ProjectState:
    project = Project(
        id="P1",
        name="甲村蜜柚种植基地建设项目",
        type=ProjectType.INDUSTRY,
        stage=stage,
        county_code=COUNTY,
        village_code=VILLAGE,
        fund_source="中央财政资金",
        funds_allocated=allocated,
        funds_disbursed=disbursed,
        managing_body="甲县农业农村局",
        operating_body="甲村股份经济合作社",
        supervising_body="甲县纪委监委",
        start_date=date(2026, 1, 1),
    )
    return ProjectState(
        project=project,
        version=version,
        progress_pct=progress,
        budget=budget,
        proposed_by=proposed_by,
        milestones=milestones,
        funds=funds,
        beneficiaries=beneficiaries,
    )


def milestone(seq: int, pct: int, achieved: date | None = None) -> Milestone:
    return Milestone(
        id=f"P1-M{seq:02d}",
        project_id="P1",
        seq=seq,
        name=f"第{seq}阶段",
        planned_date=date(2026, seq, 1),
        achieved_date=achieved,
        progress_pct=pct,
    )


def test_the_happy_path_walks_every_stage() -> None:
    stage = ProjectStage.PROPOSED
    for action, expected in [
        (ProjectAction.APPROVE, ProjectStage.APPROVED),
        (ProjectAction.ADD_MILESTONE, ProjectStage.APPROVED),
        (ProjectAction.ACHIEVE_MILESTONE, ProjectStage.IMPLEMENTATION),
        (ProjectAction.START_OPERATION, ProjectStage.OPERATION),
        (ProjectAction.COMPLETE, ProjectStage.COMPLETED),
    ]:
        stage = next_stage(stage, action)
        assert stage is expected


def test_rejected_and_completed_projects_allow_nothing_that_changes_them() -> None:
    assert allowed_actions(ProjectStage.REJECTED) == []
    assert allowed_actions(ProjectStage.COMPLETED) == [ProjectAction.REPORT_INCOME]
    with pytest.raises(InvalidProjectStepError) as info:
        next_stage(ProjectStage.REJECTED, ProjectAction.APPROVE)
    assert "rejected" in info.value.message and info.value.message_zh


def test_no_money_before_approval() -> None:
    for action in (ProjectAction.ALLOCATE, ProjectAction.DISBURSE):
        assert ProjectStage.PROPOSED not in TRANSITIONS[action]


def test_approval_by_a_county_official_records_who_and_when() -> None:
    change = lc.decide_approve(actor(), lc.DecisionIn(note="同意"), NOW, SETTINGS)(state(), ())
    assert change.project_props["stage"] == "approved"
    assert change.project_props["approved_by"] == "u-approver"
    assert change.project_props["approved_at"] == NOW.date()
    assert change.project_props["version"] == 4
    assert change.response["from_stage"] == "proposed" and change.response["version"] == 4


@pytest.mark.parametrize(
    ("role", "region", "user", "budget"),
    [
        (Role.OFFICIAL, "440223101", "u-approver", 1_000_000),  # a town official
        (Role.FIELD_WORKER, VILLAGE, "u-approver", 1_000_000),
        (Role.OFFICIAL, COUNTY, "u-proposer", 1_000_000),  # the proposer
        (Role.OFFICIAL, COUNTY, "u-approver", 6_000_000),  # over the county's limit
        (Role.CHARITY, COUNTY, "u-approver", 1_000_000),
    ],
)
def test_who_may_not_approve(role: Role, region: str, user: str, budget: float) -> None:
    decide = lc.decide_approve(actor(role, region, user), lc.DecisionIn(), NOW, SETTINGS)
    with pytest.raises(PermissionDeniedError):
        decide(state(budget=budget), ())


def test_a_city_official_approves_over_the_county_limit() -> None:
    decide = lc.decide_approve(actor(region="4402"), lc.DecisionIn(), NOW, SETTINGS)
    assert decide(state(budget=6_000_000), ()).project_props["stage"] == "approved"


def test_a_stale_version_is_refused_and_a_second_approval_is_a_conflict() -> None:
    with pytest.raises(StaleVersionError):
        lc.decide_approve(actor(), lc.DecisionIn(expected_version=2), NOW, SETTINGS)(state(), ())
    approved = state(stage=ProjectStage.APPROVED)
    with pytest.raises(InvalidProjectStepError):
        lc.decide_approve(actor(), lc.DecisionIn(), NOW, SETTINGS)(approved, ())


def test_proposals_belong_to_a_village_or_a_county() -> None:
    lc.check_propose(actor().principal, VILLAGE)
    lc.check_propose(actor().principal, COUNTY)
    with pytest.raises(InvalidInputError):
        lc.check_propose(actor().principal, "440223101")
    with pytest.raises(PermissionDeniedError):
        lc.check_propose(actor(Role.AUDITOR).principal, VILLAGE)


def test_milestones_advance_and_the_first_achievement_starts_implementation() -> None:
    approved = state(stage=ProjectStage.APPROVED, milestones=(milestone(1, 30),))
    body = lc.MilestoneIn(name="主体完工", planned_date=date(2026, 3, 1), progress_pct=30)
    with pytest.raises(InvalidInputError):
        lc.decide_add_milestone(actor(Role.FIELD_WORKER, VILLAGE), body, NOW, SETTINGS)(
            approved, ()
        )
    body = lc.MilestoneIn(name="主体完工", planned_date=date(2026, 3, 1), progress_pct=80)
    change = lc.decide_add_milestone(actor(Role.FIELD_WORKER, VILLAGE), body, NOW, SETTINGS)(
        approved, ()
    )
    assert change.add_milestone is not None and change.add_milestone.id == "P1-M02"
    achieve = lc.decide_achieve_milestone(
        actor(Role.FIELD_WORKER, VILLAGE),
        "P1-M01",
        lc.AchievementIn(achieved_date=date(2026, 5, 20)),
        NOW,
        SETTINGS,
    )(approved, ())
    assert achieve.project_props["stage"] == "implementation"
    assert achieve.project_props["progress_pct"] == 30
    assert achieve.project_props["last_milestone_at"] == date(2026, 5, 20)
    assert achieve.achieve_milestone == ("P1-M01", date(2026, 5, 20))


def test_a_milestone_is_achieved_once_and_not_in_the_future() -> None:
    done = state(
        stage=ProjectStage.IMPLEMENTATION, milestones=(milestone(1, 30, date(2026, 2, 1)),)
    )
    decide = lc.decide_achieve_milestone(
        actor(), "P1-M01", lc.AchievementIn(achieved_date=date(2026, 5, 1)), NOW, SETTINGS
    )
    with pytest.raises(ConflictError):
        decide(done, ())
    fresh = state(stage=ProjectStage.APPROVED, milestones=(milestone(1, 30),))
    future = lc.decide_achieve_milestone(
        actor(), "P1-M01", lc.AchievementIn(achieved_date=date(2026, 7, 1)), NOW, SETTINGS
    )
    with pytest.raises(InvalidInputError):
        future(fresh, ())
    with pytest.raises(NotFoundError):
        lc.decide_achieve_milestone(
            actor(), "P1-M09", lc.AchievementIn(achieved_date=date(2026, 5, 1)), NOW, SETTINGS
        )(fresh, ())


def test_operation_starts_at_full_progress_only() -> None:
    running = state(stage=ProjectStage.IMPLEMENTATION, progress=80)
    decide = lc.decide_step(actor(), ProjectAction.START_OPERATION, lc.StepIn(), NOW, SETTINGS)
    with pytest.raises(ConflictError):
        decide(running, ())
    done = state(stage=ProjectStage.IMPLEMENTATION, progress=100)
    assert decide(done, ()).project_props["stage"] == "operation"


def test_allocations_stay_within_the_budget_and_disbursements_within_each_source() -> None:
    approved = state(stage=ProjectStage.APPROVED, budget=100_000)
    allocate = lc.decide_funds(
        actor(),
        ProjectAction.ALLOCATE,
        lc.FundsIn(source=FundSource.CENTRAL, amount=60_000),
        NOW,
        SETTINGS,
    )
    change = allocate(approved, ())
    assert change.project_props["funds_allocated"] == 60_000
    assert change.fund_lines == (
        FundLine(project_id="P1", source=FundSource.CENTRAL, allocated=60_000, disbursed=0),
    )
    over = lc.decide_funds(
        actor(),
        ProjectAction.ALLOCATE,
        lc.FundsIn(source=FundSource.SOCIAL, amount=50_000),
        NOW,
        SETTINGS,
    )
    with pytest.raises(ConflictError):
        over(state(stage=ProjectStage.APPROVED, budget=100_000, allocated=60_000), ())
    funded = state(
        stage=ProjectStage.IMPLEMENTATION,
        budget=100_000,
        allocated=60_000,
        funds=(
            FundLine(project_id="P1", source=FundSource.CENTRAL, allocated=60_000, disbursed=0),
        ),
    )
    pay = lc.decide_funds(
        actor(),
        ProjectAction.DISBURSE,
        lc.FundsIn(source=FundSource.CENTRAL, amount=20_000),
        NOW,
        SETTINGS,
    )
    paid = pay(funded, ())
    assert paid.project_props["funds_disbursed"] == 20_000
    assert paid.fund_lines[0].disbursed == 20_000
    # Another source has allocated nothing: nothing to pay from it.
    other = lc.decide_funds(
        actor(),
        ProjectAction.DISBURSE,
        lc.FundsIn(source=FundSource.LOAN, amount=1),
        NOW,
        SETTINGS,
    )
    with pytest.raises(ConflictError):
        other(funded, ())
    with pytest.raises(PermissionDeniedError):
        lc.decide_funds(
            actor(Role.FIELD_WORKER, VILLAGE),
            ProjectAction.DISBURSE,
            lc.FundsIn(source=FundSource.CENTRAL, amount=1),
            NOW,
            SETTINGS,
        )(funded, ())


def test_beneficiaries_must_be_found_in_the_region_and_are_added_once() -> None:
    present = Beneficiary(household_id="H1", village_code=VILLAGE, status="poor")
    candidates = (present, Beneficiary(household_id="H2", village_code=VILLAGE, status="poor"))
    decide = lc.decide_add_beneficiaries(
        actor(), lc.BeneficiariesIn(household_ids=("H1", "H2", "H2")), NOW, SETTINGS
    )
    change = decide(state(beneficiaries=(present,)), candidates)
    assert change.add_beneficiaries == ("H2",)
    assert change.response["beneficiaries"] == 2
    missing = lc.decide_add_beneficiaries(
        actor(), lc.BeneficiariesIn(household_ids=("H1", "H9")), NOW, SETTINGS
    )
    with pytest.raises(NotFoundError):
        missing(state(), candidates)


def test_income_effects_are_for_beneficiaries_and_past_years() -> None:
    running = state(
        stage=ProjectStage.OPERATION,
        beneficiaries=(Beneficiary(household_id="H1", village_code=VILLAGE, status="poor"),),
    )
    report = lc.decide_report_income(
        actor(Role.FIELD_WORKER, VILLAGE),
        lc.IncomeIn(household_id="H1", year=2025, amount=3200),
        NOW,
        SETTINGS,
    )
    change = report(running, ())
    assert change.income_effects[0].amount == 3200 and change.income_effects[0].year == 2025
    for body in (
        lc.IncomeIn(household_id="H2", year=2025, amount=1),
        lc.IncomeIn(household_id="H1", year=2027, amount=1),
    ):
        with pytest.raises(InvalidInputError):
            lc.decide_report_income(actor(), body, NOW, SETTINGS)(running, ())
    with pytest.raises(InvalidProjectStepError):
        report(state(stage=ProjectStage.APPROVED), ())

"""Which forms the project page shows: a pure function of the caller's role and level, the
project's stage and budget (the service still decides; this only leaves out forms that could
not succeed)."""

from __future__ import annotations

from api.pages.project_forms import usable_forms
from bangfu.access import Principal, Role
from bangfu.settings import ProjectSettings
from bangfu.vocabulary import ProjectStage

SETTINGS = ProjectSettings(county_approval_limit=5_000_000)
COUNTY = "440223"


def who(role: Role, region: str | None = None) -> Principal:
    return Principal(user_id="u1", username="u1", role=role, region_code=region)


def forms(
    principal: Principal,
    stage: ProjectStage = ProjectStage.PROPOSED,
    budget: float = 200_000,
    unpaid: bool = False,
    open_milestones: bool = False,
) -> set[str]:
    return usable_forms(
        principal,
        stage,
        budget,
        unpaid=unpaid,
        open_milestones=open_milestones,
        settings=SETTINGS,
    )


def test_a_county_official_or_above_decides_a_proposal_within_the_countys_limit() -> None:
    assert forms(who(Role.OFFICIAL, COUNTY)) == {"approve", "reject"}
    assert forms(who(Role.OFFICIAL, "44")) == {"approve", "reject"}


def test_a_big_budget_is_approved_by_the_city_but_the_county_may_still_reject() -> None:
    assert forms(who(Role.OFFICIAL, COUNTY), budget=6_000_000) == {"reject"}
    assert forms(who(Role.OFFICIAL, "4402"), budget=6_000_000) == {"approve", "reject"}
    assert forms(who(Role.OFFICIAL, COUNTY), budget=5_000_000) == {"approve", "reject"}


def test_towns_field_workers_helpers_and_admins_see_no_decision() -> None:
    for principal in (
        who(Role.OFFICIAL, "440223101"),
        who(Role.FIELD_WORKER, "440223101001"),
        who(Role.CHARITY),
        who(Role.ADMIN),
    ):
        assert forms(principal) == set()


def test_money_and_milestones_once_the_project_runs() -> None:
    def running(principal: Principal) -> set[str]:
        return forms(principal, ProjectStage.IMPLEMENTATION, unpaid=True, open_milestones=True)

    assert running(who(Role.OFFICIAL, COUNTY)) == {"disburse", "achieve"}
    assert running(who(Role.FIELD_WORKER, "440223101001")) == {"achieve"}
    assert running(who(Role.OFFICIAL, "440223101")) == {"achieve"}
    # Nothing left to pay out, nothing left to achieve: no forms.
    assert forms(who(Role.OFFICIAL, COUNTY), ProjectStage.IMPLEMENTATION) == set()
    # A rejected or completed project takes none of these steps.
    for stage in (ProjectStage.REJECTED, ProjectStage.COMPLETED):
        assert forms(who(Role.OFFICIAL, COUNTY), stage, unpaid=True, open_milestones=True) == set()


def test_the_proposer_gets_no_decision_forms() -> None:
    official = who(Role.OFFICIAL, COUNTY)
    settings = SETTINGS
    kwargs = {"unpaid": False, "open_milestones": False, "settings": settings}
    assert {"approve", "reject"} <= usable_forms(official, ProjectStage.PROPOSED, 200_000, **kwargs)
    own = usable_forms(official, ProjectStage.PROPOSED, 200_000, own_proposal=True, **kwargs)
    assert not own & {"approve", "reject"}

"""Exit decisions as pure code: each guarantee's check, data present or missing, the village
rule, and who may decide what."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, PermissionDeniedError
from bangfu.vocabulary import ExitKind, ExitStatus, Guarantee, HouseholdStatus, Schooling
from graph.models import ExitHousehold, ExitMember, ExitProposal, VillageExitInput
from verification import exits

DAY = date(2026, 3, 31)
WITH_DATA = exits.ExitRules(
    as_of=DAY,
    income_line=7_000,
    sources_present=frozenset({"education.enrolment", "medical_insurance.enrolment"}),
)
NO_DATA = exits.ExitRules(as_of=DAY, income_line=7_000, sources_present=frozenset())


def adult(**kw: object) -> ExitMember:
    fields: dict[str, object] = {
        "person_id": "H1-01",
        "birth_date": date(1980, 1, 1),
        "schooling": Schooling.JUNIOR,
        "medical_statuses": ("enrolled",),
    }
    fields.update(kw)
    return ExitMember.model_validate(fields)


def child(**kw: object) -> ExitMember:
    fields: dict[str, object] = {
        "person_id": "H1-02",
        "birth_date": date(2014, 3, 1),
        "schooling": Schooling.IN_SCHOOL,
        "medical_statuses": ("enrolled",),
        "school_statuses": ("enrolled",),
    }
    fields.update(kw)
    return ExitMember.model_validate(fields)


def household(*members: ExitMember, **kw: object) -> ExitHousehold:
    fields: dict[str, object] = {
        "household_id": "H1",
        "village_code": "445126101200",
        "status": HouseholdStatus.POOR,
        "size": len(members),
        "income_per_capita": 9_000,
        "housing_safe": True,
        "water_safe": True,
        "members": members,
    }
    fields.update(kw)
    return ExitHousehold.model_validate(fields)


def failed(h: ExitHousehold, rules: exits.ExitRules = WITH_DATA) -> set[Guarantee]:
    return {c.guarantee for c in exits.household_checks(h, rules) if not c.met}


def test_a_household_meeting_every_guarantee_is_proposed_with_its_checks() -> None:
    draft = exits.household_proposal(household(adult(), child()), WITH_DATA)
    assert draft is not None and draft.kind is ExitKind.HOUSEHOLD
    assert {c.guarantee for c in draft.checks} == set(Guarantee)
    # Food and clothing have no data of their own: met with income, never "verified".
    assert {c.guarantee for c in draft.checks if not c.verified} == {
        Guarantee.FOOD,
        Guarantee.CLOTHING,
    }


@pytest.mark.parametrize(
    ("change", "fails"),
    [
        ({"income_per_capita": 6_999}, {Guarantee.INCOME, Guarantee.FOOD, Guarantee.CLOTHING}),
        ({"housing_safe": False}, {Guarantee.SAFE_HOUSING}),
        ({"water_safe": False}, {Guarantee.SAFE_WATER}),
        ({"flags": ("child_not_enrolled",)}, {Guarantee.COMPULSORY_EDUCATION}),
    ],
)
def test_each_household_guarantee_can_fail(
    change: dict[str, object], fails: set[Guarantee]
) -> None:
    h = household(adult(), child()).model_copy(update=change)
    assert failed(h) == fails
    assert exits.household_proposal(h, WITH_DATA) is None


def test_education_and_medical_care_read_department_data_where_there_is_some() -> None:
    out_of_school = household(adult(), child(school_statuses=("dropped_out",)))
    assert failed(out_of_school) == {Guarantee.COMPULSORY_EDUCATION}
    uninsured = household(adult(medical_statuses=("lapsed",)), child())
    assert failed(uninsured) == {Guarantee.BASIC_MEDICAL}
    # The dead are not judged.
    assert failed(household(adult(), child(deceased=True, school_statuses=()))) == set()
    # Without the county's data: the household record decides schooling, medical care is
    # taken as met, and both say they were not verified.
    no_records = household(adult(medical_statuses=()), child(school_statuses=()))
    checks = {c.guarantee: c for c in exits.household_checks(no_records, NO_DATA)}
    assert checks[Guarantee.BASIC_MEDICAL].met and not checks[Guarantee.BASIC_MEDICAL].verified
    assert checks[Guarantee.COMPULSORY_EDUCATION].met
    assert not checks[Guarantee.COMPULSORY_EDUCATION].verified
    home = household(adult(), child(schooling=Schooling.NONE, school_statuses=()))
    assert failed(home, NO_DATA) == {Guarantee.COMPULSORY_EDUCATION}


def test_only_poor_or_monitored_households_without_open_tasks_are_proposed() -> None:
    ok = household(adult())
    assert exits.household_proposal(ok.model_copy(update={"open_findings": 1}), WITH_DATA) is None
    exited = ok.model_copy(update={"status": HouseholdStatus.EXITED})
    assert exits.household_proposal(exited, WITH_DATA) is None
    monitored = ok.model_copy(update={"status": HouseholdStatus.MONITORED})
    assert exits.household_proposal(monitored, WITH_DATA) is not None


def village(poor: int, people: int = 1_000, **kw: object) -> VillageExitInput:
    fields: dict[str, object] = {
        "village_code": "445126101200",
        "households": 300,
        "people": people,
        "poor_people": poor,
        "open_findings": 0,
    }
    fields.update(kw)
    return VillageExitInput.model_validate(fields)


def test_villages_leave_the_list_below_two_percent_incidence() -> None:
    draft = exits.village_proposal(village(19), WITH_DATA)
    assert draft is not None and draft.incidence == pytest.approx(0.019)
    assert exits.village_proposal(village(20), WITH_DATA) is None
    assert exits.village_proposal(village(0, open_findings=2), WITH_DATA) is None
    assert exits.village_proposal(village(0, exited_year=2025), WITH_DATA) is None
    assert exits.village_proposal(village(0, people=0), WITH_DATA) is None


def proposal(kind: ExitKind = ExitKind.HOUSEHOLD, **kw: object) -> ExitProposal:
    fields: dict[str, object] = {
        "id": "EX-H-H1-2026",
        "kind": kind,
        "subject_id": "H1",
        "village_code": "445126101200",
        "year": 2026,
        "summary_zh": "s",
        "summary_en": "s",
        "created_at": datetime(2026, 4, 1, tzinfo=UTC),
        "created_by": "u0",
    }
    fields.update(kw)
    return ExitProposal.model_validate(fields)


def official(region: str) -> Principal:
    return Principal(user_id="u1", username="o1", role=Role.OFFICIAL, region_code=region)


NOW = datetime(2026, 4, 2, tzinfo=UTC)
APPROVE = exits.ExitDecision(decision="approve", note="同意退出")


def test_county_officials_decide_and_an_approved_exit_changes_the_status() -> None:
    change = exits.decide(proposal(), APPROVE, official("445126"), NOW)
    assert change.household_props == {"status": "exited", "monitor_type": None, "exit_year": 2026}
    assert change.proposal_props["status"] == "approved"
    village_change = exits.decide(proposal(ExitKind.VILLAGE), APPROVE, official("44"), NOW)
    assert village_change.village_props["exited_year"] == 2026
    rejected = exits.decide(
        proposal(),
        exits.ExitDecision(decision="reject", note="收入不稳定"),
        official("445126"),
        NOW,
    )
    assert rejected.proposal_props["status"] == "rejected" and not rejected.household_props
    with pytest.raises(PermissionDeniedError):
        exits.decide(proposal(), APPROVE, official("445126101"), NOW)
    with pytest.raises(ConflictError):
        exits.decide(proposal(status=ExitStatus.APPROVED), APPROVE, official("445126"), NOW)


@pytest.mark.parametrize(
    ("region_code", "decides"),
    [("44", True), ("4402", True), ("440223", True), ("440223101", False), (None, False)],
)
def test_only_a_county_or_a_wider_region_decides(region_code: str | None, decides: bool) -> None:
    """What the exit page asks before offering the decision form, and decide() enforces."""
    principal = Principal(user_id="u", username="u", role=Role.OFFICIAL, region_code=region_code)
    assert exits.may_decide(principal) is decides

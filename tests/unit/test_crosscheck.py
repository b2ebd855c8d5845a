"""Cross-check rules, resolutions and reports as pure code: each rule's line (what it flags and
the near miss it leaves alone), deterministic keys, what a confirmation changes, the error rate's
arithmetic, and detection on a whole generated county without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bangfu.errors import ConflictError
from bangfu.settings import get_settings
from bangfu.vocabulary import CrossCheckRule, FindingStatus, HouseholdStatus, Schooling
from graph.models import (
    CheckedHousehold,
    CheckedMember,
    CheckedRecord,
    CountyCheckStats,
    Finding,
    FindingState,
)
from graph.synthetic import Scale, generate
from graph.synthetic.department import department_files
from graph.synthetic.scales import AS_OF
from verification import resolution
from verification.report import detection, error_rates
from verification.rules import CheckContext, check_household, check_households

R = CrossCheckRule
LINE = 7_000.0
ALL_SOURCES = frozenset({"education.enrolment", "hrss.employment", "public_security.vehicles"})
CTX = CheckContext(as_of=date(2026, 3, 31), income_line=LINE, sources_present=ALL_SOURCES)


def rec(source: str, key: str = "k1", **facts: Any) -> CheckedRecord:
    return CheckedRecord(key=key, source=source, facts=facts)


def member(
    pid: str = "H1-01",
    born: date = date(1980, 5, 1),
    grade: int = 0,
    records: tuple[CheckedRecord, ...] = (),
    deceased: bool = False,
) -> CheckedMember:
    return CheckedMember(
        person_id=pid,
        birth_date=born,
        disability_grade=grade,
        schooling=Schooling.JUNIOR,
        deceased=deceased,
        records=records,
    )


def household(
    *members: CheckedMember,
    status: HouseholdStatus = HouseholdStatus.POOR,
    wage: float = 6_000,
    total: float = 16_000,
    size: int = 4,
) -> CheckedHousehold:
    return CheckedHousehold(
        household_id="H1",
        village_code="445126101200",
        status=status,
        size=size,
        income_wage=wage,
        income_total=total,
        income_per_capita=total / size,
        members=members,
    )


def rules_of(h: CheckedHousehold, ctx: CheckContext = CTX) -> list[CrossCheckRule]:
    return [f.rule for f in check_household(h, ctx)]


def test_a_death_on_record_is_found_and_the_dead_are_checked_for_nothing_else() -> None:
    dead_child = member(
        born=date(2015, 1, 1),
        records=(rec("civil_affairs.deaths", death_date=date(2025, 12, 1)),),
    )
    assert rules_of(household(dead_child)) == [R.DECEASED_LISTED]
    # A death after the check date is not one yet; a member already marked is left alone.
    later = member(records=(rec("public_security.deaths", death_date=date(2026, 5, 1)),))
    assert rules_of(household(later)) == []
    marked = member(
        deceased=True, records=(rec("civil_affairs.deaths", death_date=date(2025, 1, 1)),)
    )
    assert rules_of(household(marked)) == []


@pytest.mark.parametrize(
    ("facts", "found"),
    [
        ({"vehicle_type": "car", "status": "normal"}, True),
        ({"vehicle_type": "truck", "status": None}, True),
        ({"vehicle_type": "car", "status": "scrapped"}, False),
        ({"vehicle_type": "tractor", "status": "normal"}, False),
        ({"vehicle_type": "motorcycle", "status": "normal"}, False),
    ],
)
def test_cars_and_trucks_count_farm_vehicles_and_scrapped_ones_do_not(
    facts: dict[str, Any], found: bool
) -> None:
    m = member(records=(rec("public_security.vehicles", **facts),))
    assert rules_of(household(m)) == ([R.VEHICLE_OWNER] if found else [])
    # Exited households are not subject to the eligibility rules.
    assert rules_of(household(m, status=HouseholdStatus.EXITED)) == []


def test_businesses_but_not_cooperatives_and_current_public_employment() -> None:
    active = rec("market_regulation.businesses", business_type="individual", status="active")
    coop = rec("market_regulation.businesses", "k2", business_type="cooperative", status="active")
    gone = rec("market_regulation.businesses", "k3", business_type="company", status="revoked")
    assert rules_of(household(member(records=(active, coop, gone)))) == [R.BUSINESS_OWNER]
    current = rec("hrss.public_employees", start_date=date(2020, 1, 1), end_date=None)
    ended = rec("hrss.public_employees", "k2", start_date="2020-01-01", end_date="2026-03-30")
    assert rules_of(household(member(records=(current,)))) == [R.PUBLIC_EMPLOYEE]
    assert rules_of(household(member(records=(ended,)))) == []


def test_compulsory_age_children_need_this_school_years_enrolment() -> None:
    # School year 2025 (check date 2026-03-31): ages 6-15 on 2025-09-01.
    six = date(2019, 9, 1)
    five = date(2019, 9, 2)
    enrolled = rec("education.enrolment", school_year=2025, status="enrolled")
    dropped = rec("education.enrolment", school_year=2025, status="dropped_out")
    last_year = rec("education.enrolment", school_year=2024, status="enrolled")
    assert rules_of(household(member(born=six))) == [R.CHILD_NOT_ENROLLED]
    assert rules_of(household(member(born=five))) == []
    assert rules_of(household(member(born=six, records=(enrolled,)))) == []
    assert rules_of(household(member(born=six, records=(dropped,)))) == [R.CHILD_NOT_ENROLLED]
    assert rules_of(household(member(born=six, records=(last_year,)))) == [R.CHILD_NOT_ENROLLED]
    # No education data for the county at all: absence proves nothing.
    blind = CheckContext(as_of=CTX.as_of, income_line=LINE, sources_present=frozenset())
    assert rules_of(household(member(born=six)), blind) == []


def test_valid_certificates_of_people_recorded_without_disability() -> None:
    valid = rec("disabled_federation.certificates", grade=2, issued_on="2024-01-01")
    expired = rec(
        "disabled_federation.certificates",
        grade=2,
        issued_on="2010-01-01",
        valid_until="2020-01-01",
    )
    assert rules_of(household(member(records=(valid,)))) == [R.DISABILITY_UNRECORDED]
    assert rules_of(household(member(grade=2, records=(valid,)))) == []
    assert rules_of(household(member(records=(expired,)))) == []


def test_department_wages_above_the_recorded_ones_that_lift_income_over_the_line() -> None:
    # 16,000 recorded for 4 people (4,000 each); 6,000 of it wages.
    high = rec("hrss.employment", monthly_wage=2_000, start_date="2025-01-01", end_date=None)
    low = rec("hrss.employment", monthly_wage=400, start_date="2025-01-01", end_date=None)
    ended = rec(
        "hrss.employment", monthly_wage=9_000, start_date="2024-01-01", end_date="2025-12-31"
    )
    # 16,000 - 6,000 + 24,000 = 34,000 / 4 = 8,500 > 7,000.
    (finding,) = check_household(household(member(records=(high,))), CTX)
    assert finding.rule is R.INCOME_ABOVE_LINE and finding.person_id is None
    assert finding.evidence[-1].values["revised_per_capita"] == 8_500
    assert rules_of(household(member(records=(low,)))) == []
    assert rules_of(household(member(records=(ended,)))) == []
    # Higher than recorded but still under the line: no finding.
    modest = rec("hrss.employment", monthly_wage=1_000, start_date="2025-01-01", end_date=None)
    assert rules_of(household(member(records=(modest,)))) == []


def test_keys_are_deterministic_and_evidence_carries_no_id_number() -> None:
    m = member(
        records=(
            rec("public_security.vehicles", "v1", vehicle_type="car", status="normal"),
            rec("public_security.vehicles", "v2", vehicle_type="car", status="normal"),
        )
    )
    first = check_household(household(m), CTX)
    again = check_household(household(m), CTX)
    assert [f.key for f in first] == [f.key for f in again]
    assert len({f.key for f in first}) == 2  # a second car is a second finding
    assert all("national_id" not in str(f.evidence) for f in first)


def _state(rule: CrossCheckRule, evidence: list[dict[str, Any]], **kw: Any) -> FindingState:
    finding = Finding.model_validate(
        {
            "key": "CF-1",
            "rule": rule,
            "household_id": "H1",
            "person_id": "H1-01",
            "village_code": "445126101200",
            "household_status": "poor",
            "evidence": evidence,
            "summary_zh": "s",
            "summary_en": "s",
            "created_at": datetime(2026, 4, 1, tzinfo=UTC),
            **kw,
        }
    )
    return FindingState(finding=finding, household_size=4, income_total=16_000, income_wage=6_000)


NOW = datetime(2026, 4, 2, tzinfo=UTC)


def test_confirming_corrects_the_record_and_dismissing_changes_nothing_else() -> None:
    death = _state(
        R.DECEASED_LISTED,
        [{"source": "civil_affairs.deaths", "values": {"death_date": "2026-01-02"}}],
    )
    yes = resolution.decide(death, resolution.Resolution(outcome="confirm", note="属实"), "u1", NOW)
    assert yes.person_props == {"deceased": True, "death_date": date(2026, 1, 2)}
    # 16,000 for 4, now for the 3 living.
    assert yes.household_props == {"size": 3, "income_per_capita": 5_333.33}
    assert yes.finding_props["status"] == "confirmed"
    no = resolution.decide(death, resolution.Resolution(outcome="dismiss", note="同名"), "u1", NOW)
    assert no.finding_props["status"] == "dismissed" and not no.person_props
    assert not no.household_props

    income = _state(
        R.INCOME_ABOVE_LINE,
        [{"source": "household", "values": {"department_wages": 24_000}}],
        person_id=None,
    )
    change = resolution.decide(
        income, resolution.Resolution(outcome="confirm", note="属实"), "u1", NOW
    )
    assert change.household_props["income_wage"] == 24_000
    assert change.household_props["income_per_capita"] == 8_500
    assert change.household_props["flags"] == ["income_above_line"]

    cert = _state(R.DISABILITY_UNRECORDED, [{"source": "x", "values": {"grade": 3}}])
    ok = resolution.Resolution(outcome="confirm", note="属实")
    assert resolution.decide(cert, ok, "u1", NOW).person_props == {"disability_grade": 3}

    done = _state(R.VEHICLE_OWNER, [], status=FindingStatus.DISMISSED)
    with pytest.raises(ConflictError):
        resolution.decide(done, ok, "u1", NOW)


def test_the_error_rate_counts_confirmed_eligibility_findings_over_subject_households() -> None:
    stats = CountyCheckStats(
        county_code="445126",
        villages_checked=10,
        households_checked=1_000,
        subject_households_checked=200,
        findings=30,
        open=10,
        confirmed=15,
        dismissed=5,
        households_confirmed=12,
        households_misidentified=3,
    )
    (row,) = error_rates([stats]).counties
    assert row.identification_error_rate == pytest.approx(0.015)
    assert row.discrepancy_rate == pytest.approx(0.012)
    assert row.within_target is True
    empty = stats.model_copy(update={"subject_households_checked": 0})
    assert error_rates([empty]).counties[0].identification_error_rate is None


def test_every_planted_discrepancy_of_a_generated_county_is_found_and_nothing_else() -> None:
    """The generator and the rules without a database (the integration test repeats this
    through the import, the graph and a worker)."""
    batches = list(generate(Scale.COUNTY, 5))
    hh = [r for b in batches for r in b.tables["households"]]
    ps = [r for b in batches for r in b.tables["persons"]]
    line = get_settings().risk.monitoring_line("44", AS_OF.year)
    files = department_files(hh, ps, line, seed=5)
    by_id: dict[str, list[CheckedRecord]] = {}
    for source, rows in files.rows.items():
        for i, r in enumerate(rows):
            by_id.setdefault(str(r["national_id"]), []).append(
                CheckedRecord(key=f"{source}:{i}", source=source, facts=dict(r))
            )
    members: dict[str, list[CheckedMember]] = {}
    for p in ps:
        members.setdefault(str(p["household_id"]), []).append(
            CheckedMember(
                person_id=str(p["person_id"]),
                birth_date=date.fromisoformat(str(p["birth_date"])),
                disability_grade=int(str(p["disability_grade"])),
                schooling=Schooling(str(p["schooling"])),
                records=tuple(by_id.get(str(p["national_id"]), ())),
            )
        )
    households = [
        CheckedHousehold(
            household_id=str(h["household_id"]),
            village_code=str(h["village_code"]),
            status=HouseholdStatus(str(h["status"])),
            size=int(str(h["size"])),
            income_wage=float(str(h["income_wage"])),
            income_total=sum(
                float(str(h[k]))
                for k in (
                    "income_wage",
                    "income_farm",
                    "income_business",
                    "income_transfer",
                    "income_property",
                )
            ),
            members=tuple(members.get(str(h["household_id"]), ())),
        )
        for h in hh
    ]
    ctx = CheckContext(as_of=AS_OF, income_line=line, sources_present=frozenset(files.rows))
    found = check_households(households, {str(hh[0]["county_code"]): ctx})
    subjects = {(f.rule, f.person_id or f.household_id) for f in found}
    for d in detection(files.planted, subjects):
        assert d.planted > 0 and d.precision == 1.0 and d.recall == 1.0, d

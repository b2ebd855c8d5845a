"""Cross-check rules (数据比对): one household with its members' department records in, the
findings it raises out. Pure: no I/O, deterministic, unit-tested (tests/unit/test_crosscheck.py).

The rules, and why each draws its line where it does:

- deceased_listed: a death record (civil affairs or public security) dated on or before the
  check date about a member not marked deceased. Any household status: a dead member is wrong
  in any record.
- vehicle_owner: a car or truck registered to a member of a poor or monitored household and not
  scrapped or transferred. Motorcycles, tractors and tricycles are farm and commuting tools
  that the identification rules do not count as wealth.
- business_owner: an active (存续) business registration of a member of a poor or monitored
  household. Farmers' cooperatives (农民专业合作社) are left out: joining one is itself a
  poverty-alleviation measure.
- public_employee: a public-employee (财政供养) record of a member of a poor or monitored
  household, started on or before the check date and not ended before it.
- child_not_enrolled: a living member of compulsory-education age (6 to 15 on 1 September of
  the school year the check date falls in) with no enrolment record for that school year in
  status enrolled, suspended or transferred — a record in status dropped_out is the evidence.
  Only where the county's education data was imported at all (otherwise every child would be
  "missing"), and any household status (控辍保学 covers exited households too).
- disability_unrecorded: a valid disability certificate (issued on or before the check date, not
  expired) of a member whose record says no disability (grade 0). Any household status.
- income_above_line: for a poor or monitored household, the wages in employment registrations
  active on the check date (monthly wage x 12) exceed the recorded wage income, and with them
  in place of the recorded wages the per-capita income is above the line. Pensions and other
  transfers are not re-derived: the recorded figures stand.

A finding's key is a hash of the rule, its subject (person or household) and what was found
(the record's key, the school year or the income year), so running a check again merges onto
the same findings and a new record (a second car) is a new finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bangfu.vocabulary import CrossCheckRule, HouseholdStatus
from graph.models import (
    CheckedHousehold,
    CheckedMember,
    CheckedRecord,
    EvidenceItem,
    FindingDraft,
)
from verification import sources as src

R = CrossCheckRule

# Households the eligibility rules apply to: those currently identified (建档立卡) or monitored.
SUBJECT_STATUSES = frozenset({HouseholdStatus.POOR, HouseholdStatus.MONITORED})
COUNTED_VEHICLE_TYPES = frozenset({"car", "truck"})
INACTIVE_VEHICLE_STATUSES = frozenset({"scrapped", "transferred"})
EXEMPT_BUSINESS_TYPES = frozenset({"cooperative"})
IN_SCHOOL_STATUSES = frozenset({"enrolled", "suspended", "transferred"})
COMPULSORY_AGES = (6, 15)  # 九年义务教育: ages 6-15 on 1 September
MONTHS = 12


@dataclass(frozen=True)
class CheckContext:
    as_of: date
    income_line: float  # yuan per person per year
    sources_present: frozenset[str]  # department sources imported for the household's county

    @property
    def school_year(self) -> int:
        """The school year (starting 1 September) the check date falls in."""
        return self.as_of.year if self.as_of.month >= 9 else self.as_of.year - 1


def finding_key(rule: CrossCheckRule, subject: str, found: str) -> str:
    digest = hashlib.sha256(f"{rule.value}|{subject}|{found}".encode()).hexdigest()
    return f"CF-{digest[:24]}"


def as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _shown(value: Any) -> Any:
    """Evidence values as JSON-ready scalars (dates as ISO text)."""
    return value.isoformat() if isinstance(value, date) else value


def _evidence(record: CheckedRecord, *names: str) -> EvidenceItem:
    return EvidenceItem(
        source=record.source,
        record_key=record.key,
        values={n: _shown(record.facts.get(n)) for n in names},
    )


def _records(member: CheckedMember, *sources: str) -> list[CheckedRecord]:
    return [r for r in member.records if r.source in sources]


def _active_on(record: CheckedRecord, day: date, start: str, end: str) -> bool:
    started = as_date(record.facts.get(start))
    ended = as_date(record.facts.get(end))
    return (started is None or started <= day) and (ended is None or ended >= day)


class _Drafts:
    """Collects one household's findings."""

    def __init__(self, household: CheckedHousehold) -> None:
        self.household = household
        self.items: list[FindingDraft] = []

    def add(
        self,
        rule: CrossCheckRule,
        found: str,
        evidence: Sequence[EvidenceItem],
        zh: str,
        en: str,
        person: CheckedMember | None = None,
    ) -> None:
        h = self.household
        subject = person.person_id if person else h.household_id
        self.items.append(
            FindingDraft(
                key=finding_key(rule, subject, found),
                rule=rule,
                household_id=h.household_id,
                person_id=person.person_id if person else None,
                village_code=h.village_code,
                household_status=h.status,
                evidence=tuple(evidence),
                summary_zh=zh,
                summary_en=en,
            )
        )


def check_household(household: CheckedHousehold, ctx: CheckContext) -> list[FindingDraft]:
    """Every finding the rules raise for one household (none for a clean one)."""
    out = _Drafts(household)
    subject = household.status in SUBJECT_STATUSES
    for member in household.members:
        # A member a department reports dead is verified for that first: the other rules
        # about them would be moot (a dead child is not "out of school").
        if member.deceased or _deceased(out, member, ctx):
            continue
        _disability(out, member, ctx)
        _enrolment(out, member, ctx)
        if subject:
            _vehicles(out, member)
            _businesses(out, member)
            _public_employee(out, member, ctx)
    if subject:
        _income(out, household, ctx)
    return out.items


def check_households(
    households: Iterable[CheckedHousehold], ctx_of: dict[str, CheckContext]
) -> list[FindingDraft]:
    """Findings of many households; `ctx_of` maps a county code to its context."""
    found: list[FindingDraft] = []
    for h in households:
        found.extend(check_household(h, ctx_of[h.village_code[:6]]))
    return found


def _deceased(out: _Drafts, member: CheckedMember, ctx: CheckContext) -> bool:
    deaths = [
        r
        for r in _records(member, *src.DEATH_SOURCES)
        if (d := as_date(r.facts.get("death_date"))) is not None and d <= ctx.as_of
    ]
    if deaths:
        day = min(as_date(r.facts["death_date"]) or ctx.as_of for r in deaths)
        out.add(
            R.DECEASED_LISTED,
            "death",
            [_evidence(r, "death_date") for r in deaths],
            f"成员{member.person_id}于{day.isoformat()}死亡，仍登记在册",
            f"member {member.person_id} died on {day.isoformat()} but is still listed",
            member,
        )
    return bool(deaths)


def _vehicles(out: _Drafts, member: CheckedMember) -> None:
    for r in _records(member, src.VEHICLES):
        if (
            r.facts.get("vehicle_type") in COUNTED_VEHICLE_TYPES
            and r.facts.get("status") not in INACTIVE_VEHICLE_STATUSES
        ):
            out.add(
                R.VEHICLE_OWNER,
                r.key,
                [_evidence(r, "vehicle_type", "registered_on", "status")],
                f"成员{member.person_id}名下有登记车辆（{r.facts.get('vehicle_type')}）",
                f"member {member.person_id} owns a registered {r.facts.get('vehicle_type')}",
                member,
            )


def _businesses(out: _Drafts, member: CheckedMember) -> None:
    for r in _records(member, src.BUSINESSES):
        if (
            r.facts.get("status") == "active"
            and r.facts.get("business_type") not in EXEMPT_BUSINESS_TYPES
        ):
            out.add(
                R.BUSINESS_OWNER,
                r.key,
                [
                    _evidence(
                        r, "business_name", "business_type", "registered_capital", "registered_on"
                    )
                ],
                f"成员{member.person_id}有存续的市场主体登记",
                f"member {member.person_id} has an active business registration",
                member,
            )


def _public_employee(out: _Drafts, member: CheckedMember, ctx: CheckContext) -> None:
    for r in _records(member, src.PUBLIC_EMPLOYEES):
        if _active_on(r, ctx.as_of, "start_date", "end_date"):
            out.add(
                R.PUBLIC_EMPLOYEE,
                r.key,
                [_evidence(r, "unit_name", "position", "start_date", "end_date")],
                f"成员{member.person_id}为财政供养人员",
                f"member {member.person_id} is a public employee",
                member,
            )


def _enrolment(out: _Drafts, member: CheckedMember, ctx: CheckContext) -> None:
    if src.ENROLMENT not in ctx.sources_present:
        return
    year = ctx.school_year
    low, high = COMPULSORY_AGES
    if not low <= age_on(member.birth_date, date(year, 9, 1)) <= high:
        return
    this_year = [
        r for r in _records(member, src.ENROLMENT) if int(r.facts.get("school_year") or 0) == year
    ]
    if any(r.facts.get("status") in IN_SCHOOL_STATUSES for r in this_year):
        return
    evidence = [_evidence(r, "school_year", "stage", "status") for r in this_year] or [
        EvidenceItem(source=src.ENROLMENT, values={"school_year": year, "record": "none"})
    ]
    out.add(
        R.CHILD_NOT_ENROLLED,
        str(year),
        evidence,
        f"义务教育适龄成员{member.person_id}在{year}学年无在读学籍",
        f"member {member.person_id}, of compulsory-school age, is not enrolled in {year}",
        member,
    )


def _disability(out: _Drafts, member: CheckedMember, ctx: CheckContext) -> None:
    if member.disability_grade:
        return
    for r in _records(member, src.CERTIFICATES):
        issued = as_date(r.facts.get("issued_on"))
        until = as_date(r.facts.get("valid_until"))
        if (issued is None or issued <= ctx.as_of) and (until is None or until >= ctx.as_of):
            out.add(
                R.DISABILITY_UNRECORDED,
                r.key,
                [
                    _evidence(r, "disability_type", "grade", "issued_on", "valid_until"),
                    EvidenceItem(source="household", values={"disability_grade": 0}),
                ],
                f"成员{member.person_id}持有残疾人证（{r.facts.get('grade')}级），未登记残疾",
                f"member {member.person_id} holds a grade {r.facts.get('grade')} disability "
                "certificate but is recorded as not disabled",
                member,
            )


def department_wages(household: CheckedHousehold, day: date) -> tuple[float, list[CheckedRecord]]:
    """Yearly wages of the members' employment registrations active on `day`, and those."""
    active = [
        r
        for m in household.members
        if not m.deceased
        for r in _records(m, src.EMPLOYMENT)
        if _active_on(r, day, "start_date", "end_date")
    ]
    return sum(float(r.facts.get("monthly_wage") or 0) * MONTHS for r in active), active


def _income(out: _Drafts, household: CheckedHousehold, ctx: CheckContext) -> None:
    wages, records = department_wages(household, ctx.as_of)
    if wages <= household.income_wage:
        return
    revised = (household.income_total - household.income_wage + wages) / household.size
    if revised <= ctx.income_line:
        return
    out.add(
        R.INCOME_ABOVE_LINE,
        str(ctx.as_of.year),
        [
            *(_evidence(r, "employer", "monthly_wage", "start_date", "end_date") for r in records),
            EvidenceItem(
                source="household",
                values={
                    "income_wage": household.income_wage,
                    "income_per_capita": household.income_per_capita,
                    "department_wages": round(wages, 2),
                    "revised_per_capita": round(revised, 2),
                    "income_line": ctx.income_line,
                },
            ),
        ],
        f"按部门工资数据，人均纯收入为{revised:.0f}元，高于标准{ctx.income_line:.0f}元",
        f"with the wages departments report, income per person is {revised:.0f} yuan, above "
        f"the line of {ctx.income_line:.0f}",
    )

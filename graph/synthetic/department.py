"""Department files for a generated county, with discrepancies planted at known rates: what the
cross-checks (数据比对) must find, and clean records they must leave alone. Deterministic for a
seed. The truth (which rule, which person or household) is returned beside the rows, so
detection is measured (bench/crosscheck_detection.py, tests/integration/test_crosscheck.py).

Clean records are the near misses a careless rule would flag: motorcycles, tractors and scrapped
cars; cooperatives and cancelled businesses; public employment that ended; enrolment of every
compulsory-age child; certificates of people recorded as disabled, and expired ones; wages no
higher than the recorded wage income; cars, businesses and jobs in exited households (not
subject to the eligibility rules); and records of people who are not members at all.

Planted (rates in PlantRates): deaths of members (deceased_listed), cars or trucks, active
businesses and current public employment in poor or monitored households, compulsory-age
children with no enrolment record or a dropped-out one, valid certificates of members recorded
without disability, and wages that lift a poor or monitored household above the line. Each
planted person carries one planted discrepancy only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bangfu.vocabulary import CrossCheckRule
from graph.ingest.schemas import SOURCES
from graph.ingest.synthetic import department_row, synthetic_national_ids, write_rows
from graph.synthetic.scales import AS_OF
from graph.synthetic.tables import Row

R = CrossCheckRule
SUBJECT_STATUSES = frozenset({"poor", "monitored"})
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"


@dataclass(frozen=True)
class PlantRates:
    """Shares of candidates given a planted discrepancy."""

    deceased_listed: float = 0.004  # of members
    vehicle_owner: float = 0.02  # of poor and monitored households
    business_owner: float = 0.015  # of poor and monitored households
    public_employee: float = 0.02  # of poor and monitored households
    child_not_enrolled: float = 0.03  # of compulsory-age children
    disability_unrecorded: float = 0.005  # of members recorded without disability
    income_above_line: float = 0.03  # of poor and monitored households
    medical_lapsed: float = 0.01  # of members (not a cross-check rule: the exits read it)


@dataclass
class DepartmentFiles:
    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    planted: set[tuple[CrossCheckRule, str]] = field(default_factory=set)  # (rule, subject)

    def add(self, source: str, row: dict[str, object]) -> None:
        self.rows.setdefault(source, []).append(row)

    def write(self, directory: Path) -> dict[str, Path]:
        """One CSV per source (`<source>.csv`), in the import format."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = {}
        for source, rows in sorted(self.rows.items()):
            path = directory / f"{source}.csv"
            write_rows(path, SOURCES[source], rows)
            paths[source] = path
        return paths


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _stage_grade(age: int) -> dict[str, object]:
    """Primary school at 6-11 (grades 1-6), junior middle school at 12-15 (grades 1-3)."""
    if age >= 12:
        return {"stage": "junior", "grade": min(age - 11, 3)}
    return {"stage": "primary", "grade": max(age - 5, 1)}


def _school_year(day: date) -> int:
    return day.year if day.month >= 9 else day.year - 1


class _Builder:
    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed * 1_000_003 + 17)
        self.as_of = as_of
        self.out = DepartmentFiles()
        self.plates = 0
        self.used: set[str] = set()  # planted persons: one discrepancy each

    def row(self, source: str, nid: str, village: str, **facts: object) -> None:
        self.out.add(source, department_row(source, nid, village, self.rng, self.as_of, facts))

    def days_ago(self, low: int, high: int) -> date:
        return self.as_of - timedelta(days=self.rng.randint(low, high))

    def plate(self) -> str:
        self.plates += 1
        letter = _PLATE_LETTERS[(self.plates // 100_000) % len(_PLATE_LETTERS)]
        return f"粤{letter}{self.plates % 100_000:05d}"

    def hit(self, rate: float) -> bool:
        return self.rng.random() < rate


def department_files(
    households: Sequence[Row],
    persons: Sequence[Row],
    income_line: float,
    seed: int = 1,
    as_of: date = AS_OF,
    rates: PlantRates | None = None,
) -> DepartmentFiles:
    """Department rows about the generator's `households` and `persons` (its table rows), with
    discrepancies planted at `rates`; `income_line` is the line the income rule will use."""
    rates = rates or PlantRates()
    b = _Builder(seed, as_of)
    members: dict[str, list[Row]] = {}
    for p in persons:
        members.setdefault(str(p["household_id"]), []).append(p)
    year = _school_year(as_of)
    sept_first = date(year, 9, 1)
    for h in households:
        hid = str(h["household_id"])
        village = str(h["village_code"])
        subject = h["status"] in SUBJECT_STATUSES
        people = members.get(hid, [])
        for p in people:
            _person(b, rates, p, village, sept_first, year)
        if subject:
            _assets(b, rates, h, people, village, planted=True)
            _income(b, rates, h, people, village, income_line)
        elif b.hit(0.05):
            _assets(b, rates, h, people, village, planted=False)
    _strangers(b, households, persons)
    return b.out


def _person(
    b: _Builder, rates: PlantRates, p: Row, village: str, sept_first: date, year: int
) -> None:
    pid = str(p["person_id"])
    nid = str(p["national_id"])
    born = date.fromisoformat(str(p["birth_date"]))
    grade = int(str(p["disability_grade"]))
    # Basic medical insurance for everyone, a few lapsed.
    lapsed = b.hit(rates.medical_lapsed)
    b.row(
        "medical_insurance.enrolment",
        nid,
        village,
        year=b.as_of.year,
        scheme="resident",
        subsidised=True,
        status="lapsed" if lapsed else "enrolled",
    )
    if b.hit(rates.deceased_listed):
        b.used.add(pid)
        b.out.planted.add((R.DECEASED_LISTED, pid))
        death = b.days_ago(10, 300)
        sources = b.rng.choice(
            (
                ("civil_affairs.deaths",),
                ("public_security.deaths",),
                ("civil_affairs.deaths", "public_security.deaths"),
            )
        )
        for source in sources:
            if source == "public_security.deaths":
                b.row(
                    source, nid, village, death_date=death, cancelled_on=death + timedelta(days=3)
                )
            else:
                b.row(source, nid, village, death_date=death)
        return
    age = _age_on(born, sept_first)
    if 6 <= age <= 15:
        if b.hit(rates.child_not_enrolled):
            b.used.add(pid)
            b.out.planted.add((R.CHILD_NOT_ENROLLED, pid))
            if b.hit(0.5):
                b.row(
                    "education.enrolment",
                    nid,
                    village,
                    school_year=year,
                    **_stage_grade(age),
                    status="dropped_out",
                )
        else:
            b.row(
                "education.enrolment",
                nid,
                village,
                school_year=year,
                **_stage_grade(age),
                status="enrolled",
            )
    elif 16 <= age <= 18 and b.hit(0.5):
        b.row(
            "education.enrolment",
            nid,
            village,
            school_year=year,
            stage="senior",
            grade=1,
            status="enrolled",
        )
    if grade > 0:
        b.row(
            "disabled_federation.certificates",
            nid,
            village,
            grade=grade,
            issued_on=b.days_ago(400, 3000),
            valid_until=None,
        )
    elif pid not in b.used and b.hit(rates.disability_unrecorded):
        b.used.add(pid)
        b.out.planted.add((R.DISABILITY_UNRECORDED, pid))
        b.row(
            "disabled_federation.certificates",
            nid,
            village,
            grade=b.rng.randint(1, 4),
            issued_on=b.days_ago(30, 700),
            valid_until=b.as_of + timedelta(days=b.rng.randint(365, 3000)),
        )
    elif b.hit(0.003):  # an expired certificate: not a discrepancy
        issued = b.days_ago(3000, 4000)
        b.row(
            "disabled_federation.certificates",
            nid,
            village,
            grade=b.rng.randint(1, 4),
            issued_on=issued,
            valid_until=b.as_of - timedelta(days=b.rng.randint(30, 600)),
        )


def _adult(b: _Builder, people: Sequence[Row]) -> Row | None:
    adults = [
        p
        for p in people
        if str(p["person_id"]) not in b.used
        and _age_on(date.fromisoformat(str(p["birth_date"])), b.as_of) >= 18
    ]
    return b.rng.choice(adults) if adults else None


def _assets(
    b: _Builder, rates: PlantRates, h: Row, people: Sequence[Row], village: str, planted: bool
) -> None:
    """Vehicles, businesses and public employment. In a poor or monitored household
    (`planted`) a hit is a discrepancy; otherwise the same records are clean."""
    for rule, rate in (
        (R.VEHICLE_OWNER, rates.vehicle_owner),
        (R.BUSINESS_OWNER, rates.business_owner),
        (R.PUBLIC_EMPLOYEE, rates.public_employee),
    ):
        owner = _adult(b, people)
        if owner is None:
            return
        nid = str(owner["national_id"])
        pid = str(owner["person_id"])
        if planted and b.hit(rate):
            b.used.add(pid)
            b.out.planted.add((rule, pid))
            _record(b, rule, nid, village, discrepancy=True)
        elif b.hit(0.08 if planted else 0.5):
            # Planted households get near misses; others get the real thing, which is clean
            # there (exited households are not subject to the eligibility rules).
            _record(b, rule, nid, village, discrepancy=not planted)


def _record(b: _Builder, rule: CrossCheckRule, nid: str, village: str, discrepancy: bool) -> None:
    if rule is R.VEHICLE_OWNER:
        if discrepancy:
            kind, status = b.rng.choice(("car", "truck")), "normal"
        else:
            kind, status = b.rng.choice(
                (
                    ("motorcycle", "normal"),
                    ("tractor", "normal"),
                    ("tricycle", "normal"),
                    ("car", "scrapped"),
                    ("car", "transferred"),
                )
            )
        b.row(
            "public_security.vehicles",
            nid,
            village,
            plate_no=b.plate(),
            vehicle_type=kind,
            status=status,
            registered_on=b.days_ago(100, 2500),
        )
    elif rule is R.BUSINESS_OWNER:
        if discrepancy:
            kind, status = b.rng.choice(("individual", "company", "sole_proprietorship")), "active"
        else:
            kind, status = b.rng.choice(
                (("cooperative", "active"), ("individual", "cancelled"), ("company", "revoked"))
            )
        b.row(
            "market_regulation.businesses",
            nid,
            village,
            business_type=kind,
            status=status,
            registered_on=b.days_ago(100, 2500),
        )
    else:
        start = b.days_ago(400, 3000)
        end = None if discrepancy else b.as_of - timedelta(days=b.rng.randint(1, 300))
        b.row(
            "hrss.public_employees",
            nid,
            village,
            start_date=start,
            end_date=end,
        )


def _income(
    b: _Builder,
    rates: PlantRates,
    h: Row,
    people: Sequence[Row],
    village: str,
    line: float,
) -> None:
    worker = _adult(b, people)
    if worker is None:
        return
    nid = str(worker["national_id"])
    size = int(str(h["size"]))
    wage = float(str(h["income_wage"] or 0))
    total = sum(
        float(str(h[k] or 0))
        for k in (
            "income_wage",
            "income_farm",
            "income_business",
            "income_transfer",
            "income_property",
        )
    )
    start = b.days_ago(200, 1500)
    if b.hit(rates.income_above_line):
        b.out.planted.add((R.INCOME_ABOVE_LINE, str(h["household_id"])))
        needed = max(line * 1.3 * size - (total - wage), wage + 1_200)
        b.row(
            "hrss.employment",
            nid,
            village,
            monthly_wage=math.ceil(needed / 12),
            start_date=start,
            end_date=None,
        )
    elif wage >= 1_200 and b.hit(0.3):
        # Registered wages no higher than recorded: clean.
        b.row(
            "hrss.employment",
            nid,
            village,
            monthly_wage=math.floor(wage / 12 * b.rng.uniform(0.4, 0.95)),
            start_date=start,
            end_date=None,
        )
    elif b.hit(0.05):
        # A well-paid job that ended before the check date: clean.
        b.row(
            "hrss.employment",
            nid,
            village,
            monthly_wage=b.rng.randint(4_000, 9_000),
            start_date=start,
            end_date=b.as_of - timedelta(days=b.rng.randint(1, 150)),
        )


def _strangers(b: _Builder, households: Sequence[Row], persons: Sequence[Row]) -> None:
    """Records of people who are not members (most of a department's file): never matched."""
    if not households:
        return
    county = str(households[0]["county_code"])
    villages = sorted({str(h["village_code"]) for h in households})
    taken = {str(p["national_id"]) for p in persons}
    count = max(10, len(persons) // 50)
    ids = [n for n in synthetic_national_ids(county, count * 2, offset=500_000) if n not in taken]
    for i, nid in enumerate(ids[:count]):
        village = villages[i % len(villages)]
        which = i % 4
        if which == 0:
            b.row("civil_affairs.deaths", nid, village, death_date=b.days_ago(10, 900))
        elif which == 1:
            _record(b, R.VEHICLE_OWNER, nid, village, discrepancy=True)
        elif which == 2:
            _record(b, R.BUSINESS_OWNER, nid, village, discrepancy=True)
        else:
            _record(b, R.PUBLIC_EMPLOYEE, nid, village, discrepancy=True)

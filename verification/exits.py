"""Exits (退出): which households meet the income line and 两不愁三保障, which villages may leave
the list (出列), and what an official's decision changes. Pure; unit-tested
(tests/unit/test_exits.py).

A household (poor or monitored, with no open verification task) is proposed when every check
below is met:

- income: recorded income per person at or above the line (the province's monitoring line for
  the year, bangfu/settings.py), after any confirmed cross-check correction.
- food, clothing (不愁吃、不愁穿): the platform holds no data on either. Decided: they are taken
  as met when the income check is, the way the income standard is defined (it prices a basic
  food and clothing basket), and marked `verified: false` so the reviewing official sees that
  nothing but income stands behind them.
- compulsory education: no living member of compulsory-school age (6-15 on 1 September) is out
  of school. Where the county's enrolment data was imported, each such member needs a record
  for the school year in status enrolled, suspended or transferred (verified); without it, the
  household record's schooling must say in school (not verified). A confirmed
  child_not_enrolled finding fails it either way.
- basic medical care: every living member enrolled in medical insurance for the year, where
  the county's medical-insurance data was imported (verified); without it, taken as met and
  marked not verified.
- safe housing, safe drinking water: the household record's housing_safe and water_safe.

A village is proposed for 出列 when its poverty incidence — people in poor and monitored
households ÷ people in all its registered households — is below VILLAGE_MAX_INCIDENCE (2%, the
national standard for villages outside the western provinces) and no verification task of the
village is open. Approved household exits make villages' incidence fall, so proposals are
recomputed on each run.

Decisions are taken by officials of a county or a wider region (县级审定), never by the official
of a town or village: the county approves exits in the national procedure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bangfu.access import Principal
from bangfu.errors import ConflictError, PermissionDeniedError
from bangfu.vocabulary import (
    CrossCheckRule,
    ExitKind,
    ExitStatus,
    Guarantee,
    HouseholdStatus,
)
from graph.models import (
    ExitDraft,
    ExitHousehold,
    ExitMember,
    ExitProposal,
    GuaranteeCheck,
    VillageExitInput,
)
from verification import sources as src
from verification.rules import COMPULSORY_AGES, IN_SCHOOL_STATUSES, age_on

G = Guarantee
EXIT_STATUSES = frozenset({HouseholdStatus.POOR, HouseholdStatus.MONITORED})
VILLAGE_MAX_INCIDENCE = 0.02
COUNTY_CODE_LENGTH = 6  # officials at county level or above decide


@dataclass(frozen=True)
class ExitRules:
    as_of: date
    income_line: float
    sources_present: frozenset[str]
    village_max_incidence: float = VILLAGE_MAX_INCIDENCE

    @property
    def school_year(self) -> int:
        return self.as_of.year if self.as_of.month >= 9 else self.as_of.year - 1


def _check(guarantee: Guarantee, met: bool, verified: bool, zh: str, en: str) -> GuaranteeCheck:
    return GuaranteeCheck(guarantee=guarantee, met=met, verified=verified, note_zh=zh, note_en=en)


def _school_age(m: ExitMember, rules: ExitRules) -> bool:
    low, high = COMPULSORY_AGES
    return low <= age_on(m.birth_date, date(rules.school_year, 9, 1)) <= high


def household_checks(h: ExitHousehold, rules: ExitRules) -> tuple[GuaranteeCheck, ...]:
    living = [m for m in h.members if not m.deceased]
    income_met = h.income_per_capita >= rules.income_line
    checks = [
        _check(
            G.INCOME,
            income_met,
            True,
            f"人均纯收入{h.income_per_capita:.0f}元，标准{rules.income_line:.0f}元",
            f"income per person {h.income_per_capita:.0f}, line {rules.income_line:.0f}",
        )
    ]
    for g, zh in ((G.FOOD, "不愁吃"), (G.CLOTHING, "不愁穿")):
        checks.append(
            _check(
                g,
                income_met,
                False,
                f"{zh}：无专项数据，按收入达标认定",
                "no data: taken as met when income is",
            )
        )
    school_age = [m for m in living if _school_age(m, rules)]
    flagged = CrossCheckRule.CHILD_NOT_ENROLLED.value in h.flags
    if src.ENROLMENT in rules.sources_present:
        out = [m for m in school_age if not set(m.school_statuses) & IN_SCHOOL_STATUSES]
        verified = True
        basis_zh, basis_en = "学籍数据", "enrolment records"
    else:
        out = [m for m in school_age if m.schooling != "in_school"]
        verified = False
        basis_zh, basis_en = "建档立卡记录（无学籍数据）", "household record (no enrolment data)"
    checks.append(
        _check(
            G.COMPULSORY_EDUCATION,
            not out and not flagged,
            verified,
            f"义务教育适龄{len(school_age)}人，未在学{len(out)}人（{basis_zh}）"
            + ("；有核实属实的失学问题" if flagged else ""),
            f"{len(school_age)} of compulsory-school age, {len(out)} out of school "
            f"({basis_en})" + ("; a confirmed out-of-school finding" if flagged else ""),
        )
    )
    if src.MEDICAL_ENROLMENT in rules.sources_present:
        uninsured = [m for m in living if "enrolled" not in m.medical_statuses]
        checks.append(
            _check(
                G.BASIC_MEDICAL,
                not uninsured,
                True,
                f"{len(living)}人中未参加医保{len(uninsured)}人（医保数据）",
                f"{len(uninsured)} of {len(living)} not enrolled in medical insurance",
            )
        )
    else:
        checks.append(
            _check(
                G.BASIC_MEDICAL,
                True,
                False,
                "无医保参保数据，按已保障认定，需入户核实",
                "no medical-insurance data: taken as met, to be checked on the visit",
            )
        )
    checks.append(
        _check(
            G.SAFE_HOUSING,
            h.housing_safe,
            True,
            "住房安全" if h.housing_safe else "住房不安全",
            "housing safe" if h.housing_safe else "housing unsafe",
        )
    )
    checks.append(
        _check(
            G.SAFE_WATER,
            h.water_safe,
            True,
            "饮水安全" if h.water_safe else "饮水不安全",
            "drinking water safe" if h.water_safe else "drinking water unsafe",
        )
    )
    return tuple(checks)


def exit_id(kind: ExitKind, subject: str, year: int) -> str:
    return f"EX-{kind.value[0].upper()}-{subject}-{year}"


def household_proposal(h: ExitHousehold, rules: ExitRules) -> ExitDraft | None:
    """The household's exit proposal, or None when it does not qualify (or is not a poor or
    monitored household, or a verification task of it is still open)."""
    if h.status not in EXIT_STATUSES or h.open_findings:
        return None
    checks = household_checks(h, rules)
    if not all(c.met for c in checks):
        return None
    unverified = [c.guarantee.value for c in checks if not c.verified]
    return ExitDraft(
        id=exit_id(ExitKind.HOUSEHOLD, h.household_id, rules.as_of.year),
        kind=ExitKind.HOUSEHOLD,
        subject_id=h.household_id,
        village_code=h.village_code,
        year=rules.as_of.year,
        checks=checks,
        summary_zh="收入达标，两不愁三保障均已实现" + ("（部分无数据核验）" if unverified else ""),
        summary_en="income above the line and every guarantee met"
        + (f" ({', '.join(unverified)} not verified against data)" if unverified else ""),
    )


def village_proposal(v: VillageExitInput, rules: ExitRules) -> ExitDraft | None:
    if v.exited_year is not None or v.people == 0 or v.open_findings:
        return None
    incidence = v.poor_people / v.people
    if incidence >= rules.village_max_incidence:
        return None
    return ExitDraft(
        id=exit_id(ExitKind.VILLAGE, v.village_code, rules.as_of.year),
        kind=ExitKind.VILLAGE,
        subject_id=v.village_code,
        village_code=v.village_code,
        year=rules.as_of.year,
        incidence=round(incidence, 6),
        summary_zh=f"贫困发生率{incidence:.2%}，低于{rules.village_max_incidence:.0%}",
        summary_en=f"poverty incidence {incidence:.2%}, below {rules.village_max_incidence:.0%}",
    )


def proposals(
    households: Sequence[ExitHousehold], villages: Sequence[VillageExitInput], rules: ExitRules
) -> list[ExitDraft]:
    out = [p for h in households if (p := household_proposal(h, rules)) is not None]
    out.extend(p for v in villages if (p := village_proposal(v, rules)) is not None)
    return out


class ExitDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    note: str = Field(min_length=2, max_length=500)


@dataclass(frozen=True)
class ExitChange:
    proposal_props: dict[str, Any]
    household_props: dict[str, Any]
    village_props: dict[str, Any]


def may_decide(principal: Principal) -> bool:
    """Whether the principal's level decides exits: a county or a wider region (the pages ask
    this to offer the decision form only to those whose decision would be taken)."""
    code = principal.region_code or ""
    return bool(code) and len(code) <= COUNTY_CODE_LENGTH


def decide(
    proposal: ExitProposal, body: ExitDecision, principal: Principal, now: datetime
) -> ExitChange:
    if not may_decide(principal):
        raise PermissionDeniedError(
            "exits are decided by officials of a county or a wider region",
            message_zh="退出须由县级及以上干部审批",
        )
    if proposal.status is not ExitStatus.PROPOSED:
        raise ConflictError(
            f"exit proposal {proposal.id} is already {proposal.status.value}",
            message_zh="该退出建议已审批",
        )
    approved = body.decision == "approve"
    props = {
        "status": (ExitStatus.APPROVED if approved else ExitStatus.REJECTED).value,
        "decided_at": now,
        "decided_by": principal.user_id,
        "decision_note": body.note,
    }
    household: dict[str, Any] = {}
    village: dict[str, Any] = {}
    if approved and proposal.kind is ExitKind.HOUSEHOLD:
        household = {
            "status": HouseholdStatus.EXITED.value,
            "monitor_type": None,
            "exit_year": proposal.year,
        }
    elif approved:
        village = {"exited_year": proposal.year, "exited_at": now}
    return ExitChange(proposal_props=props, household_props=household, village_props=village)

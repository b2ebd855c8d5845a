"""Figures computed from cross-check results. Pure.

Identification error rate (识别错误率), per county:

    poor and monitored households with at least one CONFIRMED finding of an eligibility rule
    (vehicle_owner, business_owner, public_employee, income_above_line)
    ÷ poor and monitored households the cross-check covered.

That is the share of identified households a verified department record shows should not have
been identified; the seed document's target is under 2%. Open findings are not errors yet (a
visit decides), so the rate grows as field workers confirm; the report shows open ones beside it.
The suspect rate counts open eligibility findings too: the rate if every open one is confirmed.
The discrepancy rate is wider: households with a confirmed finding of ANY rule (a death, a
missing disability record, a child out of school ...) ÷ all households checked.

Detection (bench/crosscheck_detection.py): planted discrepancies against findings, per rule, by
subject (the person for person rules, the household for income_above_line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bangfu.vocabulary import CrossCheckRule
from graph.models import CountyCheckStats

TARGET_ERROR_RATE = 0.02  # seed document: identification error kept under 2%

DEFINITION_EN = (
    "identification error rate = poor and monitored households with at least one confirmed "
    "finding of an eligibility rule (vehicle, business, public employee, income above the line) "
    "/ poor and monitored households checked; suspect rate = the same counting open findings "
    "too; discrepancy rate = households with any confirmed finding / households checked"
)
DEFINITION_ZH = (
    "识别错误率 = 经核实存在车辆、工商登记、财政供养或收入超线问题的贫困户和监测户数 ÷ "
    "参与比对的贫困户和监测户数；疑似错误率 = 同上但计入待核查问题；"
    "数据差异率 = 有任一核实属实问题的户数 ÷ 参与比对的户数"
)


class CountyErrorRate(BaseModel):
    model_config = ConfigDict(frozen=True)

    county_code: str
    villages_checked: int
    households_checked: int
    subject_households_checked: int
    findings: int
    open: int
    confirmed: int
    dismissed: int
    households_confirmed: int
    households_misidentified: int
    households_suspect: int
    identification_error_rate: float | None  # None: no poor or monitored household checked
    # The same with open eligibility findings counted too: where the rate goes if every open
    # one is confirmed on the visit (an upper bound while tasks are open).
    suspect_rate: float | None
    discrepancy_rate: float | None
    within_target: bool | None
    checked_at: datetime | None


class ErrorRateReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    counties: list[CountyErrorRate]
    target: float = TARGET_ERROR_RATE
    definition_zh: str = DEFINITION_ZH
    definition_en: str = DEFINITION_EN


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def error_rates(stats: Iterable[CountyCheckStats]) -> ErrorRateReport:
    counties = []
    for s in stats:
        rate = _rate(s.households_misidentified, s.subject_households_checked)
        counties.append(
            CountyErrorRate(
                **s.model_dump(),
                identification_error_rate=rate,
                suspect_rate=_rate(s.households_suspect, s.subject_households_checked),
                discrepancy_rate=_rate(s.households_confirmed, s.households_checked),
                within_target=None if rate is None else rate < TARGET_ERROR_RATE,
            )
        )
    return ErrorRateReport(counties=counties)


class RuleDetection(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: CrossCheckRule
    planted: int
    found: int
    true_positives: int
    precision: float | None  # None: nothing found
    recall: float | None  # None: nothing planted


Subject = tuple[CrossCheckRule, str]  # (rule, person id or household id)


def detection(planted: Iterable[Subject], found: Iterable[Subject]) -> list[RuleDetection]:
    """Precision and recall per rule of `found` subjects against `planted` ones."""
    truth = set(planted)
    seen = set(found)
    out = []
    for rule in CrossCheckRule:
        p = {s for s in truth if s[0] is rule}
        f = {s for s in seen if s[0] is rule}
        tp = len(p & f)
        out.append(
            RuleDetection(
                rule=rule,
                planted=len(p),
                found=len(f),
                true_positives=tp,
                precision=round(tp / len(f), 6) if f else None,
                recall=round(tp / len(p), 6) if p else None,
            )
        )
    return out


def subjects_of(rows: Sequence[tuple[str, str, str | None, str]]) -> set[Subject]:
    """Finding rows (rule, household, person, status) as detection subjects."""
    return {(CrossCheckRule(rule), person or household) for rule, household, person, _ in rows}

"""Resolving a verification task (核查任务): the field worker confirms the department's data (the
household's record is corrected) or dismisses the finding with a reason. Pure: the repository
locks the finding, reads its state and writes what `decide` returns, with the audit event, in
one transaction (graph/repositories/crosscheck.py `resolve`).

What a confirmed finding changes:
- deceased_listed: the member is marked deceased with the department's death date, and the
  household's size and per-capita income are those of the living (自然减少);
- disability_unrecorded: the member's disability grade becomes the certificate's;
- income_above_line: the recorded wage income becomes the department's and the per-capita income
  is recomputed, and the household is flagged;
- vehicle_owner, business_owner, public_employee, child_not_enrolled: the household is flagged
  with the rule (the identification review and the exit rules read the flags).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bangfu.errors import ConflictError
from bangfu.vocabulary import CrossCheckRule, FindingStatus
from graph.models import FindingState
from verification.rules import as_date

R = CrossCheckRule
FLAGGING_RULES = frozenset(
    {
        R.VEHICLE_OWNER,
        R.BUSINESS_OWNER,
        R.PUBLIC_EMPLOYEE,
        R.CHILD_NOT_ENROLLED,
        R.INCOME_ABOVE_LINE,
    }
)


class Resolution(BaseModel):
    """The field worker's answer after the visit (入户核实)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["confirm", "dismiss"]
    note: str = Field(min_length=2, max_length=500, description="what was found; required")


@dataclass(frozen=True)
class FindingChange:
    finding_props: dict[str, Any]
    person_props: dict[str, Any] = field(default_factory=dict)
    household_props: dict[str, Any] = field(default_factory=dict)


def decide(state: FindingState, body: Resolution, actor_id: str, now: datetime) -> FindingChange:
    finding = state.finding
    if finding.status is not FindingStatus.OPEN:
        raise ConflictError(
            f"finding {finding.key} is already {finding.status.value}",
            message_zh="该核查任务已处理",
        )
    status = FindingStatus.CONFIRMED if body.outcome == "confirm" else FindingStatus.DISMISSED
    props = {
        "status": status.value,
        "resolved_at": now,
        "resolved_by": actor_id,
        "resolution_note": body.note,
    }
    if status is FindingStatus.DISMISSED:
        return FindingChange(finding_props=props)
    person: dict[str, Any] = {}
    household: dict[str, Any] = {}
    values = _department_values(state)
    if finding.rule is R.DECEASED_LISTED:
        person = {"deceased": True, "death_date": as_date(values.get("death_date"))}
        size = max(1, state.household_size - 1)
        household = {"size": size, "income_per_capita": round(state.income_total / size, 2)}
    elif finding.rule is R.DISABILITY_UNRECORDED:
        person = {"disability_grade": int(values.get("grade") or 1)}
    if finding.rule is R.INCOME_ABOVE_LINE:
        wages = float(_household_values(state).get("department_wages") or state.income_wage)
        total = state.income_total - state.income_wage + wages
        household = {
            "income_wage": round(wages, 2),
            "income_per_capita": round(total / state.household_size, 2),
        }
    if finding.rule in FLAGGING_RULES and finding.rule.value not in state.flags:
        household["flags"] = [*state.flags, finding.rule.value]
        household["flagged_at"] = now
    return FindingChange(finding_props=props, person_props=person, household_props=household)


def _department_values(state: FindingState) -> dict[str, Any]:
    """The first department record's values (the one a single-record rule rests on)."""
    for item in state.finding.evidence:
        if item.source != "household":
            return dict(item.values)
    return {}


def _household_values(state: FindingState) -> dict[str, Any]:
    for item in state.finding.evidence:
        if item.source == "household":
            return dict(item.values)
    return {}

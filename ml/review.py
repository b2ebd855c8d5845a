"""The monitoring procedure for a risk alert, as pure decisions (like matching/lifecycle.py).

new → accepted (受理, within 2 days) → visited (入户核实 and data comparison) → noticed (村级评议,
then a public notice of at least 5 days) → town_reviewed (乡镇审核) → confirmed (县级审定: the
household becomes a monitored household and gets measures), all within 15 days of the alert;
any step before the decision may dismiss the alert, with a reason. A confirmed household's risk
is eliminated (风险消除) only when its income has stayed above the line for at least six months,
its large medical or schooling costs and its 三保障 and drinking-water problems are resolved,
and it has labour capacity: households without any stay monitored.

The service (ml/alerts.py) takes the alert's lock and reads its state through graph/; these
functions decide whether the step is legal and what it writes. Deadlines are flagged, never
enforced: an overdue step can still be done, and shows as late.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, InvalidInputError, PermissionDeniedError
from bangfu.settings import RiskSettings
from bangfu.vocabulary import AlertStatus, HouseholdStatus, MonitorType, NeedCategory, label_zh
from graph.models import AlertChange, AlertState, IncomeCheck, MeasureNeed, RiskAlert

S = AlertStatus


class ReviewAction(StrEnum):
    ACCEPT = "accept"
    VISIT = "visit"
    NOTICE = "notice"
    TOWN_REVIEW = "town_review"
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    RECORD_INCOME = "record_income"
    ELIMINATE = "eliminate"


_BEFORE_DECISION = (S.NEW, S.ACCEPTED, S.VISITED, S.NOTICED, S.TOWN_REVIEWED)
TRANSITIONS: dict[ReviewAction, dict[AlertStatus, AlertStatus]] = {
    ReviewAction.ACCEPT: {S.NEW: S.ACCEPTED},
    ReviewAction.VISIT: {S.ACCEPTED: S.VISITED},
    ReviewAction.NOTICE: {S.VISITED: S.NOTICED},
    ReviewAction.TOWN_REVIEW: {S.NOTICED: S.TOWN_REVIEWED},
    ReviewAction.CONFIRM: {S.TOWN_REVIEWED: S.CONFIRMED},
    ReviewAction.DISMISS: {s: S.DISMISSED for s in _BEFORE_DECISION},
    ReviewAction.RECORD_INCOME: {S.CONFIRMED: S.CONFIRMED},
    ReviewAction.ELIMINATE: {S.CONFIRMED: S.ELIMINATED},
}
OPEN_STATUSES: tuple[str, ...] = tuple(s.value for s in _BEFORE_DECISION)

# The highest region level (longest code) an official may act at, per step: a town review
# needs an official of the town or above (code of at most 9 digits), a county decision one of
# the county or above (6). Field workers take part up to the village appraisal and notice.
_MAX_CODE_LENGTH = {
    ReviewAction.TOWN_REVIEW: 9,
    ReviewAction.CONFIRM: 6,
    ReviewAction.DISMISS: 9,
    ReviewAction.ELIMINATE: 6,
}
_FIELD_WORKER_ACTIONS = frozenset(
    {ReviewAction.ACCEPT, ReviewAction.VISIT, ReviewAction.NOTICE, ReviewAction.RECORD_INCOME}
)


class Actor(BaseModel):
    """Who acts and where they may act (region-code prefixes from api/policy.py)."""

    model_config = ConfigDict(frozen=True)

    principal: Principal
    prefixes: tuple[str, ...]
    request_id: str | None = None


class InvalidStepError(ConflictError):
    code = "invalid_transition"
    message_zh = "当前状态不允许该操作"

    def __init__(self, status: str, action: ReviewAction) -> None:
        allowed = ", ".join(a.value for a in allowed_actions(status)) or "none"
        super().__init__(
            f"cannot {action.value} an alert that is {status}; allowed: {allowed}",
            message_zh=f"预警当前为{label_zh(status)}，不能执行该步骤；可执行：{allowed}",
        )


def allowed_actions(status: str) -> list[ReviewAction]:
    return [a for a, moves in TRANSITIONS.items() if status in moves]


def next_status(status: str, action: ReviewAction) -> AlertStatus:
    try:
        return TRANSITIONS[action][AlertStatus(status)]
    except (KeyError, ValueError):
        raise InvalidStepError(status, action) from None


# --- deadlines ---------------------------------------------------------------------------------


def step_deadlines(settings: RiskSettings) -> dict[AlertStatus, int]:
    """Days after the alert by which the step leaving each status is due. From the 2-day
    acceptance and the 15-day decision: the notice must start by day 15 - 5 - 2 = 8 so that a
    5-day notice leaves two days for the town review (day 14) and the county decision (day 15);
    the home visit is due two days before the notice (day 6)."""
    notice_by = settings.decision_days - settings.notice_min_days - 2
    return {
        S.NEW: settings.accept_days,
        S.ACCEPTED: max(settings.accept_days, notice_by - 2),
        S.VISITED: notice_by,
        S.NOTICED: settings.decision_days - 1,
        S.TOWN_REVIEWED: settings.decision_days,
    }


def due_at(status: str, created_at: datetime, settings: RiskSettings) -> datetime | None:
    days = step_deadlines(settings).get(AlertStatus(status))
    return None if days is None else created_at + timedelta(days=days)


class Timeliness(BaseModel):
    model_config = ConfigDict(frozen=True)

    due_at: datetime | None
    overdue: bool
    late_steps: tuple[str, ...]


def timeliness(alert: RiskAlert, now: datetime, settings: RiskSettings) -> Timeliness:
    """Is the current step overdue, and which completed steps were done late?"""
    deadlines = step_deadlines(settings)
    done = (
        (S.NEW, alert.accepted_at, "accept"),
        (S.ACCEPTED, alert.visited_at, "visit"),
        (S.VISITED, alert.notice_start, "notice"),
        (S.NOTICED, alert.town_reviewed_at, "town_review"),
        (S.TOWN_REVIEWED, alert.decided_at, "decision"),
    )
    late = tuple(
        name
        for status, at, name in done
        if at is not None and at > alert.created_at + timedelta(days=deadlines[status])
    )
    due = due_at(alert.status, alert.created_at, settings)
    return Timeliness(due_at=due, overdue=due is not None and now > due, late_steps=late)


# --- what each step carries --------------------------------------------------------------------


class Visit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    findings: str = Field(min_length=2, max_length=2000)
    verified_income_per_capita: float | None = Field(default=None, ge=0, le=10_000_000)
    data_matches: bool = True  # department data agree with what the visit found


class Notice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    appraisal: str = Field(min_length=2, max_length=2000)
    notice_days: int = Field(default=5, ge=1, le=60)
    proposed_type: MonitorType | None = None


class TownReview(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str = Field(min_length=2, max_length=2000)


class Measure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: NeedCategory
    title: str = Field(min_length=2, max_length=60)
    text: str = Field(min_length=4, max_length=1000)
    amount: float = Field(default=0, ge=0, le=1_000_000)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    monitor_type: MonitorType
    measures: tuple[Measure, ...] = Field(default=(), max_length=20)
    helper_ids: tuple[str, ...] = Field(default=(), max_length=20)
    note: str | None = Field(default=None, max_length=2000)


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=2, max_length=2000)


class IncomeCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    checked_on: date
    per_capita_income: float = Field(ge=0, le=10_000_000)


class Elimination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    costs_resolved: bool  # large medical or schooling costs no longer weigh on the household
    guarantees_resolved: bool  # 三保障: compulsory education, basic medical care, safe housing
    water_resolved: bool  # safe drinking water
    note: str | None = Field(default=None, max_length=2000)


# --- decisions ---------------------------------------------------------------------------------

Decider = Callable[[AlertState], AlertChange]


def _check_actor(actor: Actor, action: ReviewAction) -> None:
    principal = actor.principal
    if principal.role is Role.FIELD_WORKER:
        if action not in _FIELD_WORKER_ACTIONS:
            raise PermissionDeniedError(
                f"field workers may not {action.value}", message_zh="驻村干部无权执行该审核步骤"
            )
        return
    if principal.role is not Role.OFFICIAL:
        raise PermissionDeniedError(
            f"role {principal.role.value} may not review alerts", message_zh="无权审核预警"
        )
    limit = _MAX_CODE_LENGTH.get(action)
    code = principal.region_code or ""
    if limit is not None and len(code) > limit:
        level = "乡镇" if limit == 9 else "县级"
        raise PermissionDeniedError(
            f"{action.value} needs an official at {'town' if limit == 9 else 'county'} level "
            "or above",
            message_zh=f"该步骤须由{level}及以上干部办理",
        )


def _stamp(
    state: AlertState, action: ReviewAction, now: datetime, settings: RiskSettings
) -> dict[str, Any]:
    status = next_status(state.alert.status, action)
    return {
        "status": status.value,
        "due_at": due_at(status, state.alert.created_at, settings),
        "updated_at": now,
    }


def _response(state: AlertState, props: dict[str, Any], action: ReviewAction) -> dict[str, Any]:
    return {
        "alert_id": state.alert.id,
        "action": action.value,
        "from_status": state.alert.status,
        "to_status": props["status"],
    }


def decide_accept(actor: Actor, now: datetime, settings: RiskSettings) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.ACCEPT)
        props = _stamp(state, ReviewAction.ACCEPT, now, settings) | {"accepted_at": now}
        return AlertChange(alert_props=props, response=_response(state, props, ReviewAction.ACCEPT))

    return decide


def decide_visit(actor: Actor, visit: Visit, now: datetime, settings: RiskSettings) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.VISIT)
        props = _stamp(state, ReviewAction.VISIT, now, settings) | {
            "visited_at": now,
            "visit_findings": visit.findings.strip(),
            "verified_income": visit.verified_income_per_capita,
            "data_matches": visit.data_matches,
        }
        return AlertChange(alert_props=props, response=_response(state, props, ReviewAction.VISIT))

    return decide


def decide_notice(actor: Actor, notice: Notice, now: datetime, settings: RiskSettings) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.NOTICE)
        if notice.notice_days < settings.notice_min_days:
            raise InvalidInputError(
                f"a public notice runs at least {settings.notice_min_days} days",
                message_zh=f"公示期不得少于{settings.notice_min_days}天",
            )
        props = _stamp(state, ReviewAction.NOTICE, now, settings) | {
            "appraisal": notice.appraisal.strip(),
            "notice_start": now,
            "notice_days": notice.notice_days,
            "proposed_type": notice.proposed_type.value if notice.proposed_type else None,
        }
        return AlertChange(alert_props=props, response=_response(state, props, ReviewAction.NOTICE))

    return decide


def notice_ends(alert: RiskAlert) -> datetime | None:
    if alert.notice_start is None or alert.notice_days is None:
        return None
    return alert.notice_start + timedelta(days=alert.notice_days)


def decide_town_review(
    actor: Actor, review: TownReview, now: datetime, settings: RiskSettings
) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.TOWN_REVIEW)
        next_status(state.alert.status, ReviewAction.TOWN_REVIEW)
        ends = notice_ends(state.alert)
        if ends is None or now < ends:
            raise ConflictError(
                f"the public notice runs until {ends:%Y-%m-%d %H:%M}" if ends else "no notice",
                message_zh="公示期未满，不能进行乡镇审核",
            )
        props = _stamp(state, ReviewAction.TOWN_REVIEW, now, settings) | {
            "town_reviewed_at": now,
            "town_note": review.note.strip(),
        }
        return AlertChange(
            alert_props=props, response=_response(state, props, ReviewAction.TOWN_REVIEW)
        )

    return decide


def decide_confirm(
    actor: Actor, decision: Decision, now: datetime, settings: RiskSettings
) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.CONFIRM)
        props = _stamp(state, ReviewAction.CONFIRM, now, settings) | {
            "decided_at": now,
            "monitor_type": decision.monitor_type.value,
            "decision_note": decision.note,
        }
        measures = tuple(
            MeasureNeed(
                id=f"N-{state.alert.id[3:]}-{i + 1:02d}",
                category=m.category.value,
                kind=m.category.kind.value,
                title=m.title.strip(),
                text=m.text.strip(),
                amount=round(m.amount, 2),
                urgency="high",
            )
            for i, m in enumerate(decision.measures)
        )
        response = _response(state, props, ReviewAction.CONFIRM) | {
            "monitor_type": decision.monitor_type.value,
            "needs_created": [m.id for m in measures],
            "helpers_linked": list(decision.helper_ids),
        }
        return AlertChange(
            alert_props=props,
            household_props={
                "status": HouseholdStatus.MONITORED.value,
                "monitor_type": decision.monitor_type.value,
                "monitored_since": now.date(),
            },
            measures=measures,
            helper_ids=tuple(dict.fromkeys(decision.helper_ids)),
            response=response,
        )

    return decide


def decide_dismiss(
    actor: Actor, dismissal: Dismissal, now: datetime, settings: RiskSettings
) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.DISMISS)
        props = _stamp(state, ReviewAction.DISMISS, now, settings) | {
            "decided_at": now,
            "dismissed_reason": dismissal.reason.strip(),
        }
        return AlertChange(
            alert_props=props, response=_response(state, props, ReviewAction.DISMISS)
        )

    return decide


def decide_record_income(
    actor: Actor, check: IncomeCheckIn, now: datetime, settings: RiskSettings
) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.RECORD_INCOME)
        next_status(state.alert.status, ReviewAction.RECORD_INCOME)
        if check.checked_on > now.date():
            raise InvalidInputError(
                "an income check cannot be dated in the future",
                message_zh="收入核查日期不能晚于今天",
            )
        kept = [c for c in state.alert.income_checks if c.checked_on != check.checked_on]
        checks = tuple(
            sorted(
                [
                    *kept,
                    IncomeCheck(
                        checked_on=check.checked_on,
                        per_capita_income=round(check.per_capita_income, 2),
                    ),
                ],
                key=lambda c: c.checked_on,
            )
        )
        props = {"updated_at": now}
        return AlertChange(
            alert_props=props,
            income_checks=checks,
            response={
                "alert_id": state.alert.id,
                "action": ReviewAction.RECORD_INCOME.value,
                "from_status": state.alert.status,
                "to_status": state.alert.status,
                "income_checks": len(checks),
            },
        )

    return decide


def months_above_line(checks: Sequence[IncomeCheck], line_of: Callable[[int], float]) -> float:
    """How long income has stayed above the line: from the first check of the unbroken run of
    above-line checks that ends with the latest one, to the latest one (months of 30.44 days).
    Zero when the latest check is under the line or there are none."""
    run_start: date | None = None
    latest: date | None = None
    for c in sorted(checks, key=lambda c: c.checked_on):
        latest = c.checked_on
        if c.per_capita_income > line_of(c.checked_on.year):
            run_start = run_start or c.checked_on
        else:
            run_start = None
    if run_start is None or latest is None:
        return 0.0
    return (latest - run_start).days / 30.44


def decide_eliminate(
    actor: Actor, elimination: Elimination, now: datetime, settings: RiskSettings
) -> Decider:
    def decide(state: AlertState) -> AlertChange:
        _check_actor(actor, ReviewAction.ELIMINATE)
        next_status(state.alert.status, ReviewAction.ELIMINATE)
        code = state.alert.village_code
        months = months_above_line(
            state.alert.income_checks, lambda year: settings.monitoring_line(code, year)
        )
        problems_zh: list[str] = []
        problems_en: list[str] = []
        if not state.labour_capable:
            problems_zh.append("家中无劳动能力，继续监测")
            problems_en.append("the household has no labour capacity and stays monitored")
        if months < settings.elimination_months:
            problems_zh.append(
                f"收入稳定高于监测线仅{months:.1f}个月，需满{settings.elimination_months}个月"
            )
            problems_en.append(
                f"income above the line for {months:.1f} months; "
                f"{settings.elimination_months} needed"
            )
        for ok, zh, en in (
            (
                elimination.costs_resolved,
                "大额医疗或教育支出未解决",
                "large medical or schooling costs unresolved",
            ),
            (
                elimination.guarantees_resolved,
                "三保障未落实",
                "三保障 (schooling, medical care, housing) unresolved",
            ),
            (elimination.water_resolved, "饮水安全未保障", "drinking water unsafe"),
        ):
            if not ok:
                problems_zh.append(zh)
                problems_en.append(en)
        if problems_zh:
            raise ConflictError(
                "risk cannot be eliminated: " + "; ".join(problems_en),
                message_zh="暂不能消除风险：" + "；".join(problems_zh),
            )
        props = _stamp(state, ReviewAction.ELIMINATE, now, settings) | {
            "eliminated_at": now,
            "elimination_note": elimination.note,
        }
        return AlertChange(
            alert_props=props,
            household_props={"status": HouseholdStatus.EXITED.value, "monitor_type": None},
            response=_response(state, props, ReviewAction.ELIMINATE)
            | {"months_above_line": round(months, 1)},
        )

    return decide


# --- the public notice -------------------------------------------------------------------------

_DIGITS = re.compile(r"\d{6,}")


def masked_name(name: str | None) -> str:
    """ "张某某": the surname only, as public notices of assistance are written."""
    if not name:
        return "某某"
    surname = name[:2] if len(name) >= 4 else name[:1]
    return f"{surname}某某"


def public_notice(state: AlertState, settings: RiskSettings) -> tuple[str, str]:
    """The village's public notice (公示) in Chinese and English. It names the village, the
    household by surname and its size, the proposed monitoring type and the notice period;
    never ID numbers, phones, bank accounts or health details (the reasons for the alert are
    left out on purpose: most are illnesses)."""
    alert = state.alert
    if alert.notice_start is None or alert.notice_days is None:
        raise ConflictError("no public notice yet", message_zh="尚未进入公示")
    village = state.village_name or "本村"
    name = masked_name(state.head_name)
    start = alert.notice_start.date()
    end = start + timedelta(days=alert.notice_days)
    proposed = alert.monitor_type or alert.proposed_type
    type_zh = f"，监测类型为{label_zh(proposed)}" if proposed else ""
    type_en = f" ({proposed.replace('_', ' ')})" if proposed else ""
    zh = (
        f"关于拟纳入防止返贫监测对象的公示\n"
        f"经部门预警、入户核实和村民代表评议，拟将{village}{name}户（家庭人口{state.household_size}人）"
        f"纳入防止返贫监测对象{type_zh}。\n"
        f"公示期：{start:%Y年%m月%d日}至{end:%Y年%m月%d日}（不少于{settings.notice_min_days}天）。"
        f"如有异议，请在公示期内向村民委员会或驻村工作队反映。\n"
        f"{village}村民委员会"
    )
    en = (
        "Public notice: proposed monitoring household\n"
        f"After a department alert, a home visit and an appraisal by villagers' representatives, "
        f"the {name} household of {village} ({state.household_size} people) is proposed as a "
        f"household under monitoring against falling back into poverty{type_en}.\n"
        f"Notice period: {start:%Y-%m-%d} to {end:%Y-%m-%d} (at least "
        f"{settings.notice_min_days} days). Objections may be raised with the village committee "
        "or the resident work team during the notice period.\n"
        f"{village} villagers' committee"
    )
    # Belt and braces: nothing that looks like an ID, phone or account number gets through.
    return _DIGITS.sub("***", zh), _DIGITS.sub("***", en)

"""The project chain as pure decisions (like matching/lifecycle.py for needs): which action moves
a project from which stage to which, who may take it, and what it writes.

proposed → approved (or rejected) → implementation (from the first achieved milestone) →
operation (every milestone achieved, progress 100%) → completed. Milestones, funds and
beneficiaries are added while the project is alive; income effects are reported once it runs.

Who decides (written down here, enforced here and in api/policy.py):
- officials and field workers propose, for a village or (officials of the county or above) the
  whole county, inside their own region;
- an official of the county or above whose region covers the project approves or rejects it,
  never the one who proposed it (四眼原则); budgets over `county_approval_limit` need the city
  or the province (县级审批权限);
- allocating and disbursing money and the operation/completion steps (验收) are for officials of
  the county or above (the county finance bureau pays: 县级报账制);
- milestones, beneficiaries and income effects are recorded by officials and field workers of
  the project's region (the people who see the work).

Every change carries the project's `version`; a client that sends `expected_version` gets 409
when somebody changed the project since it read it (optimistic), and the change itself runs
under the project's lock (graph/repositories/projects.py), so two approvals never both pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from bangfu.settings import ProjectSettings
from bangfu.vocabulary import FundSource, ProjectStage, ProjectType, label_zh
from graph.project_records import (
    Beneficiary,
    FundLine,
    IncomeEffect,
    Milestone,
    ProjectChange,
    ProjectState,
)


class ProjectAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ADD_MILESTONE = "add_milestone"
    ACHIEVE_MILESTONE = "achieve_milestone"
    START_OPERATION = "start_operation"
    COMPLETE = "complete"
    ALLOCATE = "allocate"
    DISBURSE = "disburse"
    ADD_BENEFICIARIES = "add_beneficiaries"
    REPORT_INCOME = "report_income"


S = ProjectStage
_ALIVE = (S.APPROVED, S.IMPLEMENTATION, S.OPERATION)
TRANSITIONS: dict[ProjectAction, dict[ProjectStage, ProjectStage]] = {
    ProjectAction.APPROVE: {S.PROPOSED: S.APPROVED},
    ProjectAction.REJECT: {S.PROPOSED: S.REJECTED},
    ProjectAction.ADD_MILESTONE: {S.APPROVED: S.APPROVED, S.IMPLEMENTATION: S.IMPLEMENTATION},
    # The first achieved milestone is the start of implementation.
    ProjectAction.ACHIEVE_MILESTONE: {
        S.APPROVED: S.IMPLEMENTATION,
        S.IMPLEMENTATION: S.IMPLEMENTATION,
    },
    ProjectAction.START_OPERATION: {S.IMPLEMENTATION: S.OPERATION},
    ProjectAction.COMPLETE: {S.OPERATION: S.COMPLETED},
    # No money before approval: allocations follow the approved budget.
    ProjectAction.ALLOCATE: {s: s for s in _ALIVE},
    ProjectAction.DISBURSE: {s: s for s in _ALIVE},
    ProjectAction.ADD_BENEFICIARIES: {s: s for s in (S.PROPOSED, *_ALIVE)},
    ProjectAction.REPORT_INCOME: {s: s for s in (S.IMPLEMENTATION, S.OPERATION, S.COMPLETED)},
}

# Longest region code (lowest level) an official may hold to take the action: 6 = county or
# above. Actions not listed may be taken at any level inside the project's region.
_MAX_CODE_LENGTH: dict[ProjectAction, int] = {
    ProjectAction.APPROVE: 6,
    ProjectAction.REJECT: 6,
    ProjectAction.START_OPERATION: 6,
    ProjectAction.COMPLETE: 6,
    ProjectAction.ALLOCATE: 6,
    ProjectAction.DISBURSE: 6,
}
_OFFICIAL_ONLY = frozenset(_MAX_CODE_LENGTH)
# Budgets above the county's limit: the city (4 digits) or the province approves.
CITY_CODE_LENGTH = 4

_LEVEL_ZH = {2: "省级", 4: "市级", 6: "县级", 9: "乡镇", 12: "村级"}


class InvalidProjectStepError(ConflictError):
    code = "invalid_transition"
    message_zh = "项目当前阶段不允许该操作"

    def __init__(self, stage: ProjectStage, action: ProjectAction) -> None:
        allowed = ", ".join(a.value for a in allowed_actions(stage)) or "none"
        super().__init__(
            f"cannot {action.value} a project that is {stage.value}; allowed: {allowed}",
            message_zh=f"项目当前阶段为{label_zh(stage.value)}，不能执行该操作；可执行：{allowed}",
        )


class StaleVersionError(ConflictError):
    code = "stale_version"
    message_zh = "项目已被他人修改，请刷新后重试"


def allowed_actions(stage: ProjectStage) -> list[ProjectAction]:
    return [a for a, moves in TRANSITIONS.items() if stage in moves]


def next_stage(stage: ProjectStage, action: ProjectAction) -> ProjectStage:
    try:
        return TRANSITIONS[action][stage]
    except KeyError:
        raise InvalidProjectStepError(stage, action) from None


class Actor(BaseModel):
    """Who acts and where (region-code prefixes from api/policy.py)."""

    model_config = ConfigDict(frozen=True)

    principal: Principal
    prefixes: tuple[str, ...]
    request_id: str | None = None


def check_actor(
    principal: Principal,
    action: ProjectAction,
    settings: ProjectSettings,
    state: ProjectState | None = None,
) -> None:
    """Raise PermissionDeniedError unless `principal` may take `action` (scope is checked by
    the query: a project outside the caller's prefixes is not found)."""
    if principal.role not in (Role.OFFICIAL, Role.FIELD_WORKER):
        raise PermissionDeniedError(
            f"role {principal.role.value} may not change projects", message_zh="无权修改项目"
        )
    if action in _OFFICIAL_ONLY and principal.role is not Role.OFFICIAL:
        raise PermissionDeniedError(
            f"only officials may {action.value}", message_zh="该操作须由干部办理"
        )
    limit = level_limit(action, state.budget if state is not None else None, settings)
    code = principal.region_code or ""
    if limit is not None and len(code) > limit:
        raise PermissionDeniedError(
            f"{action.value} needs an official at the level of code length {limit} or above",
            message_zh=f"该操作须由{_LEVEL_ZH[limit]}及以上干部办理",
        )
    if (
        action in (ProjectAction.APPROVE, ProjectAction.REJECT)
        and state is not None
        and state.proposed_by == principal.user_id
    ):
        raise PermissionDeniedError(
            "a project is approved by someone other than its proposer",
            message_zh="项目不能由申报人本人审批",
        )


def level_limit(
    action: ProjectAction, budget: float | None, settings: ProjectSettings
) -> int | None:
    """The longest region code an official may hold to take `action` on a project with this
    budget (6: county or above; 4: city or above for an approval over the county's limit), or
    None when any level inside the project's region may. The pages use it to show a form only
    to officials of a level that may use it; check_actor enforces it."""
    limit = _MAX_CODE_LENGTH.get(action)
    if (
        action is ProjectAction.APPROVE
        and budget is not None
        and budget > settings.county_approval_limit
    ):
        limit = CITY_CODE_LENGTH
    return limit


def check_propose(principal: Principal, region_code: str) -> None:
    if principal.role not in (Role.OFFICIAL, Role.FIELD_WORKER):
        raise PermissionDeniedError(
            f"role {principal.role.value} may not propose projects", message_zh="无权申报项目"
        )
    if len(region_code) not in (6, 12):
        raise InvalidInputError(
            "a project belongs to a village (12 digits) or a whole county (6 digits)",
            message_zh="项目所在地须为村（12位）或县（6位）",
        )


# --- what a client sends ---------------------------------------------------------------------

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def in_project_era(value: date) -> date:
    """Project dates lie in 2000-2100: outside that a date is a typo, and date arithmetic in
    the checks (a date minus `stall_days`) must stay inside the calendar."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"dates lie between {EARLIEST} and {LATEST}")
    return value


ProjectDate = Annotated[date, AfterValidator(in_project_era)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Versioned(Strict):
    expected_version: int | None = Field(
        default=None, ge=0, description="the version you read; 409 if the project changed since"
    )


class ProjectDraft(Strict):
    """A proposal (立项申报). Stage, funds and the id are the server's."""

    name: str = Field(min_length=4, max_length=80)
    type: ProjectType
    region_code: str = Field(pattern=r"^\d{6}(\d{6})?$")
    budget: float = Field(gt=0, le=1_000_000_000)
    main_source: FundSource
    managing_body: str = Field(min_length=2, max_length=80)
    operating_body: str = Field(min_length=2, max_length=80)
    supervising_body: str = Field(min_length=2, max_length=80)
    start_date: ProjectDate


class DecisionIn(Versioned):
    note: str | None = Field(default=None, max_length=1000)


class RejectionIn(Versioned):
    reason: str = Field(min_length=2, max_length=1000)


class MilestoneIn(Versioned):
    name: str = Field(min_length=2, max_length=60)
    planned_date: ProjectDate
    progress_pct: int = Field(gt=0, le=100, description="the project's progress once achieved")


class AchievementIn(Versioned):
    achieved_date: ProjectDate


class FundsIn(Versioned):
    source: FundSource
    amount: float = Field(gt=0, le=1_000_000_000)


class BeneficiariesIn(Versioned):
    household_ids: tuple[str, ...] = Field(min_length=1, max_length=500)


class IncomeIn(Versioned):
    household_id: str = Field(min_length=1, max_length=40)
    year: int = Field(ge=2000, le=2100)
    amount: float = Field(ge=0, le=1_000_000, description="yuan gained that year")


class StepIn(Versioned):
    note: str | None = Field(default=None, max_length=1000)


# --- decisions -------------------------------------------------------------------------------

Decider = Callable[[ProjectState, tuple[Beneficiary, ...]], ProjectChange]


def _start(
    state: ProjectState,
    actor: Actor,
    action: ProjectAction,
    settings: ProjectSettings,
    expected_version: int | None,
) -> ProjectStage:
    check_actor(actor.principal, action, settings, state)
    if expected_version is not None and expected_version != state.version:
        raise StaleVersionError(
            f"the project is at version {state.version}, not {expected_version}"
        )
    return next_stage(state.project.stage, action)


def _change(
    state: ProjectState,
    action: ProjectAction,
    stage: ProjectStage,
    now: datetime,
    props: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    **fields: Any,
) -> ProjectChange:
    version = state.version + 1
    all_props = {"stage": stage.value, "version": version, "updated_at": now, **(props or {})}
    response = {
        "project_id": state.project.id,
        "action": action.value,
        "from_stage": state.project.stage.value,
        "to_stage": stage.value,
        "version": version,
        **(extra or {}),
    }
    return ProjectChange(project_props=all_props, response=response, **fields)


def decide_approve(
    actor: Actor, body: DecisionIn, now: datetime, settings: ProjectSettings
) -> Decider:
    def decide(state: ProjectState, _: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(state, actor, ProjectAction.APPROVE, settings, body.expected_version)
        props = {
            "approved_by": actor.principal.user_id,
            "decided_by": actor.principal.user_id,
            "approved_at": now.date(),
            "decision_note": body.note,
        }
        return _change(state, ProjectAction.APPROVE, stage, now, props)

    return decide


def decide_reject(
    actor: Actor, body: RejectionIn, now: datetime, settings: ProjectSettings
) -> Decider:
    def decide(state: ProjectState, _: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(state, actor, ProjectAction.REJECT, settings, body.expected_version)
        props = {
            "decided_by": actor.principal.user_id,
            "rejected_at": now.date(),
            "decision_note": body.reason.strip(),
        }
        return _change(state, ProjectAction.REJECT, stage, now, props)

    return decide


def decide_add_milestone(
    actor: Actor, body: MilestoneIn, now: datetime, settings: ProjectSettings
) -> Decider:
    def decide(state: ProjectState, _: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(state, actor, ProjectAction.ADD_MILESTONE, settings, body.expected_version)
        last = state.milestones[-1] if state.milestones else None
        if last is not None and body.progress_pct <= last.progress_pct:
            raise InvalidInputError(
                f"milestones advance the progress: the last one reaches {last.progress_pct}%",
                message_zh=f"里程碑进度须高于上一个（{last.progress_pct}%）",
            )
        if last is not None and body.planned_date < last.planned_date:
            raise InvalidInputError(
                "milestones are planned in order", message_zh="里程碑计划日期须不早于上一个"
            )
        seq = len(state.milestones) + 1
        milestone = Milestone(
            id=f"{state.project.id}-M{seq:02d}",
            project_id=state.project.id,
            seq=seq,
            name=body.name.strip(),
            planned_date=body.planned_date,
            progress_pct=body.progress_pct,
        )
        return _change(
            state,
            ProjectAction.ADD_MILESTONE,
            stage,
            now,
            extra={"milestone_id": milestone.id},
            add_milestone=milestone,
        )

    return decide


def decide_achieve_milestone(
    actor: Actor, milestone_id: str, body: AchievementIn, now: datetime, settings: ProjectSettings
) -> Decider:
    def decide(state: ProjectState, _: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(
            state, actor, ProjectAction.ACHIEVE_MILESTONE, settings, body.expected_version
        )
        milestone = next((m for m in state.milestones if m.id == milestone_id), None)
        if milestone is None:
            raise NotFoundError(f"milestone {milestone_id} not found", message_zh="未找到该里程碑")
        if milestone.achieved_date is not None:
            raise ConflictError(
                f"milestone {milestone_id} was achieved on {milestone.achieved_date}",
                message_zh="该里程碑已完成",
            )
        if body.achieved_date > now.date():
            raise InvalidInputError(
                "a milestone cannot be achieved in the future", message_zh="完成日期不能晚于今天"
            )
        last = state.last_milestone_at
        props = {
            "progress_pct": max(state.progress_pct, milestone.progress_pct),
            "last_milestone_at": max(last, body.achieved_date) if last else body.achieved_date,
        }
        return _change(
            state,
            ProjectAction.ACHIEVE_MILESTONE,
            stage,
            now,
            props,
            extra={"milestone_id": milestone_id, "progress_pct": props["progress_pct"]},
            achieve_milestone=(milestone_id, body.achieved_date),
        )

    return decide


def decide_step(
    actor: Actor, action: ProjectAction, body: StepIn, now: datetime, settings: ProjectSettings
) -> Decider:
    """Start operation (every milestone achieved) or complete the project."""

    def decide(state: ProjectState, _: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(state, actor, action, settings, body.expected_version)
        if action is ProjectAction.START_OPERATION and state.progress_pct < 100:
            raise ConflictError(
                f"progress is {state.progress_pct}%: operation starts at 100%",
                message_zh=f"项目进度为{state.progress_pct}%，完工验收后方可运营",
            )
        return _change(state, action, stage, now, {"step_note": body.note})

    return decide


def _line(state: ProjectState, source: FundSource) -> FundLine:
    found = next((f for f in state.funds if f.source is source), None)
    return found or FundLine(project_id=state.project.id, source=source, allocated=0, disbursed=0)


def _money(value: float) -> float:
    return round(value, 2)


def decide_funds(
    actor: Actor, action: ProjectAction, body: FundsIn, now: datetime, settings: ProjectSettings
) -> Decider:
    """Allocate (下达) money of one source up to the approved budget, or disburse (拨付) it up to
    what that source allocated."""

    def decide(state: ProjectState, _: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(state, actor, action, settings, body.expected_version)
        line = _line(state, body.source)
        amount = _money(body.amount)
        allocated_total = float(state.project.funds_allocated)
        disbursed_total = float(state.project.funds_disbursed)
        if action is ProjectAction.ALLOCATE:
            if allocated_total + amount > state.budget + 0.005:
                raise ConflictError(
                    f"allocations would reach {allocated_total + amount:.2f}, over the approved "
                    f"budget of {state.budget:.2f}",
                    message_zh=f"下达资金将超过批复预算（{state.budget:.2f}元）",
                )
            line = line.model_copy(update={"allocated": _money(line.allocated + amount)})
            allocated_total = _money(allocated_total + amount)
        else:
            if line.disbursed + amount > line.allocated + 0.005:
                raise ConflictError(
                    f"{body.source.value}: disbursing {amount:.2f} would exceed the "
                    f"{line.allocated - line.disbursed:.2f} allocated and not yet paid",
                    message_zh=(
                        f"{label_zh(body.source.value)}可拨付余额为"
                        f"{line.allocated - line.disbursed:.2f}元，不足以拨付"
                    ),
                )
            line = line.model_copy(update={"disbursed": _money(line.disbursed + amount)})
            disbursed_total = _money(disbursed_total + amount)
        props = {"funds_allocated": allocated_total, "funds_disbursed": disbursed_total}
        extra = {
            "source": body.source.value,
            "amount": amount,
            "source_allocated": line.allocated,
            "source_disbursed": line.disbursed,
            **props,
        }
        return _change(state, action, stage, now, props, extra, fund_lines=(line,))

    return decide


def decide_add_beneficiaries(
    actor: Actor, body: BeneficiariesIn, now: datetime, settings: ProjectSettings
) -> Decider:
    """Households must lie in the project's region and the caller's (`candidates` are those the
    repository found there); ones already benefiting are skipped."""

    def decide(state: ProjectState, candidates: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(
            state, actor, ProjectAction.ADD_BENEFICIARIES, settings, body.expected_version
        )
        wanted = tuple(dict.fromkeys(body.household_ids))
        found = {c.household_id for c in candidates}
        missing = [h for h in wanted if h not in found]
        if missing:
            raise NotFoundError(
                f"{len(missing)} household(s) not found in the project's region: "
                + ", ".join(missing[:5]),
                message_zh=f"有{len(missing)}户不在项目所在地区或不存在",
            )
        present = {b.household_id for b in state.beneficiaries}
        added = tuple(h for h in wanted if h not in present)
        return _change(
            state,
            ProjectAction.ADD_BENEFICIARIES,
            stage,
            now,
            extra={"added": len(added), "beneficiaries": len(present) + len(added)},
            add_beneficiaries=added,
        )

    return decide


def decide_report_income(
    actor: Actor, body: IncomeIn, now: datetime, settings: ProjectSettings
) -> Decider:
    """The income a beneficiary gained from the project in one year; reporting the same
    household and year again replaces the figure (the audit event keeps the old one)."""

    def decide(state: ProjectState, _: tuple[Beneficiary, ...]) -> ProjectChange:
        stage = _start(state, actor, ProjectAction.REPORT_INCOME, settings, body.expected_version)
        if body.household_id not in {b.household_id for b in state.beneficiaries}:
            raise InvalidInputError(
                f"household {body.household_id} does not benefit from this project",
                message_zh="该户不是本项目的受益户",
            )
        if body.year > now.year:
            raise InvalidInputError(
                "income cannot be reported for a future year", message_zh="不能填报未来年度的收入"
            )
        previous = next(
            (
                e.amount
                for e in state.income_effects
                if e.household_id == body.household_id and e.year == body.year
            ),
            None,
        )
        effect = IncomeEffect(
            project_id=state.project.id,
            household_id=body.household_id,
            year=body.year,
            amount=_money(body.amount),
            reported_by=actor.principal.user_id,
            reported_at=now,
        )
        return _change(
            state,
            ProjectAction.REPORT_INCOME,
            stage,
            now,
            extra={
                "household_id": body.household_id,
                "year": body.year,
                "amount": effect.amount,
                "previous_amount": previous,
            },
            income_effects=(effect,),
        )

    return decide

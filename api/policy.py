"""Who may do what, where: the one module that decides authorization.

Two questions, in this order:
1. may this role do this action at all? If not: PermissionDeniedError (403).
2. is the record inside the caller's scope? If not: NotFoundError (404), the same answer as for a
   record that does not exist, so that a caller cannot probe what exists outside its region.

Scope is a set of region-code prefixes (a region's code prefixes every code below it): an
official's or field worker's own region, the service regions of the Helper a charity, federation
or helper unit acts for, everything for an admin. Pure functions over the Principal: no I/O, so
the whole matrix is unit-tested (tests/unit/test_policy.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from bangfu.access import HELPER_ROLES, Principal, RegionScope, Role
from bangfu.errors import NotFoundError, PermissionDeniedError
from bangfu.vocabulary import HelperKind, RegionLevel, label_zh


class Action(StrEnum):
    READ_HOUSEHOLD = "read_household"
    WRITE_HOUSEHOLD = "write_household"
    CREATE_NEED = "create_need"
    VERIFY_NEED = "verify_need"  # pending_review -> open
    BROWSE_NEEDS = "browse_needs"  # helpers see de-identified needs only
    CLAIM_NEED = "claim_need"
    UPDATE_CLAIM = "update_claim"  # start, report fulfilment or release a claim one holds
    CONFIRM_NEED = "confirm_need"  # help was delivered
    CANCEL_NEED = "cancel_need"
    REVEAL_PII = "reveal_pii"  # plaintext ID number or phone; every reveal is audited
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    READ_RISK_ALERTS = "read_risk_alerts"  # 返贫风险预警 of the caller's region
    REVIEW_RISK_ALERT = "review_risk_alert"  # a step of the monitoring procedure
    VIEW_MATCHES = "view_matches"  # ranked helpers for a need, with each factor's share
    VIEW_RECOMMENDATIONS = "view_recommendations"  # ranked open needs for a helper
    PROPOSE_ASSIGNMENT = "propose_assignment"  # a global assignment proposal for a region
    ACCEPT_ASSIGNMENT = "accept_assignment"  # turn a proposal's items into claims
    SCREEN_NEED = "screen_need"  # duplicate and amount flags before verification
    READ_ANALYTICS = "read_analytics"  # aggregate dashboards and their exports
    READ_PROJECTS = "read_projects"  # 扶贫项目 of the caller's region (helpers: de-identified)
    PROPOSE_PROJECT = "propose_project"  # 立项申报
    DECIDE_PROJECT = "decide_project"  # approve or reject a proposal
    UPDATE_PROJECT = "update_project"  # milestones, beneficiaries, income effects
    MANAGE_PROJECT_FUNDS = "manage_project_funds"  # allocate, disburse, operation, completion
    READ_PROJECT_ANOMALIES = "read_project_anomalies"
    RUN_CROSS_CHECK = "run_cross_check"  # 数据比对 of a region against department data
    READ_VERIFICATION_TASKS = "read_verification_tasks"  # findings / 核查任务 of the region
    RESOLVE_VERIFICATION_TASK = "resolve_verification_task"  # confirm or dismiss after a visit
    READ_ERROR_RATE = "read_error_rate"  # identification error rate per county
    PROPOSE_EXITS = "propose_exits"  # 退出 / 出列 proposals for a region
    READ_EXITS = "read_exits"
    DECIDE_EXIT = "decide_exit"  # approve or reject a proposal (county officials and above)
    MANAGE_HELPERS = "manage_helpers"  # register organisations, set their regions and capacity
    EDIT_OWN_HELPER = "edit_own_helper"  # a helper login: its organisation's profile


R = Role
_REGIONAL = frozenset({R.OFFICIAL, R.FIELD_WORKER})

# The matrix. Verification is left to officials so that a need entered by a field worker is
# checked by a second person (四眼原则); admins run the system and read for support, but change no
# records and see no plaintext identifiers; auditors read the trail and nothing else.
ALLOWED: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.READ_HOUSEHOLD: _REGIONAL | {R.ADMIN},
        Action.WRITE_HOUSEHOLD: _REGIONAL,
        Action.CREATE_NEED: _REGIONAL,
        Action.VERIFY_NEED: frozenset({R.OFFICIAL}),
        Action.BROWSE_NEEDS: _REGIONAL | HELPER_ROLES | {R.ADMIN},
        Action.CLAIM_NEED: HELPER_ROLES,
        Action.UPDATE_CLAIM: HELPER_ROLES,
        Action.CONFIRM_NEED: _REGIONAL,
        Action.CANCEL_NEED: _REGIONAL,
        Action.REVEAL_PII: _REGIONAL,
        Action.READ_AUDIT: frozenset({R.AUDITOR, R.ADMIN}),
        Action.MANAGE_USERS: frozenset({R.ADMIN}),
        # Field workers accept, visit and run the village appraisal; town review, the county
        # decision, dismissal and elimination need an official of that level (ml/review.py).
        Action.READ_RISK_ALERTS: _REGIONAL,
        Action.REVIEW_RISK_ALERT: _REGIONAL,
        # Matching (api/routes/matching.py). The match list of a need names competing helpers
        # with their reliability and load, so helpers do not see it: they get their own
        # recommendations (de-identified needs) instead. Admins read both for support. Proposals
        # are computed for a region's officials; accepting one (claims) is a later step.
        Action.VIEW_MATCHES: _REGIONAL | {R.ADMIN},
        Action.VIEW_RECOMMENDATIONS: _REGIONAL | HELPER_ROLES | {R.ADMIN},
        Action.PROPOSE_ASSIGNMENT: frozenset({R.OFFICIAL, R.ADMIN}),
        Action.ACCEPT_ASSIGNMENT: frozenset({R.OFFICIAL, R.ADMIN}),
        Action.SCREEN_NEED: _REGIONAL | {R.ADMIN},
        # Dashboards are aggregates (counts and sums, no person or household), for government:
        # officials and field workers over their own region; admins and auditors over the whole
        # province (auditors supervise funds and results, 监管; see AGGREGATE_EVERYWHERE).
        # Helpers plan from the market instead and do not see them.
        Action.READ_ANALYTICS: _REGIONAL | {R.ADMIN, R.AUDITOR},
        # Projects (api/routes/projects.py). Project facts, bodies and money are public by law
        # (项目公告公示制度), so helpers may read projects in their service regions, but without
        # beneficiary households: they get counts and yearly income totals only. Which level
        # of official may approve, pay or accept a project is decided per project in
        # matching/project_lifecycle.py (county or above; the city above the county's limit).
        Action.READ_PROJECTS: _REGIONAL | HELPER_ROLES | {R.ADMIN},
        Action.PROPOSE_PROJECT: _REGIONAL,
        Action.DECIDE_PROJECT: frozenset({R.OFFICIAL}),
        Action.UPDATE_PROJECT: _REGIONAL,
        Action.MANAGE_PROJECT_FUNDS: frozenset({R.OFFICIAL}),
        Action.READ_PROJECT_ANOMALIES: _REGIONAL | {R.ADMIN},
        # Cross-checks (verification/): officials and admins start them; the village's field
        # workers visit and resolve the tasks (officials of the region may too); admins read
        # for support but change no records.
        Action.RUN_CROSS_CHECK: frozenset({R.OFFICIAL, R.ADMIN}),
        Action.READ_VERIFICATION_TASKS: _REGIONAL | {R.ADMIN},
        Action.RESOLVE_VERIFICATION_TASK: _REGIONAL,
        Action.READ_ERROR_RATE: _REGIONAL | {R.ADMIN},
        # Exits: proposals are computed for officials; only officials decide (the level is
        # checked in verification/exits.py: county or above).
        Action.PROPOSE_EXITS: frozenset({R.OFFICIAL, R.ADMIN}),
        Action.READ_EXITS: _REGIONAL | {R.ADMIN},
        Action.DECIDE_EXIT: frozenset({R.OFFICIAL}),
        # Organisations (api/helpers.py): admins register them and set where they serve (that
        # decides which households' needs they see); a helper login keeps its own profile —
        # description, capabilities, capacity — but cannot widen its service regions.
        Action.MANAGE_HELPERS: frozenset({R.ADMIN}),
        Action.EDIT_OWN_HELPER: HELPER_ROLES,
    }
)

# Actions on the system as a whole: no region to check.
GLOBAL_ACTIONS = frozenset(
    {Action.READ_AUDIT, Action.MANAGE_USERS, Action.MANAGE_HELPERS, Action.EDIT_OWN_HELPER}
)

# Roles that see aggregate figures of every region although their scope holds no records: an
# auditor reads no household, but may read the province's sums.
AGGREGATE_EVERYWHERE: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {Action.READ_ANALYTICS: frozenset({R.ADMIN, R.AUDITOR})}
)

# Which Helper kinds a helper-role login may act for.
HELPER_KINDS: Mapping[Role, frozenset[HelperKind]] = MappingProxyType(
    {
        R.CHARITY: frozenset({HelperKind.CHARITY}),
        R.WOMENS_FEDERATION: frozenset({HelperKind.WOMENS_FEDERATION}),
        R.DISABLED_FEDERATION: frozenset({HelperKind.DISABLED_FEDERATION}),
        R.HELPER_UNIT: frozenset({HelperKind.HELPER_UNIT, HelperKind.ENTERPRISE}),
    }
)

# Region levels a regional login may be bound to: field workers work in a village or a town.
REGION_LEVELS: Mapping[Role, frozenset[RegionLevel]] = MappingProxyType(
    {
        R.OFFICIAL: frozenset(RegionLevel),
        R.FIELD_WORKER: frozenset({RegionLevel.TOWN, RegionLevel.VILLAGE}),
    }
)

_ACTION_ZH = {
    Action.READ_HOUSEHOLD: "查看农户",
    Action.WRITE_HOUSEHOLD: "修改农户",
    Action.CREATE_NEED: "发布需求",
    Action.VERIFY_NEED: "审核需求",
    Action.BROWSE_NEEDS: "浏览需求",
    Action.CLAIM_NEED: "认领需求",
    Action.UPDATE_CLAIM: "更新认领",
    Action.CONFIRM_NEED: "确认帮扶",
    Action.CANCEL_NEED: "取消需求",
    Action.REVEAL_PII: "查看个人信息",
    Action.READ_AUDIT: "查看审计记录",
    Action.MANAGE_USERS: "管理用户",
    Action.READ_RISK_ALERTS: "查看风险预警",
    Action.REVIEW_RISK_ALERT: "审核风险预警",
    Action.VIEW_MATCHES: "查看需求匹配",
    Action.VIEW_RECOMMENDATIONS: "查看推荐需求",
    Action.PROPOSE_ASSIGNMENT: "生成分配方案",
    Action.ACCEPT_ASSIGNMENT: "接受分配方案",
    Action.SCREEN_NEED: "需求审核前筛查",
    Action.READ_ANALYTICS: "查看统计分析",
    Action.READ_PROJECTS: "查看扶贫项目",
    Action.PROPOSE_PROJECT: "申报项目",
    Action.DECIDE_PROJECT: "审批项目",
    Action.UPDATE_PROJECT: "更新项目进度",
    Action.MANAGE_PROJECT_FUNDS: "管理项目资金",
    Action.READ_PROJECT_ANOMALIES: "查看项目异常",
    Action.RUN_CROSS_CHECK: "发起数据比对",
    Action.READ_VERIFICATION_TASKS: "查看核查任务",
    Action.RESOLVE_VERIFICATION_TASK: "办理核查任务",
    Action.READ_ERROR_RATE: "查看识别错误率",
    Action.PROPOSE_EXITS: "生成退出建议",
    Action.READ_EXITS: "查看退出建议",
    Action.DECIDE_EXIT: "审批退出",
    Action.MANAGE_HELPERS: "管理帮扶主体",
    Action.EDIT_OWN_HELPER: "维护本机构信息",
}

_ROLE_ZH = {
    R.OFFICIAL: "各级干部",
    R.FIELD_WORKER: "驻村干部",
    R.CHARITY: "慈善机构",
    R.WOMENS_FEDERATION: "妇联",
    R.DISABLED_FEDERATION: "残联",
    R.HELPER_UNIT: "帮扶单位",
    R.AUDITOR: "审计员",
    R.ADMIN: "管理员",
}


def role_zh(role: Role) -> str:
    return _ROLE_ZH[role]


def scope_for(principal: Principal, action: Action | None = None) -> RegionScope:
    """The regions a caller may see (for `action`, when it widens some roles' scope). A login
    missing its region or helper sees nothing."""
    if action is not None and principal.role in AGGREGATE_EVERYWHERE.get(action, frozenset()):
        return RegionScope(everything=True)
    if principal.role is R.ADMIN:
        return RegionScope(everything=True)
    if principal.role.is_regional:
        return RegionScope(prefixes=(principal.region_code,) if principal.region_code else ())
    if principal.role.is_helper:
        return RegionScope(prefixes=principal.service_regions if principal.helper_id else ())
    # Auditors read the trail (a global action) and no regional records.
    return RegionScope()


def can(
    principal: Principal,
    action: Action,
    *,
    region_code: str | None = None,
    claimed_by: str | None = None,
    helper_id: str | None = None,
) -> bool:
    try:
        ensure_can(
            principal, action, region_code=region_code, claimed_by=claimed_by, helper_id=helper_id
        )
    except (PermissionDeniedError, NotFoundError):
        return False
    return True


def ensure_can(
    principal: Principal,
    action: Action,
    *,
    region_code: str | None = None,
    claimed_by: str | None = None,
    helper_id: str | None = None,
    subject: str = "record",
) -> None:
    """Raise unless `principal` may do `action` on a record in `region_code`.

    Pass `region_code` (the record's village, or any region code) for an action on one record;
    leave it out for a listing and filter the listing by `scope_for`. For UPDATE_CLAIM pass the
    claiming helper's id as `claimed_by`; for EDIT_OWN_HELPER the organisation's id as
    `helper_id`. `subject` names the record in the 404 message (e.g. "need N1") so that it
    reads like the repository's own "not found".
    """
    if principal.role not in ALLOWED[action]:
        raise PermissionDeniedError(
            f"role {principal.role.value} may not {action.value}",
            message_zh=f"{role_zh(principal.role)}无权{_ACTION_ZH[action]}",
        )
    if action is Action.EDIT_OWN_HELPER and (
        principal.helper_id is None or helper_id != principal.helper_id
    ):
        # Another organisation's profile does not exist for this caller.
        raise NotFoundError(f"{subject} not found", message_zh="未找到")
    if action in GLOBAL_ACTIONS:
        return
    if region_code is not None and not scope_for(principal, action).covers(region_code):
        raise NotFoundError(f"{subject} not found", message_zh="未找到")
    if action is Action.UPDATE_CLAIM and (
        principal.helper_id is None or claimed_by != principal.helper_id
    ):
        raise PermissionDeniedError(
            "only the helper holding the claim may update it",
            message_zh="只有认领方可以更新该认领",
        )


def ensure_role(principal: Principal, roles: Iterable[Role]) -> None:
    """Raise PermissionDeniedError unless the caller has one of `roles` (for whole endpoints)."""
    allowed = frozenset(roles)
    if principal.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise PermissionDeniedError(
            f"role {principal.role.value} may not call this; allowed: {names}",
            message_zh=f"{role_zh(principal.role)}无权访问此功能",
        )


def helper_kind_fits(role: Role, kind: HelperKind) -> bool:
    """May a login of `role` act for a Helper of `kind`?"""
    return kind in HELPER_KINDS.get(role, frozenset())


def region_level_fits(role: Role, level: RegionLevel) -> bool:
    """May a login of `role` be bound to a region at `level`?"""
    return level in REGION_LEVELS.get(role, frozenset())


def helper_kinds_zh(role: Role) -> str:
    return "、".join(label_zh(k.value) for k in sorted(HELPER_KINDS.get(role, frozenset())))


def sees_beneficiaries(principal: Principal) -> bool:
    """May the caller see which households benefit from a project (and their income)? Officials
    and field workers of the region, and admins for support; helpers see counts and totals."""
    return principal.role.is_regional or principal.role is R.ADMIN

"""Which forms the project page shows, as a pure function (unit-tested without services): the
policy admits the caller's role, the project's stage allows the step, and an official's level is
high enough (matching/project_lifecycle.py level_limit: county or above; the city for an
approval over the county's budget limit), and never for the project's own proposer. The
service still decides every post; this only leaves out forms that could not succeed.
"""

from __future__ import annotations

from api.policy import Action, can
from bangfu.access import Principal, Role
from bangfu.settings import ProjectSettings
from bangfu.vocabulary import ProjectStage
from matching import project_lifecycle as lifecycle
from matching.project_lifecycle import ProjectAction

# The project page's forms: the policy action each needs and the step it takes.
FORMS: dict[str, tuple[Action, ProjectAction]] = {
    "approve": (Action.DECIDE_PROJECT, ProjectAction.APPROVE),
    "reject": (Action.DECIDE_PROJECT, ProjectAction.REJECT),
    "disburse": (Action.MANAGE_PROJECT_FUNDS, ProjectAction.DISBURSE),
    "achieve": (Action.UPDATE_PROJECT, ProjectAction.ACHIEVE_MILESTONE),
}


def usable_forms(
    principal: Principal,
    stage: ProjectStage,
    budget: float,
    *,
    unpaid: bool,
    open_milestones: bool,
    settings: ProjectSettings,
    own_proposal: bool = False,
) -> set[str]:
    """`unpaid`: some source has money allocated and not yet disbursed; `open_milestones`: some
    milestone is not achieved yet; `own_proposal`: the caller proposed the project, and a
    proposal is decided by someone else (matching/project_lifecycle.py check_actor)."""
    code_length = len(principal.region_code or "")
    shown: set[str] = set()
    for form, (policy_action, step) in FORMS.items():
        if not can(principal, policy_action) or step not in lifecycle.allowed_actions(stage):
            continue
        limit = lifecycle.level_limit(step, budget, settings)
        if limit is not None and (principal.role is not Role.OFFICIAL or code_length > limit):
            continue
        shown.add(form)
    if own_proposal:
        shown -= {"approve", "reject"}
    if not unpaid:
        shown.discard("disburse")
    if not open_milestones:
        shown.discard("achieve")
    return shown

"""The authorization matrix, every role x action x inside/outside the caller's region, against a
table written out here by hand (not derived from api/policy.py, so a change there must be made
twice to pass). Pure: no database."""

from __future__ import annotations

import pytest

from api.policy import (
    Action,
    can,
    ensure_can,
    ensure_role,
    helper_kind_fits,
    region_level_fits,
    scope_for,
)
from bangfu.access import Principal, RegionScope, Role
from bangfu.errors import NotFoundError, PermissionDeniedError
from bangfu.vocabulary import HelperKind, RegionLevel

A = Action
COUNTY = "440223"
TOWN = "440223101"
INSIDE = "440223101001"  # a village inside every regional principal's region below
OUTSIDE = "440224102003"  # a village in the neighbouring county
HELPER = "H1"

PRINCIPALS = {
    Role.OFFICIAL: Principal(user_id="u1", username="o", role=Role.OFFICIAL, region_code=COUNTY),
    Role.FIELD_WORKER: Principal(
        user_id="u2", username="f", role=Role.FIELD_WORKER, region_code=TOWN
    ),
    **{
        role: Principal(
            user_id=f"u-{role.value}",
            username=role.value,
            role=role,
            helper_id=HELPER,
            service_regions=(COUNTY,),
        )
        for role in (
            Role.CHARITY,
            Role.WOMENS_FEDERATION,
            Role.DISABLED_FEDERATION,
            Role.HELPER_UNIT,
        )
    },
    Role.AUDITOR: Principal(user_id="u7", username="a", role=Role.AUDITOR),
    Role.ADMIN: Principal(user_id="u8", username="ad", role=Role.ADMIN),
}

HELPER_ACTIONS = {
    A.BROWSE_NEEDS,
    A.CLAIM_NEED,
    A.UPDATE_CLAIM,
    A.VIEW_RECOMMENDATIONS,
    A.READ_PROJECTS,
    A.EDIT_OWN_HELPER,
}
REGIONAL_ACTIONS = {
    A.READ_HOUSEHOLD,
    A.WRITE_HOUSEHOLD,
    A.CREATE_NEED,
    A.BROWSE_NEEDS,
    A.CONFIRM_NEED,
    A.CANCEL_NEED,
    A.REVEAL_PII,
    A.READ_RISK_ALERTS,
    A.REVIEW_RISK_ALERT,
    A.VIEW_MATCHES,
    A.VIEW_RECOMMENDATIONS,
    A.SCREEN_NEED,
    A.READ_ANALYTICS,
    A.READ_PROJECTS,
    A.PROPOSE_PROJECT,
    A.UPDATE_PROJECT,
    A.READ_PROJECT_ANOMALIES,
    A.READ_VERIFICATION_TASKS,
    A.RESOLVE_VERIFICATION_TASK,
    A.READ_ERROR_RATE,
    A.READ_EXITS,
}
# What each role may do at all (inside its scope).
EXPECTED: dict[Role, set[Action]] = {
    Role.OFFICIAL: REGIONAL_ACTIONS
    | {
        A.VERIFY_NEED,
        A.PROPOSE_ASSIGNMENT,
        A.ACCEPT_ASSIGNMENT,
        A.DECIDE_PROJECT,
        A.MANAGE_PROJECT_FUNDS,
        A.RUN_CROSS_CHECK,
        A.PROPOSE_EXITS,
        A.DECIDE_EXIT,
    },
    Role.FIELD_WORKER: set(REGIONAL_ACTIONS),
    Role.CHARITY: HELPER_ACTIONS,
    Role.WOMENS_FEDERATION: HELPER_ACTIONS,
    Role.DISABLED_FEDERATION: HELPER_ACTIONS,
    Role.HELPER_UNIT: HELPER_ACTIONS,
    Role.AUDITOR: {A.READ_AUDIT, A.READ_ANALYTICS},
    Role.ADMIN: {
        A.READ_HOUSEHOLD,
        A.BROWSE_NEEDS,
        A.READ_AUDIT,
        A.MANAGE_USERS,
        A.MANAGE_HELPERS,
        A.VIEW_MATCHES,
        A.VIEW_RECOMMENDATIONS,
        A.PROPOSE_ASSIGNMENT,
        A.ACCEPT_ASSIGNMENT,
        A.SCREEN_NEED,
        A.READ_ANALYTICS,
        A.READ_PROJECTS,
        A.READ_PROJECT_ANOMALIES,
        A.RUN_CROSS_CHECK,
        A.READ_VERIFICATION_TASKS,
        A.READ_ERROR_RATE,
        A.PROPOSE_EXITS,
        A.READ_EXITS,
    },
}
GLOBAL = {A.READ_AUDIT, A.MANAGE_USERS, A.MANAGE_HELPERS, A.EDIT_OWN_HELPER}
# Aggregates an auditor reads everywhere although its scope holds no records.
EVERYWHERE = {(Role.AUDITOR, A.READ_ANALYTICS)}


def expected_outcome(role: Role, action: Action, inside: bool) -> str:
    if action not in EXPECTED[role]:
        return "403"
    if inside or action in GLOBAL or role is Role.ADMIN or (role, action) in EVERYWHERE:
        return "ok"
    return "404"


def outcome(principal: Principal, action: Action, region_code: str) -> str:
    try:
        ensure_can(principal, action, region_code=region_code, claimed_by=HELPER, helper_id=HELPER)
    except PermissionDeniedError:
        return "403"
    except NotFoundError:
        return "404"
    return "ok"


def test_the_table_covers_every_role_and_action() -> None:
    assert set(EXPECTED) == set(Role)
    assert set(PRINCIPALS) == set(Role)
    assert len(Action) >= 10


@pytest.mark.parametrize("inside", [True, False], ids=["inside", "outside"])
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_authorization_matrix(role: Role, action: Action, inside: bool) -> None:
    principal = PRINCIPALS[role]
    region = INSIDE if inside else OUTSIDE
    expected = expected_outcome(role, action, inside)
    assert outcome(principal, action, region) == expected
    assert can(principal, action, region_code=region, claimed_by=HELPER, helper_id=HELPER) is (
        expected == "ok"
    )


def test_a_region_code_at_any_level_is_checked_by_prefix() -> None:
    official = PRINCIPALS[Role.OFFICIAL]
    ensure_can(official, A.READ_HOUSEHOLD, region_code=COUNTY)
    ensure_can(official, A.READ_HOUSEHOLD, region_code=TOWN)
    # The region above the official's own is outside it, and so is a sibling county.
    with pytest.raises(NotFoundError):
        ensure_can(official, A.READ_HOUSEHOLD, region_code="4402")
    with pytest.raises(NotFoundError):
        ensure_can(official, A.READ_HOUSEHOLD, region_code="440224")


def test_out_of_scope_reads_like_not_found_and_names_the_subject() -> None:
    with pytest.raises(NotFoundError) as info:
        ensure_can(
            PRINCIPALS[Role.FIELD_WORKER], A.CONFIRM_NEED, region_code=OUTSIDE, subject="need N9"
        )
    assert info.value.message == "need N9 not found"


def test_listings_check_the_role_only_and_filter_by_scope() -> None:
    for role in Role:
        assert can(PRINCIPALS[role], A.BROWSE_NEEDS) is (A.BROWSE_NEEDS in EXPECTED[role])


def test_only_the_claiming_helper_may_update_a_claim() -> None:
    charity = PRINCIPALS[Role.CHARITY]
    ensure_can(charity, A.UPDATE_CLAIM, region_code=INSIDE, claimed_by=HELPER)
    with pytest.raises(PermissionDeniedError):
        ensure_can(charity, A.UPDATE_CLAIM, region_code=INSIDE, claimed_by="H2")
    with pytest.raises(PermissionDeniedError):
        ensure_can(charity, A.UPDATE_CLAIM, region_code=INSIDE, claimed_by=None)
    # Outside the helper's service regions it is not found, whoever holds the claim.
    with pytest.raises(NotFoundError):
        ensure_can(charity, A.UPDATE_CLAIM, region_code=OUTSIDE, claimed_by=HELPER)


def test_scopes() -> None:
    assert scope_for(PRINCIPALS[Role.ADMIN]) == RegionScope(everything=True)
    assert scope_for(PRINCIPALS[Role.OFFICIAL]) == RegionScope(prefixes=(COUNTY,))
    assert scope_for(PRINCIPALS[Role.FIELD_WORKER]) == RegionScope(prefixes=(TOWN,))
    assert scope_for(PRINCIPALS[Role.HELPER_UNIT]) == RegionScope(prefixes=(COUNTY,))
    assert scope_for(PRINCIPALS[Role.AUDITOR]) == RegionScope()
    assert not RegionScope().covers(INSIDE)
    # A login missing its binding sees nothing rather than everything.
    unbound = [
        Principal(user_id="x", username="x", role=Role.OFFICIAL),
        Principal(user_id="y", username="y", role=Role.CHARITY, service_regions=("44",)),
    ]
    for principal in unbound:
        assert scope_for(principal) == RegionScope()
        assert outcome(principal, A.BROWSE_NEEDS, INSIDE) == "404"


def test_denials_explain_in_both_languages() -> None:
    with pytest.raises(PermissionDeniedError) as info:
        ensure_can(PRINCIPALS[Role.AUDITOR], A.REVEAL_PII, region_code=INSIDE)
    assert info.value.message == "role auditor may not reveal_pii"
    assert info.value.message_zh == "审计员无权查看个人信息"


def test_endpoint_role_gate() -> None:
    ensure_role(PRINCIPALS[Role.ADMIN], [Role.ADMIN, Role.AUDITOR])
    with pytest.raises(PermissionDeniedError):
        ensure_role(PRINCIPALS[Role.OFFICIAL], [Role.ADMIN, Role.AUDITOR])


def test_login_bindings() -> None:
    assert helper_kind_fits(Role.CHARITY, HelperKind.CHARITY)
    assert not helper_kind_fits(Role.CHARITY, HelperKind.WOMENS_FEDERATION)
    assert helper_kind_fits(Role.HELPER_UNIT, HelperKind.ENTERPRISE)
    assert helper_kind_fits(Role.HELPER_UNIT, HelperKind.HELPER_UNIT)
    assert not helper_kind_fits(Role.DISABLED_FEDERATION, HelperKind.CHARITY)
    assert not helper_kind_fits(Role.OFFICIAL, HelperKind.CHARITY)
    assert all(region_level_fits(Role.OFFICIAL, level) for level in RegionLevel)
    assert region_level_fits(Role.FIELD_WORKER, RegionLevel.VILLAGE)
    assert region_level_fits(Role.FIELD_WORKER, RegionLevel.TOWN)
    assert not region_level_fits(Role.FIELD_WORKER, RegionLevel.COUNTY)
    assert not region_level_fits(Role.AUDITOR, RegionLevel.VILLAGE)


def test_an_organisation_edits_only_its_own_profile() -> None:
    charity = PRINCIPALS[Role.CHARITY]
    assert can(charity, A.EDIT_OWN_HELPER, helper_id=HELPER)
    with pytest.raises(NotFoundError):  # another organisation's profile does not exist for it
        ensure_can(charity, A.EDIT_OWN_HELPER, helper_id="H2")
    with pytest.raises(NotFoundError):
        ensure_can(charity, A.EDIT_OWN_HELPER)
    unbound = charity.model_copy(update={"helper_id": None})
    assert not can(unbound, A.EDIT_OWN_HELPER, helper_id=HELPER)
    with pytest.raises(PermissionDeniedError):
        ensure_can(PRINCIPALS[Role.OFFICIAL], A.EDIT_OWN_HELPER, helper_id=HELPER)

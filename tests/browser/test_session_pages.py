"""Every role signs in and lands on its own start page, sees only its own links, and is refused
(403 page in Chinese) elsewhere; the session cookie is HttpOnly and SameSite; forms without the
session's CSRF token are refused with a page that says so; sign-out ends the session."""

from __future__ import annotations

import httpx
import pytest

from bangfu.access import Role
from graph.client import GraphClient
from graph.pii import PiiVault
from tests.browser.conftest import PHONE, OpenPage, sign_in, submit, visit
from tests.integration.conftest import (
    COUNTY_A,
    VILLAGE_A,
    LiveServer,
    MakeUser,
    fresh_ip,
)
from tests.integration.marketplace_data import add_household, add_need

pytestmark = pytest.mark.services

# (role, region, helper, start page, heading there, a page the role may not open)
ROLES = [
    (Role.CHARITY, None, "C1", "/market", "需求大厅", "/audit"),
    (Role.WOMENS_FEDERATION, None, "W1", "/market", "需求大厅", "/village"),
    (Role.DISABLED_FEDERATION, None, "D1", "/market", "需求大厅", "/alerts"),
    (Role.HELPER_UNIT, None, "U1", "/market/recommended", "推荐需求", "/dashboard"),
    (Role.FIELD_WORKER, VILLAGE_A, None, "/village", "本村农户", "/market/claims"),
    (Role.OFFICIAL, COUNTY_A, None, "/alerts", "返贫风险预警", "/audit"),
    (Role.AUDITOR, None, None, "/audit", "审计记录", "/market"),
    (Role.ADMIN, None, None, "/market", "需求大厅", "/village/new-household"),
]


@pytest.fixture
def world(auth_graph: GraphClient, vault: PiiVault) -> GraphClient:
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_need(auth_graph, "NA1", "HA", VILLAGE_A)
    return auth_graph


@pytest.mark.parametrize(("role", "region", "helper", "home", "heading", "refused"), ROLES)
def test_each_role_signs_in_to_its_own_pages(
    world: GraphClient,
    make_user: MakeUser,
    open_page: OpenPage,
    role: Role,
    region: str | None,
    helper: str | None,
    home: str,
    heading: str,
    refused: str,
) -> None:
    page = sign_in(open_page(), make_user(role, region_code=region, helper_id=helper))
    assert page.url.endswith(home)
    assert page.locator("h1").inner_text() == heading
    nav = [a.get_attribute("href") for a in page.locator("header nav a").all()]
    assert home in nav and refused not in nav
    response = page.goto(refused)
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    assert "无权" in page.locator(".error-message").inner_text()


def test_a_helper_unit_sees_recommended_needs_with_reasons(
    world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(), make_user(Role.HELPER_UNIT, helper_id="U1"))
    item = page.locator("li.need[data-need-id='NA1']")
    assert item.count() == 1
    item.locator("summary").click()
    reasons = item.locator("ul.reasons li")
    assert reasons.count() >= 2  # one line per factor of the score
    assert "13800138000" not in page.content()


def test_the_session_cookie_sign_out_and_the_language_switch(
    world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    auditor = make_user(Role.AUDITOR)
    page = sign_in(open_page(), auditor)
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["bangfu_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert len(session["value"]) >= 40  # an opaque random id, not a token with claims
    # The auditor's own login is in the trail.
    page.get_by_label("对象类型").fill("user")
    page.get_by_label("对象编号").fill(auditor.user.id)
    submit(page, "查询")
    assert "login" in page.locator("tbody").inner_text()

    visit(page, "/audit?lang=en")
    assert page.locator("h1").inner_text() == "Audit trail"
    visit(page, "/audit")  # the choice is remembered
    assert page.locator("h1").inner_text() == "Audit trail"
    visit(page, "/audit?lang=zh")

    submit(page, "退出登录")
    assert page.url.endswith("/login?done=logged_out")
    page.goto("/audit?subject_type=need")
    assert "/login?next=%2Faudit%3Fsubject_type%3Dneed" in page.url
    # Signing in again leads back to the page asked for.
    page.get_by_label("用户名").fill(auditor.username)
    page.get_by_label("密码").fill(auditor.password)
    submit(page, "登录")
    assert page.url.endswith("/audit?subject_type=need")


def test_forms_without_the_sessions_csrf_token_are_refused(
    world: GraphClient, make_user: MakeUser, live_server: LiveServer
) -> None:
    charity = make_user(Role.CHARITY, helper_id="C1")
    with httpx.Client(
        base_url=live_server.url, headers={"X-Forwarded-For": fresh_ip()}, timeout=30
    ) as client:
        # Before login: the login form's token must match the pre-login cookie.
        refused = client.post(
            "/login", data={"username": charity.username, "password": charity.password}
        )
        assert refused.status_code == 403
        assert "表单已失效" in refused.text
        form = client.get("/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed_in = client.post(
            "/login",
            data={"username": charity.username, "password": charity.password, "csrf_token": token},
        )
        assert signed_in.status_code == 303 and "bangfu_session" in client.cookies
        assert "HttpOnly" in signed_in.headers["set-cookie"]
        # Signed in: a form posted with another token (a forged cross-site post) is refused
        # and changes nothing.
        forged = client.post("/market/needs/NA1/claim", data={"csrf_token": token})
        assert forged.status_code == 403 and "表单已失效" in forged.text
        need = client.get("/market/needs/NA1")
        assert 'data-status="open"' in need.text


@pytest.mark.parametrize(
    ("role", "region", "helper", "paths"),
    [
        (Role.CHARITY, None, "C1", ["/market", "/market/needs/NA1", "/market/claims"]),
        (
            Role.FIELD_WORKER,
            VILLAGE_A,
            None,
            ["/village/needs", "/checks", "/alerts", "/dashboard"],
        ),
        (Role.OFFICIAL, COUNTY_A, None, ["/alerts", "/dashboard", "/village"]),
        (Role.AUDITOR, None, None, ["/audit", "/dashboard"]),
    ],
)
def test_every_page_fits_a_phone(
    world: GraphClient,
    make_user: MakeUser,
    open_page: OpenPage,
    role: Role,
    region: str | None,
    helper: str | None,
    paths: list[str],
) -> None:
    page = sign_in(
        open_page(viewport=PHONE, is_mobile=True),
        make_user(role, region_code=region, helper_id=helper),
    )
    for path in paths:
        visit(page, path)  # checks the width on this phone-sized viewport

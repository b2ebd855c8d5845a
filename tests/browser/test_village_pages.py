"""Field workers on a phone: their village's households, a household, adding a need (a bad
entry is shown next to its field and keeps what was typed); an official verifies it."""

from __future__ import annotations

import pytest

from bangfu.access import Role
from graph.client import GraphClient
from graph.pii import PiiVault
from tests.browser.conftest import PHONE, OpenPage, sign_in, submit, visit
from tests.integration.conftest import COUNTY_A, VILLAGE_A, VILLAGE_B, MakeUser
from tests.integration.marketplace_data import add_household

pytestmark = pytest.mark.services


@pytest.fixture
def village(auth_graph: GraphClient, vault: PiiVault) -> GraphClient:
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    return auth_graph


def test_a_field_worker_adds_a_need_on_a_phone_and_an_official_verifies_it(
    village: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    worker = make_user(Role.FIELD_WORKER, region_code=VILLAGE_A)
    page = sign_in(open_page(viewport=PHONE, is_mobile=True, has_touch=True), worker)
    assert page.url.endswith("/village")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    households = page.locator("li.household")
    assert households.count() == 1  # HB lies in another county
    assert "13800138000" not in page.content()

    households.first.get_by_role("link").click()
    page.wait_for_url("**/village/households/HA")
    assert "138****8000" in page.content()  # the phone, masked as the API masks it
    page.get_by_role("link", name="发布需求").click()
    page.wait_for_url("**/needs/new")

    page.get_by_label("类别").select_option("job")
    page.get_by_label("标题").fill("找")
    page.get_by_label("需求说明").fill("")
    page.get_by_label("金额").fill("很多")
    submit(page, "提交")
    assert page.locator("#e-title").inner_text() == "至少 2 个字符"
    assert page.locator("#e-text").inner_text() == "必填"
    assert page.locator("#e-amount").inner_text() == "请输入数字"
    assert page.get_by_label("标题").input_value() == "找"  # what was typed is kept
    assert page.get_by_label("金额").input_value() == "很多"
    assert page.get_by_label("类别").input_value() == "job"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_label("标题").fill("找工作")
    page.get_by_label("需求说明").fill("户主腿伤初愈，希望在镇上找轻体力工作")
    page.get_by_label("金额").fill("")
    submit(page, "提交")
    card = page.locator("li.need").filter(has_text="找工作")
    assert card.get_attribute("data-status") == "pending_review"
    need_id = card.get_attribute("data-need-id")

    official = sign_in(open_page(), make_user(Role.OFFICIAL, region_code=COUNTY_A))
    visit(official, "/village/needs?status=pending_review")
    item = official.locator(f"li.need[data-need-id='{need_id}']")
    with official.expect_navigation():
        item.get_by_role("button", name="审核通过").click()
    assert official.locator("p.notice").inner_text() == "已审核通过，需求已公开。"
    visit(official, "/village/needs?status=open")
    assert official.locator(f"li.need[data-need-id='{need_id}']").count() == 1

"""Field workers on a phone: their village's households, a household, adding a need (a bad
entry is shown next to its field and keeps what was typed); an official verifies it."""

from __future__ import annotations

from datetime import date

import pytest

from bangfu.access import Role
from bangfu.identity import make_national_id
from graph.client import GraphClient
from graph.models import AuditQuery
from graph.pii import PiiVault
from graph.repositories import AuditRepository
from tests.browser.conftest import PHONE, OpenPage, check_accessible, sign_in, submit, visit
from tests.integration.conftest import COUNTY_A, VILLAGE_A, VILLAGE_B, MakeUser
from tests.integration.marketplace_data import add_head, add_household

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
    opened = official.locator(f"li.need[data-need-id='{need_id}']")
    assert opened.count() == 1
    # The best helpers for it, each with the factors of its score.
    opened.get_by_role("link", name="推荐帮扶主体").click()
    official.wait_for_url(f"**/village/needs/{need_id}/matches")
    helpers = official.locator("li.helper")
    assert helpers.count() >= 3  # the job-capable helpers whose regions cover village A
    assert "C1" in [h.get_attribute("data-helper-id") for h in helpers.all()]
    assert "E1" not in [h.get_attribute("data-helper-id") for h in helpers.all()]  # county B
    assert helpers.first.locator("ul.reasons li").count() >= 2


def test_a_field_worker_adds_and_edits_a_household_and_its_members_on_a_phone(
    village: GraphClient, make_user: MakeUser, open_page: OpenPage, vault: PiiVault
) -> None:
    worker = make_user(Role.FIELD_WORKER, region_code=VILLAGE_A)
    page = sign_in(open_page(viewport=PHONE, is_mobile=True, has_touch=True), worker)
    page.get_by_role("link", name="新增农户").click()
    page.wait_for_url("**/village/new-household")
    check_accessible(page)
    assert page.get_by_label("所在村区划代码").input_value() == VILLAGE_A
    page.get_by_label("主要致贫原因").select_option("illness")
    page.get_by_label("住址").fill("3组8号")
    page.get_by_label("人口").fill("2")
    page.get_by_label("电话").fill("12345")
    page.get_by_label("工资性收入").fill("8000")
    submit(page, "保存")
    assert page.locator("#e-phone").is_visible()  # not a mobile number
    assert page.get_by_label("住址").input_value() == "3组8号"
    page.get_by_label("电话").fill("13712345678")
    submit(page, "保存")
    assert page.locator("p.notice").inner_text() == "已保存。"
    assert "137****5678" in page.content() and "13712345678" not in page.content()
    household_url = page.url.split("?")[0]

    page.get_by_role("link", name="新增家庭成员").click()
    check_accessible(page)
    page.get_by_label("姓名").fill("王大明")
    valid = make_national_id("440223", date(1970, 3, 4), 11)
    page.get_by_label("身份证号").fill(valid[:17] + ("0" if valid[17] != "0" else "1"))
    page.get_by_label("性别").select_option("male")
    page.get_by_label("与户主关系").select_option("head")
    page.get_by_label("健康状况").select_option("serious")
    page.get_by_label("文化程度").select_option("junior")
    page.get_by_label("劳动能力").select_option("weak")
    page.get_by_label("务工状况").select_option("farming")
    page.get_by_label("出生日期").fill("1970-03-04")
    submit(page, "保存")
    assert page.locator("#e-national_id").inner_text() == "身份证号校验位不正确"
    assert page.get_by_label("姓名").input_value() == "王大明"
    page.get_by_label("身份证号").fill(valid)
    submit(page, "保存")
    assert page.url.split("?")[0] == household_url
    row = page.locator("tbody tr").filter(has_text="王大明")
    assert "440223********" in row.inner_text()  # masked as the API masks it
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    row.get_by_role("link", name="修改成员信息 王大明").click()
    check_accessible(page)
    assert page.get_by_label("身份证号").input_value() == ""  # never shown unmasked
    page.get_by_label("姓名").fill("王大明明")
    submit(page, "保存")
    assert page.locator("tbody tr").filter(has_text="王大明明").count() == 1

    page.get_by_role("link", name="修改农户信息").click()
    check_accessible(page)
    assert page.get_by_label("工资性收入").input_value() == "8000.0"
    page.get_by_label("人口").fill("4")
    submit(page, "保存")
    assert "4" in page.locator("dl.facts").inner_text()
    # Each write is in the audit trail, with the masked views only.
    events = AuditRepository(village).search(AuditQuery(actor_id=worker.user.id), limit=50)
    actions = [e.action for e in events]
    for action in ("household.create", "household.update", "person.create", "person.update"):
        assert action in actions
    assert "13712345678" not in str([e.after for e in events])
    assert valid not in str([e.after for e in events])


def test_a_field_worker_reveals_a_members_id_for_a_stated_reason_and_it_is_audited(
    village: GraphClient, vault: PiiVault, make_user: MakeUser, open_page: OpenPage
) -> None:
    national_id = make_national_id("440223", date(1980, 5, 17), 102)
    add_head(village, vault, "HA", national_id)
    worker = make_user(Role.FIELD_WORKER, region_code=VILLAGE_A)
    page = sign_in(open_page(viewport=PHONE, is_mobile=True, has_touch=True), worker)
    visit(page, "/village/households/HA")
    assert national_id not in page.content()
    page.get_by_role("link", name="查看完整身份信息 李小红").click()
    page.wait_for_url("**/members/HA-01/reveal")
    check_accessible(page)
    assert national_id not in page.content()  # nothing shown before a reason is given
    submit(page, "查看并记录")
    assert page.locator("#e-reason").inner_text() == "必填"
    assert national_id not in page.content()
    page.get_by_label("查看原因").fill("办理医疗救助报销")
    submit(page, "查看并记录")
    assert page.locator("#revealed-id").inner_text() == national_id
    assert page.locator("#revealed-phone").inner_text() == "13912345678"
    events = AuditRepository(village).search(AuditQuery(actor_id=worker.user.id), limit=50)
    (event,) = [e for e in events if e.action == "person.reveal_pii"]
    assert event.subject_id == "HA-01" and event.reason == "办理医疗救助报销"

    # A charity has no such page, and a field worker of another village does not find HA.
    charity = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C1"))
    response = charity.goto("/village/households/HA/members/HA-01/reveal")
    assert response is not None and response.status == 403
    other = sign_in(open_page(), make_user(Role.FIELD_WORKER, region_code=VILLAGE_B))
    response = other.goto("/village/households/HA/members/HA-01/reveal")
    assert response is not None and response.status == 404

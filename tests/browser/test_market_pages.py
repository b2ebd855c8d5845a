"""Charities, federations and helper units in the browser: browse, open, claim, report."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import FilePayload

from bangfu.access import Role
from bangfu.vocabulary import HelperKind, NeedCategory
from graph.client import GraphClient
from graph.models import Helper
from graph.pii import PiiVault
from graph.repositories import HelperRepository, NeedRepository
from tests.browser.conftest import OpenPage, check_accessible, sign_in, submit, visit
from tests.integration.conftest import COUNTY_A, VILLAGE_A, VILLAGE_B, MakeUser
from tests.integration.marketplace_data import add_helpers, add_household, add_need

pytestmark = pytest.mark.services
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the store recognises files by their first bytes


@pytest.fixture
def market(auth_graph: GraphClient, vault: PiiVault) -> GraphClient:
    HelperRepository(auth_graph).save(
        Helper(
            id="C2",
            kind=HelperKind.CHARITY,
            name="第二慈善会",
            description="测试",
            capabilities=(NeedCategory.JOB,),
            service_regions=(COUNTY_A,),
            capacity=10,
            home_region_code=COUNTY_A,
        )
    )
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    add_need(auth_graph, "NA1", "HA", VILLAGE_A)
    add_need(auth_graph, "NB1", "HB", VILLAGE_B)  # county B: outside C1's and C2's regions
    return auth_graph


def test_a_charity_claims_a_need_and_a_second_charity_sees_it_taken(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    first = make_user(Role.CHARITY, helper_id="C1")
    second = make_user(Role.CHARITY, helper_id="C2")

    page = sign_in(open_page(), first)
    assert page.url.endswith("/market")
    cards = page.locator("li.need")
    assert cards.count() == 1  # NB1 lies outside the charity's county
    assert "13800138000" not in page.content()
    page.get_by_role("link", name="需要帮扶").click()
    page.wait_for_url("**/market/needs/NA1")
    submit(page, "认领")
    assert page.locator("#held").is_visible()
    assert page.locator("article").get_attribute("data-status") == "claimed"

    other = sign_in(open_page(), second)
    visit(other, "/market/needs/NA1")
    assert other.locator("#taken").is_visible()
    assert other.get_by_role("button", name="认领", exact=True).count() == 0
    # The holder reports fulfilment; a note that is too short is refused next to its field.
    page.get_by_label("完成情况").fill("x")
    submit(page, "报告已完成")
    assert page.locator("#e-fulfil-note").is_visible()
    assert page.get_by_label("完成情况").input_value() == "x"
    page.get_by_label("完成情况").fill("已介绍到镇上工厂上班")
    photo: FilePayload = {"name": "上岗.png", "mimeType": "image/png", "buffer": PNG}
    page.get_by_label("证明材料").set_input_files(files=[photo])
    submit(page, "报告已完成")
    assert page.locator("article").get_attribute("data-status") == "fulfilled"
    fulfilment = [e for e in NeedRepository(market).history("NA1") if e.action == "fulfil"]
    assert fulfilment[0].evidence_name == hashlib.sha256(PNG).hexdigest()

    # The village's field worker confirms with the household that the help arrived.
    worker = sign_in(open_page(), make_user(Role.FIELD_WORKER, region_code=VILLAGE_A))
    visit(worker, "/village/needs?status=fulfilled")
    with worker.expect_navigation():
        worker.locator("li.need[data-need-id='NA1']").get_by_role("button").click()
    assert worker.locator("p.notice").inner_text() == "已确认。"
    visit(worker, "/village/needs?status=confirmed")
    assert worker.locator("li.need[data-need-id='NA1']").count() == 1


def test_a_charity_asks_for_a_claimed_need_and_the_holder_hands_it_over(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    holder = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C1"))
    visit(holder, "/market/needs/NA1")
    submit(holder, "认领")
    assert holder.locator("#transfers").count() == 0  # nobody has asked yet

    asker = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C2"))
    visit(asker, "/market/needs/NA1")
    assert asker.locator("#taken").is_visible()
    submit(asker, "申请转让给本机构")
    assert asker.locator("p.notice").first.inner_text() == "转让申请已提交，等待认领方答复。"
    assert "72 小时" in asker.locator("#transfer-pending").inner_text()
    assert asker.get_by_role("button", name="申请转让给本机构", exact=True).count() == 0

    # The holder's claims flag the request before it opens the need.
    visit(holder, "/market/claims")
    flagged = holder.locator("li.need[data-need-id='NA1'] .tag.asked")
    assert flagged.inner_text() == "有转让申请待答复"
    visit(holder, "/market/needs/NA1")
    asked = holder.locator("#transfers li")
    assert asked.count() == 1 and "第二慈善会" in asked.inner_text()
    submit(holder, "同意转让")
    assert holder.locator("p.notice").first.inner_text() == "已同意转让，该需求已交给对方机构。"
    assert holder.locator("#taken").is_visible() and holder.locator("#transfers").count() == 0

    visit(asker, "/market/needs/NA1")
    assert asker.locator("#held").is_visible()
    assert asker.locator("article").get_attribute("data-status") == "claimed"
    visit(asker, "/market/claims")  # nobody has asked the new holder: no flag
    assert asker.locator("li.need[data-need-id='NA1']").count() == 1
    assert asker.locator(".tag.asked").count() == 0
    assert NeedRepository(market).get("NA1").claimed_by == "C2"


def test_a_holder_declines_a_transfer_request_and_keeps_the_need(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    holder = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C1"))
    visit(holder, "/market/needs/NA1")
    submit(holder, "认领")
    asker = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C2"))
    visit(asker, "/market/needs/NA1")
    submit(asker, "申请转让给本机构")

    visit(holder, "/?lang=en")
    visit(holder, "/market/needs/NA1")
    submit(holder, "Decline")
    assert holder.locator("p.notice").first.inner_text() == "Transfer request declined."
    assert holder.locator("#held").is_visible() and holder.locator("#transfers").count() == 0
    # Answered: the asker may ask again.
    visit(asker, "/market/needs/NA1")
    assert asker.locator("#transfer-pending").count() == 0
    assert asker.get_by_role("button", name="申请转让给本机构", exact=True).count() == 1


def test_a_need_outside_the_helpers_regions_is_the_404_page(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C1"))
    response = page.goto("/market/needs/NB1")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "未找到"


def test_a_federation_pledges_part_of_a_cash_need(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    add_need(market, "NA2", "HA", VILLAGE_A, category=NeedCategory.TUITION, amount=2000)
    (federation,) = add_helpers(market, 1, "44", kind=HelperKind.WOMENS_FEDERATION, prefix="WF")
    page = sign_in(open_page(), make_user(Role.WOMENS_FEDERATION, helper_id=federation))
    visit(page, "/market/needs/NA2")
    assert page.get_by_role("button", name="认领", exact=True).count() == 0  # pledged, not claimed
    page.get_by_label("认捐金额").fill("五百")
    submit(page, "认捐")
    assert page.locator("#e-pledge-amount").inner_text() == "请输入数字"
    assert page.get_by_label("认捐金额").input_value() == "五百"
    page.get_by_label("认捐金额").fill("500")
    submit(page, "认捐")
    assert page.locator("p.notice").first.inner_text() == "认捐成功。"
    facts = page.locator("dl.facts").inner_text()
    assert "500.00" in facts and "1500.00" in facts


def test_a_charity_gives_a_claim_back_with_a_reason(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C1"))
    visit(page, "/market/needs/NA1")
    submit(page, "认领")
    submit(page, "放弃认领")
    assert page.locator("#e-release-reason").inner_text() == "必填"
    page.get_by_label("原因").fill("本机构本月名额已满")
    submit(page, "放弃认领")
    assert page.locator("p.notice").first.inner_text() == "已放弃认领，需求重新开放。"
    assert page.locator("article").get_attribute("data-status") == "open"


def test_filtering_the_market_swaps_the_results_in_place(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    add_need(market, "NA3", "HA", VILLAGE_A, category=NeedCategory.CARE)
    page = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C1"))
    assert page.locator("li.need").count() == 2
    page.evaluate("window.notReloaded = true")
    page.get_by_label("类别").select_option("care")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**category=care*")
    page.locator("li.need[data-need-id='NA1']").wait_for(state="detached")
    assert [c.get_attribute("data-need-id") for c in page.locator("li.need").all()] == ["NA3"]
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the list, no reload
    check_accessible(page)
    page.reload()  # the pushed address is a real page too
    assert page.get_by_label("类别").input_value() == "care"
    assert page.locator("li.need").count() == 1


def test_a_charity_keeps_its_profile_but_not_its_regions(
    market: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C2"))
    page.get_by_role("link", name="本机构").click()
    page.wait_for_url("**/market/profile")
    check_accessible(page)
    assert page.locator("#profile-name").inner_text() == "第二慈善会"
    assert page.get_by_label(
        "就业岗位", exact=True
    ).is_checked()  # what the registrar set: jobs only
    # Nothing offered and too short a description: both shown beside their fields, kept.
    page.get_by_label("就业岗位", exact=True).uncheck()
    page.get_by_label("机构简介与帮扶方式").fill("x")
    submit(page, "保存")
    assert page.locator("#e-description").inner_text() == "至少 2 个字符"
    assert page.locator("#e-capabilities").inner_text() == "至少选择一项"
    assert page.get_by_label("机构简介与帮扶方式").input_value() == "x"
    assert HelperRepository(market).get("C2").description == "测试"

    page.get_by_label("机构简介与帮扶方式").fill("为甲县困难学生提供助学金")
    page.get_by_label("学费资助", exact=True).check()
    page.get_by_label("可同时认领的需求数").fill("15")
    submit(page, "保存")
    assert page.locator("p.notice").first.inner_text() == "已保存。"
    saved = HelperRepository(market).get("C2")
    assert saved.description == "为甲县困难学生提供助学金" and saved.capacity == 15
    assert saved.capabilities == (NeedCategory.TUITION,)
    assert saved.service_regions == (COUNTY_A,)
    assert (
        page.get_by_label("学费资助", exact=True).is_checked()
        and not page.get_by_label("就业岗位", exact=True).is_checked()
    )

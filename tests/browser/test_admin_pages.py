"""Administrators register and change organisations on the web: mistakes shown beside their
fields with what was typed kept, the change audited, nobody else let in."""

from __future__ import annotations

import pytest

from bangfu.access import Role
from bangfu.vocabulary import NeedCategory
from graph.client import GraphClient
from graph.models import AuditQuery
from graph.repositories import AuditRepository, HelperRepository
from tests.browser.conftest import OpenPage, sign_in, submit, visit
from tests.integration.conftest import COUNTY_A, COUNTY_B, MakeUser

pytestmark = pytest.mark.services


def test_an_admin_registers_an_organisation_and_moves_it(
    auth_graph: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    admin = make_user(Role.ADMIN)
    page = sign_in(open_page(), admin)
    page.get_by_role("link", name="帮扶主体").click()
    page.wait_for_url("**/admin/helpers")
    assert page.locator("#helpers tbody tr").count() == 5  # the fixture's five organisations
    form = page.locator("#register")
    form.get_by_label("类型").select_option("charity")
    form.get_by_label("机构名称").fill("乙县助学会")
    form.get_by_label("机构简介与帮扶方式").fill("资助乙县困难家庭学生")
    form.get_by_label("可同时认领的需求数").fill("12")
    form.get_by_label("服务区域").fill(f"{COUNTY_B} 449999")
    form.get_by_label("所在地").fill("44x")
    submit(page, "登记")
    # Nothing ticked, an unknown region and a malformed one: each beside its field, all kept.
    assert page.locator("#e-capabilities").inner_text() == "至少选择一项"
    assert page.locator("#e-home_region_code").inner_text() == "格式不正确"
    assert form.get_by_label("服务区域").input_value() == f"{COUNTY_B} 449999"
    assert form.get_by_label("机构名称").input_value() == "乙县助学会"
    form.get_by_label("学费资助", exact=True).check()
    form.get_by_label("所在地").fill(COUNTY_B)
    submit(page, "登记")
    assert page.locator("#e-service_regions").inner_text() == "区划代码不存在：449999"
    assert len(HelperRepository(auth_graph).page("charity", 0, 50)[0]) == 1  # only C1
    form.get_by_label("服务区域").fill(COUNTY_B)
    submit(page, "登记")
    assert page.locator("p.notice").first.inner_text() == "已保存。"
    helper_id = page.url.split("/admin/helpers/")[1].split("?")[0]
    saved = HelperRepository(auth_graph).get(helper_id)
    assert saved.name == "乙县助学会" and saved.service_regions == (COUNTY_B,)
    assert saved.capabilities == (NeedCategory.TUITION,) and saved.capacity == 12

    # Moved to serve county A as well; the change is audited with before and after.
    page.get_by_label("服务区域").fill(f"{COUNTY_B}，{COUNTY_A}")
    submit(page, "保存")
    assert HelperRepository(auth_graph).get(helper_id).service_regions == (COUNTY_B, COUNTY_A)
    events = AuditRepository(auth_graph).search(AuditQuery(subject_id=helper_id), limit=10)
    assert sorted(e.action for e in events) == ["helper.create", "helper.update"]
    visit(page, "/admin/helpers?kind=charity")
    assert page.locator(f"#helpers tr[data-helper-id='{helper_id}']").count() == 1


def test_only_admins_reach_the_organisations_pages(
    auth_graph: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    for login in (
        make_user(Role.CHARITY, helper_id="C1"),
        make_user(Role.OFFICIAL, region_code=COUNTY_A),
        make_user(Role.AUDITOR),
    ):
        page = sign_in(open_page(), login)
        response = page.goto("/admin/helpers/C1")
        assert response is not None and response.status == 403, login.user.role
    page = sign_in(open_page(), make_user(Role.ADMIN))
    response = page.goto("/admin/helpers/nobody")
    assert response is not None and response.status == 404

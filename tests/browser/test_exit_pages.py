"""Exits on the pages: a county official computes the region's proposals, reads a household's
criteria (income against the line, each of 两不愁三保障 met or taken as met without data) and a
village's incidence, approves (the household is exited in the graph, with its audit event) or
rejects (a note is required: the error sits beside the field and the text stays); a town
official and a field worker read without a decision form and a posted decision of theirs is the
403 page; an official of another county neither sees nor opens county A's proposals; a charity
cannot open the exits at all."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page
from pydantic import SecretStr

from bangfu.access import Principal, Role
from bangfu.identity import make_national_id
from bangfu.settings import RiskSettings
from bangfu.vocabulary import (
    ExitKind,
    Health,
    HouseholdStatus,
    PovertyCause,
    RegionLevel,
)
from graph.client import GraphClient
from graph.models import Household, Income, Region
from graph.pii import PiiVault
from graph.repositories import (
    AuditRepository,
    HouseholdRepository,
    RegionRepository,
)
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.exits import ExitRepository
from tests.browser.conftest import PHONE, OpenPage, sign_in, submit, visit
from tests.integration.conftest import (
    COUNTY_A,
    COUNTY_B,
    TOWN_A,
    VILLAGE_A,
    VILLAGE_B,
    MakeUser,
)
from tests.integration.marketplace_data import add_head
from verification.exit_service import ExitService
from verification.exits import exit_id
from verification.service import Actor

pytestmark = pytest.mark.services

VILLAGE_C = TOWN_A + "002"  # 丙村: 1 poor person among 61, 1.64 % (under the 2 % line)
NATIONAL_ID = make_national_id(COUNTY_A, date(1980, 5, 17), 12)
PHONE_NUMBER = "13912345678"
YEAR = datetime.now(UTC).year  # proposals are judged today and named by the year
HA = exit_id(ExitKind.HOUSEHOLD, "HA", YEAR)
HA2 = exit_id(ExitKind.HOUSEHOLD, "HA2", YEAR)
HB = exit_id(ExitKind.HOUSEHOLD, "HB", YEAR)
VC = exit_id(ExitKind.VILLAGE, VILLAGE_C, YEAR)

HOUSEHOLD = "MATCH (h:Household {id: $id}) RETURN h.status AS status, h.exit_year AS exit_year"
AUDIT_OF = """
MATCH (e:AuditEvent {subject_id: $id})
RETURN e.action AS action, e.outcome AS outcome, e.actor_id AS actor_id
ORDER BY e.at
"""


def _household(
    graph: GraphClient,
    vault: PiiVault,
    hid: str,
    village: str,
    status: HouseholdStatus = HouseholdStatus.POOR,
    size: int = 2,
    wage: float = 30_000,
) -> None:
    HouseholdRepository(graph, vault).save(
        Household(
            id=hid,
            village_code=village,
            status=status,
            main_cause=PovertyCause.ILLNESS,
            size=size,
            address="3组8号",
            phone=SecretStr(PHONE_NUMBER),
            income=Income(wage=wage),
        )
    )


@pytest.fixture
def exit_world(auth_graph: GraphClient, vault: PiiVault) -> GraphClient:
    """County A: HA and HA2 poor with 15,000 a person (over the line), village C with one poor
    person of 61; county B: HB over the line too."""
    RegionRepository(auth_graph).save_rows(
        [
            Region(
                code=VILLAGE_C, name="丙村", level=RegionLevel.VILLAGE, parent_code=TOWN_A
            ).model_dump(mode="json")
        ]
    )
    _household(auth_graph, vault, "HA", VILLAGE_A)
    add_head(auth_graph, vault, "HA", NATIONAL_ID, PHONE_NUMBER, Health.HEALTHY)
    _household(auth_graph, vault, "HA2", VILLAGE_A)
    _household(auth_graph, vault, "HB", VILLAGE_B)
    _household(auth_graph, vault, "HC0", VILLAGE_C, size=1, wage=1_000)  # poor, under the line
    for n in range(1, 4):
        _household(auth_graph, vault, f"HC{n}", VILLAGE_C, HouseholdStatus.EXITED, size=20)
    return auth_graph


def propose(graph: GraphClient, region: str) -> None:
    """Proposals computed by the server's own service, as an official of `region` would."""
    principal = Principal(
        user_id="seed-official", username="seed", role=Role.OFFICIAL, region_code=region
    )
    ExitService(
        ExitRepository(graph), CrossCheckRepository(graph), AuditRepository(graph), RiskSettings()
    ).propose(Actor(principal=principal, prefixes=(region,)), region)


def listed(page: Page) -> list[str]:
    return [str(x.get_attribute("data-exit-id")) for x in page.locator("li[data-exit-id]").all()]


def csrf_token(page: Page) -> str:
    return str(page.locator("input[name=csrf_token]").first.get_attribute("value"))


def test_a_county_official_computes_reads_and_approves_an_exit(
    exit_world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    county = make_user(Role.OFFICIAL, region_code=COUNTY_A)
    page = sign_in(open_page(viewport=PHONE), county)
    assert "/exits" in [a.get_attribute("href") for a in page.locator("header nav a").all()]
    visit(page, "/exits")
    assert listed(page) == []
    submit(page, "生成退出建议")
    assert page.url.endswith("/exits?status=proposed&done=exits_proposed_ok")
    assert "退出建议已生成" in page.locator("p.notice").inner_text()
    # Households first, then villages; HB lies in county B, HC0 is under the line.
    assert listed(page) == [HA, HA2, VC]

    page.locator(f"li[data-exit-id='{HA}'] h2 a").click()
    page.wait_for_url(f"**/exits/{HA}")
    visit(page, page.url)
    assert page.locator("h1").inner_text() == "脱贫退出 · HA"
    checks = {
        str(li.get_attribute("data-guarantee")): str(li.get_attribute("data-state"))
        for li in page.locator("ul.checks li").all()
    }
    assert checks == {
        "income": "met",
        "food": "assumed",
        "clothing": "assumed",
        "compulsory_education": "assumed",  # no enrolment data imported
        "basic_medical": "assumed",  # no medical-insurance data imported
        "safe_housing": "met",
        "safe_water": "met",
    }
    income = page.locator("li[data-guarantee='income']").inner_text()
    assert "人均纯收入15000元" in income and "达标" in income
    assert "无数据核验，视同达标" in page.locator("li[data-guarantee='food']").inner_text()
    assert page.locator("#open-tasks").inner_text() == "0"
    content = page.content()
    assert NATIONAL_ID not in content and PHONE_NUMBER not in content
    assert NATIONAL_ID[-6:] not in content

    page.get_by_label("审批意见").fill("入户核实，收入稳定，符合退出标准")
    submit(page, "批准退出")
    assert page.url.endswith(f"/exits/{HA}?done=exit_approved_ok")
    assert page.locator("section[data-status]").get_attribute("data-status") == "approved"
    assert page.locator("#decision-note").inner_text() == "入户核实，收入稳定，符合退出标准"
    assert page.locator("form#decision").count() == 0
    assert exit_world.read_one(HOUSEHOLD, id="HA") == {"status": "exited", "exit_year": YEAR}
    events = exit_world.read(AUDIT_OF, id=HA)
    assert [(e["action"], e["outcome"], e["actor_id"]) for e in events] == [
        ("exit.approve", "ok", county.user.id)
    ]

    # A village's proposal shows its incidence against the 2 % line; English on request.
    visit(page, f"/exits/{VC}?lang=en")
    assert page.locator("#incidence").inner_text() == "1.64%"
    assert "below 2%" in page.locator("section[aria-labelledby=criteria-title]").inner_text()
    assert page.locator("h1").inner_text() == f"village · {VILLAGE_C}"
    visit(page, "/exits?kind=household&status=approved&lang=en")
    assert listed(page) == [HA]
    assert "approved" in page.locator(f"li[data-exit-id='{HA}']").inner_text()


def test_a_rejection_needs_a_note_and_keeps_what_was_typed(
    exit_world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    propose(exit_world, COUNTY_A)
    page = sign_in(open_page(viewport=PHONE), make_user(Role.OFFICIAL, region_code=COUNTY_A))
    visit(page, f"/exits/{HA2}")
    submit(page, "不予批准")
    assert page.locator("#e-note").inner_text() == "必填"
    page.get_by_label("审批意见").fill("缓")
    submit(page, "不予批准")
    assert page.locator("#e-note").inner_text() == "至少 2 个字符"
    assert page.get_by_label("审批意见").input_value() == "缓"
    assert page.locator("section[data-status]").get_attribute("data-status") == "proposed"
    assert exit_world.read(AUDIT_OF, id=HA2) == []

    page.get_by_label("审批意见").fill("缓：务工收入不稳定，暂缓退出")
    submit(page, "不予批准")
    assert page.url.endswith("?done=exit_rejected_ok")
    assert page.locator("section[data-status]").get_attribute("data-status") == "rejected"
    assert page.locator("#exit-status").inner_text() == "未批准"
    assert exit_world.read_one(HOUSEHOLD, id="HA2") == {"status": "poor", "exit_year": None}
    assert [e["action"] for e in exit_world.read(AUDIT_OF, id=HA2)] == ["exit.reject"]


def test_an_official_of_another_county_neither_sees_nor_opens_the_proposal(
    exit_world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    propose(exit_world, "44")  # the whole province: county A's and county B's proposals
    page = sign_in(open_page(), make_user(Role.OFFICIAL, region_code=COUNTY_B))
    visit(page, "/exits")
    assert listed(page) == [HB]
    response = page.goto(f"/exits/{HA}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "未找到"
    response = page.goto(f"/exits?region={COUNTY_A}")
    assert response is not None and response.status == 200
    assert listed(page) == []


def test_below_the_county_the_state_is_shown_without_a_decision(
    exit_world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    propose(exit_world, COUNTY_A)
    # (login, what its region lists, whether it may compute proposals)
    for who, sees, proposes in (
        (make_user(Role.OFFICIAL, region_code=TOWN_A), [HA, HA2, VC], True),
        (make_user(Role.FIELD_WORKER, region_code=VILLAGE_A), [HA, HA2], False),
    ):
        official = who.user.role is Role.OFFICIAL
        page = sign_in(open_page(viewport=PHONE), who)
        visit(page, "/exits")
        assert listed(page) == sees
        assert page.locator("form#propose").count() == (1 if proposes else 0)
        visit(page, f"/exits/{HA}")
        assert page.locator("ul.checks li").count() == 7
        assert page.locator("form#decision").count() == 0
        assert page.get_by_role("button", name="批准退出").count() == 0
        if official:
            assert "县级及以上干部审批" in page.locator("#decision-by-county").inner_text()
        # A decision posted anyway (with the session's own CSRF token) is the 403 page.
        refused = page.request.post(
            f"/exits/{HA}/decision",
            form={"csrf_token": csrf_token(page), "decision": "approve", "note": "同意退出"},
        )
        assert refused.status == 403
        assert "无权访问" in refused.text()
    # The town official's attempt is on the trail as denied (the field worker's is refused by
    # the policy before the service, audited there); the proposal is still undecided.
    outcomes = [e["outcome"] for e in exit_world.read(AUDIT_OF, id=HA)]
    assert outcomes == ["denied"]
    assert exit_world.read_one(HOUSEHOLD, id="HA") == {"status": "poor", "exit_year": None}


def test_a_charity_cannot_open_the_exits(
    exit_world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    propose(exit_world, COUNTY_A)
    page = sign_in(open_page(), make_user(Role.CHARITY, helper_id="C1"))
    assert "/exits" not in [a.get_attribute("href") for a in page.locator("header nav a").all()]
    for path in ("/exits", f"/exits/{HA}"):
        response = page.goto(path)
        assert response is not None and response.status == 403
        assert page.locator("h1").inner_text() == "无权访问"


def test_an_admin_names_the_region_to_compute(
    exit_world: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(viewport=PHONE), make_user(Role.ADMIN))
    visit(page, "/exits")
    form = page.locator("form#propose")
    submit(page, "生成退出建议")  # no region of their own: the field is required
    assert page.locator("#e-propose-region").inner_text() == "必填"
    form.get_by_label("区划代码").fill("4402x")
    submit(page, "生成退出建议")
    assert page.locator("#e-propose-region").inner_text() == "格式不正确"
    assert form.get_by_label("区划代码").input_value() == "4402x"
    form.get_by_label("区划代码").fill(COUNTY_B)
    submit(page, "生成退出建议")
    assert listed(page) == [HB]
    # Admins read for support but take no decision (the policy leaves it to officials).
    visit(page, f"/exits/{HB}")
    assert page.locator("form#decision").count() == 0

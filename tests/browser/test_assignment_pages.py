"""Assignment proposals on the pages: a county official proposes for the county, reads the
summary and the items (needs de-identified: no ID numbers or phones), accepts, and — with a real
Celery worker — watches the page move from 'accepting' to 'accepted' with each item's outcome
while the needs are claimed in the graph; accepting again is the 409 page. A proposal a worker
is still computing says so and updates itself; an official of another county neither sees nor
opens it; roles without access get the 403 page; an admin names the region."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from bangfu.access import Principal, Role
from bangfu.identity import make_national_id
from bangfu.settings import get_settings
from bangfu.vocabulary import NeedCategory, NeedStatus, Urgency
from graph.client import GraphClient
from graph.models import Need
from graph.pii import PiiVault
from graph.repositories import AuditRepository, NeedRepository, PairingRepository
from graph.repositories.matching import MatchingRepository
from matching.needs import Caller
from matching.service import MatchingService
from tests.browser.conftest import PHONE, OpenPage, check_accessible, sign_in, submit, visit
from tests.integration import conftest as integration
from tests.integration.celery_worker import Worker
from tests.integration.conftest import (
    COUNTY_A,
    COUNTY_B,
    VILLAGE_A,
    VILLAGE_B,
    Login,
    MakeUser,
    bearer,
)
from tests.integration.marketplace_data import add_household
from workers.celery_app import app as celery_app

pytestmark = pytest.mark.services

token_of = integration.token_of

NATIONAL_ID = make_national_id(COUNTY_A, date(1980, 5, 17), 12)
PHONE_NUMBER = "13912345678"
HOUSEHOLD_PHONE = "13800138000"  # marketplace_data.add_household's
JOB_TEXT = "户主今年45岁，之前的工作因工厂停产中断，希望在县城找到保洁工作。"
NEED = "MATCH (n:Need {id: $id}) RETURN n.status AS status, n.claimed_by AS holder"
# Generous: the worker claims two items in seconds, but two cores are shared by several
# sessions and a worker process takes a while to start.
WORKER_TIMEOUT_MS = 120_000


def _need(
    need_id: str,
    household: str,
    village: str,
    category: NeedCategory,
    title: str,
    status: NeedStatus = NeedStatus.OPEN,
) -> Need:
    return Need(
        id=need_id,
        household_id=household,
        village_code=village,
        category=category,
        kind=category.kind,
        title=title,
        text=f"{JOB_TEXT}身份证{NATIONAL_ID}，电话{PHONE_NUMBER}",
        amount=0,
        urgency=Urgency.HIGH,
        status=status,
        created_at=date(2026, 3, 1),
    )


@pytest.fixture
def assignment_world(auth_graph: GraphClient, vault: PiiVault) -> MatchingService:
    """As tests/integration/test_matching_api.py's world: HA (paired with unit U1) and HA2 in
    village A, HB in village B; open needs NA1 (job) and NA3 (care, through the pairing) in
    county A, NB1 in county B. NA1's title carries a phone number as a field worker might type
    it. Helpers (conftest): C1 county A, W1 province, D1 city, U1 village A, E1 county B."""
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_household(auth_graph, vault, "HA2", VILLAGE_A)
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    PairingRepository(auth_graph).pair_helper("U1", "HA")
    needs = NeedRepository(auth_graph)
    for n in (
        _need("NA1", "HA", VILLAGE_A, NeedCategory.JOB, f"就业岗位对接（联系{PHONE_NUMBER}）"),
        _need("NA3", "HA", VILLAGE_A, NeedCategory.CARE, "留守老人上门照料"),
        _need("NA4", "HA2", VILLAGE_A, NeedCategory.JOB, "待审核", NeedStatus.PENDING_REVIEW),
        _need("NB1", "HB", VILLAGE_B, NeedCategory.JOB, "乙村就业岗位对接"),
    ):
        needs.save(n)
    service = MatchingService(
        MatchingRepository(auth_graph), get_settings().matching, AuditRepository(auth_graph)
    )
    service.refresh_history()
    service.embed_all(refit=True)
    return service


def official_caller(region: str) -> Caller:
    """Proposals made by the server's own service, as an official of `region` would."""
    principal = Principal(
        user_id="seed-official", username="seed", role=Role.OFFICIAL, region_code=region
    )
    return Caller(principal=principal, prefixes=(region,))


def listed(page: Page) -> list[str]:
    return [
        str(x.get_attribute("data-proposal-id")) for x in page.locator("li[data-proposal-id]").all()
    ]


def status_of(page: Page) -> str:
    return str(page.locator("section[data-proposal-id]").get_attribute("data-status"))


def outcomes(page: Page) -> dict[str, str]:
    return {
        str(row.get_attribute("data-need-id")): str(row.get_attribute("data-outcome"))
        for row in page.locator("tr[data-need-id]").all()
    }


def csrf_token(page: Page) -> str:
    return str(page.locator("input[name=csrf_token]").first.get_attribute("value"))


def test_a_county_official_proposes_reads_and_accepts_and_a_worker_claims(
    assignment_world: MatchingService,
    auth_graph: GraphClient,
    make_user: MakeUser,
    open_page: OpenPage,
    http: httpx.Client,
    token_of: Callable[[Login], str],
    tmp_path: Path,
) -> None:
    county = make_user(Role.OFFICIAL, region_code=COUNTY_A)
    page = sign_in(open_page(viewport=PHONE), county)
    assert "/assignments" in [a.get_attribute("href") for a in page.locator("header nav a").all()]
    visit(page, "/assignments")
    assert listed(page) == []
    submit(page, "生成分配方案")  # region left blank: the official's county
    assert "?done=assignment_proposed_ok" in page.url
    assert "分配方案已生成" in page.locator("p.notice").inner_text()
    proposal_id = str(page.locator("section[data-proposal-id]").get_attribute("data-proposal-id"))
    assert status_of(page) == "proposed"
    assert page.locator("h1").inner_text() == "分配方案 · 甲县"
    assert page.locator("#needs-covered").inner_text() == "2 / 2 (100%)"
    assert page.locator("#helpers-used").inner_text().startswith("1 / ")
    assert page.locator("#capacity-violations").inner_text() == "0"
    assert page.locator("#starved-villages").inner_text() == "0"
    rows = {
        str(r.get_attribute("data-need-id")): r.inner_text()
        for r in page.locator("tr[data-need-id]").all()
    }
    assert sorted(rows) == ["NA1", "NA3"]  # NB1 lies in county B, NA4 is not open
    assert (
        "帮扶主体U1" in rows["NA3"] and "甲村" in rows["NA3"] and "留守老人上门照料" in rows["NA3"]
    )
    assert "就业岗位对接（联系***）" in rows["NA1"]
    assert outcomes(page) == {"NA1": "", "NA3": ""}
    content = page.content()
    for secret in (NATIONAL_ID, PHONE_NUMBER, HOUSEHOLD_PHONE, NATIONAL_ID[-6:]):
        assert secret not in content
    assert "HA" not in page.locator("table").inner_text()  # no household ids either

    visit(page, "/assignments")
    assert listed(page) == [proposal_id]
    card = page.locator(f"li[data-proposal-id='{proposal_id}']").inner_text()
    assert "待接受" in card and "已分配 2/2 项（100%）" in card

    # Meanwhile charity C1 claims NA1 itself: at acceptance that item no longer fits.
    charity = make_user(Role.CHARITY, helper_id="C1")
    claimed = http.post("/api/v1/needs/NA1/claim", headers=bearer(token_of(charity)))
    assert claimed.status_code == 200, claimed.text

    visit(page, f"/assignments/{proposal_id}")
    celery_app.control.purge()
    worker = Worker(tmp_path)
    worker.start()
    try:
        submit(page, "接受方案")
        assert "?done=assignment_accepted_ok" in page.url
        assert status_of(page) in ("accepting", "accepted")
        assert page.locator("form#accept").count() == 0
        # The page polls itself (htmx) until the worker has decided every item.
        page.wait_for_selector(
            "section[data-proposal-id][data-status='accepted']", timeout=WORKER_TIMEOUT_MS
        )
    finally:
        worker.stop()
        celery_app.control.purge()
    check_accessible(page)
    assert page.locator("#proposal-status").inner_text() == "已接受"
    assert page.locator("#in-progress").count() == 0
    assert (page.locator("#claimed").inner_text(), page.locator("#skipped").inner_text()) == (
        "1",
        "1",
    )
    assert outcomes(page) == {"NA1": "already_claimed", "NA3": "claimed"}
    na1 = page.locator("tr[data-need-id='NA1'] td.outcome").inner_text()
    assert na1 == "已跳过：已被其他主体认领"
    assert auth_graph.read_one(NEED, id="NA3") == {"status": "claimed", "holder": "U1"}
    assert auth_graph.read_one(NEED, id="NA1") == {"status": "claimed", "holder": "C1"}

    # Accepting again (the form is gone; posted anyway with the session's token) is refused.
    again = page.request.post(
        f"/assignments/{proposal_id}/accept", form={"csrf_token": csrf_token(page)}
    )
    assert again.status == 409
    assert "操作冲突" in again.text()

    visit(page, f"/assignments/{proposal_id}?lang=en")
    assert page.locator("#proposal-status").inner_text() == "accepted"
    assert page.locator("tr[data-need-id='NA3'] td.outcome").inner_text() == "claimed"
    visit(page, "/assignments?lang=en")
    assert (
        "1 claimed, 1 skipped" in page.locator(f"li[data-proposal-id='{proposal_id}']").inner_text()
    )


def test_a_proposal_being_computed_says_so_and_updates_itself(
    assignment_world: MatchingService,
    auth_graph: GraphClient,
    make_user: MakeUser,
    open_page: OpenPage,
) -> None:
    lost: list[str] = []
    queueing = MatchingService(
        MatchingRepository(auth_graph),
        get_settings().matching,
        AuditRepository(auth_graph),
        on_proposal_queued=lost.append,  # the test plays the worker below
    )
    queued = queueing.propose_assignment(official_caller(COUNTY_A), COUNTY_A, max_needs=1)
    assert queued.status == "computing" and lost == [queued.id]

    page = sign_in(open_page(viewport=PHONE), make_user(Role.OFFICIAL, region_code=COUNTY_A))
    visit(page, f"/assignments/{queued.id}")
    assert status_of(page) == "computing"
    assert "正在后台计算" in page.locator("#in-progress").inner_text()
    assert page.locator("#in-progress a").get_attribute("href") == f"/assignments/{queued.id}"
    assert page.locator("#summary").count() == 0 and page.locator("form#accept").count() == 0
    visit(page, "/assignments")
    assert "计算中" in page.locator(f"li[data-proposal-id='{queued.id}']").inner_text()
    # Accepting before it is computed is refused.
    refused = page.request.post(
        f"/assignments/{queued.id}/accept", form={"csrf_token": csrf_token(page)}
    )
    assert refused.status == 409

    visit(page, f"/assignments/{queued.id}")
    assert queueing.compute_queued_proposal(queued.id) == "proposed"
    page.wait_for_selector("section[data-proposal-id][data-status='proposed']", timeout=30_000)
    check_accessible(page)
    assert page.locator("#needs-covered").inner_text() == "2 / 2 (100%)"
    assert page.locator("#in-progress").count() == 0
    assert page.locator("form#accept").count() == 1


def test_an_official_of_another_county_neither_sees_nor_opens_it(
    assignment_world: MatchingService, make_user: MakeUser, open_page: OpenPage
) -> None:
    made = assignment_world.propose_assignment(official_caller(COUNTY_A), COUNTY_A)
    own = assignment_world.propose_assignment(official_caller(COUNTY_B), COUNTY_B)
    page = sign_in(open_page(viewport=PHONE), make_user(Role.OFFICIAL, region_code=COUNTY_B))
    visit(page, "/assignments")
    assert listed(page) == [own.id]
    response = page.goto(f"/assignments/{made.id}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "未找到"
    refused = page.request.post(
        f"/assignments/{made.id}/accept", form={"csrf_token": csrf_token(page)}
    )
    assert refused.status == 404
    # Proposing for county A from county B is "not found" too, shown as the 404 page.
    visit(page, "/assignments")
    page.locator("form#propose").get_by_label("区划代码（留空为本辖区）").fill(COUNTY_A)
    submit(page, "生成分配方案")
    assert page.locator("h1").inner_text() == "未找到"


def test_roles_without_access_get_the_403_page(
    assignment_world: MatchingService, make_user: MakeUser, open_page: OpenPage
) -> None:
    made = assignment_world.propose_assignment(official_caller(COUNTY_A), COUNTY_A)
    for who in (
        make_user(Role.FIELD_WORKER, region_code=VILLAGE_A),
        make_user(Role.CHARITY, helper_id="C1"),
        make_user(Role.AUDITOR),
    ):
        page = sign_in(open_page(), who)
        hrefs = [a.get_attribute("href") for a in page.locator("header nav a").all()]
        assert "/assignments" not in hrefs
        for path in ("/assignments", f"/assignments/{made.id}"):
            response = page.goto(path)
            assert response is not None and response.status == 403
            assert page.locator("h1").inner_text() == "无权访问"
        refused = page.request.post(
            f"/assignments/{made.id}/accept", form={"csrf_token": csrf_token(page)}
        )
        assert refused.status == 403


def test_an_admin_names_the_region(
    assignment_world: MatchingService, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(viewport=PHONE), make_user(Role.ADMIN))
    visit(page, "/assignments")
    form = page.locator("form#propose")
    submit(page, "生成分配方案")  # no region of their own: the field is required
    assert page.locator("#e-region_code").inner_text() == "必填"
    form.get_by_label("区划代码").fill("44x")
    submit(page, "生成分配方案")
    assert page.locator("#e-region_code").inner_text() == "格式不正确"
    assert form.get_by_label("区划代码").input_value() == "44x"
    form.get_by_label("区划代码").fill(COUNTY_B)
    submit(page, "生成分配方案")
    assert page.locator("h1").inner_text() == "分配方案 · 乙县"
    assert [r.get_attribute("data-need-id") for r in page.locator("tr[data-need-id]").all()] == [
        "NB1"
    ]
    visit(page, "/assignments?lang=en")
    assert len(listed(page)) == 1
    assert "Proposed by" in page.locator("li[data-proposal-id]").inner_text()

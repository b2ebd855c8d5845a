"""An official works through the risk-alert queue: sees only the region's alerts with their
explanations, accepts one and records the visit (an empty finding is refused in place)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bangfu.access import Principal, Role
from bangfu.settings import RiskSettings
from graph.client import GraphClient
from graph.models import AlertDraft
from graph.pii import PiiVault
from graph.repositories import AuditRepository, RiskRepository
from ml import review
from ml.alerts import AlertService
from tests.browser.conftest import OpenPage, sign_in, submit, visit
from tests.integration.conftest import COUNTY_A, VILLAGE_A, VILLAGE_B, MakeUser
from tests.integration.marketplace_data import add_household
from tests.integration.test_risk_api import add_exited_household

ALERT_HA = "RA-HA-2026"  # alert ids are RA-<household>-<period>

pytestmark = pytest.mark.services


@pytest.fixture
def alerts(auth_graph: GraphClient, vault: PiiVault) -> GraphClient:
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    now = datetime.now(UTC)
    RiskRepository(auth_graph).save_alerts(
        [VILLAGE_A, VILLAGE_B],
        2,
        [
            AlertDraft(
                household_id=hid,
                village_code=village,
                period="2026",
                score=score,
                model_version="test-model",
                reasons=("model", "medical_burden"),
                factors_zh=("人均纯收入仅高出监测线5%",),
                factors_en=("per-capita income only 5% above the monitoring line",),
            )
            for hid, village, score in (("HA", VILLAGE_A, 0.31), ("HB", VILLAGE_B, 0.12))
        ],
        period="2026",
        model_version="test-model",
        at=now,
        due=now + timedelta(days=2),
    )
    return auth_graph


def test_an_official_reviews_an_alert(
    alerts: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(), make_user(Role.OFFICIAL, region_code=COUNTY_A))
    assert page.url.endswith("/alerts")
    rows = page.locator("tr[data-alert-id]")
    assert rows.count() == 1  # HB's alert lies in county B
    assert "模型预警、医疗支出负担重" in rows.first.inner_text()
    rows.first.get_by_role("link").click()
    page.wait_for_url("**/alerts/*")
    assert "人均纯收入仅高出监测线5%" in page.locator("ul.reasons").inner_text()
    assert page.locator("section[data-status]").get_attribute("data-status") == "new"

    submit(page, "受理")
    assert page.locator("section[data-status]").get_attribute("data-status") == "accepted"
    page.get_by_role("textbox", name="核实情况").fill("")
    page.get_by_label("核实人均收入").fill("6500")
    submit(page, "入户核实")
    assert page.locator("#e-visit-findings").inner_text() == "必填"
    assert page.get_by_label("核实人均收入").input_value() == "6500"
    page.get_by_role("textbox", name="核实情况").fill("入户核实：户主住院两次，医疗支出大")
    submit(page, "入户核实")
    assert page.locator("section[data-status]").get_attribute("data-status") == "visited"
    assert "户主住院两次" in page.content()

    # English on request, with the same explanation in English.
    visit(page, page.url.split("?")[0] + "?lang=en")
    assert "per-capita income only 5% above the monitoring line" in page.content()
    assert page.locator("h1").inner_text().startswith("Risk alert")


def test_a_county_official_decides_with_a_measure(
    auth_graph: GraphClient, vault: PiiVault, make_user: MakeUser, open_page: OpenPage
) -> None:
    add_exited_household(auth_graph, vault, "HA", VILLAGE_A)
    now = datetime.now(UTC)
    RiskRepository(auth_graph).save_alerts(
        [VILLAGE_A],
        1,
        [
            AlertDraft(
                household_id="HA",
                village_code=VILLAGE_A,
                period="2026",
                score=0.4,
                model_version="test-model",
                reasons=("model",),
                factors_zh=("务工收入下降",),
                factors_en=("wages fell",),
            )
        ],
        period="2026",
        model_version="test-model",
        at=now,
        due=now + timedelta(days=2),
    )
    county = make_user(Role.OFFICIAL, region_code=COUNTY_A)
    actor = review.Actor(
        principal=Principal(
            user_id=county.user.id,
            username=county.username,
            role=Role.OFFICIAL,
            region_code=COUNTY_A,
        ),
        prefixes=(COUNTY_A,),
    )
    # The steps before the decision, through the server's own service with its clock moved
    # past the 5-day notice (as the API tests do).
    repo, audit = RiskRepository(auth_graph), AuditRepository(auth_graph)
    today = AlertService(repo, audit, RiskSettings())
    later = AlertService(repo, audit, RiskSettings(), clock=lambda: now + timedelta(days=6))
    today.accept(actor, ALERT_HA)
    today.visit(actor, ALERT_HA, review.Visit(findings="户主务工受伤，收入下降"))
    today.start_notice(actor, ALERT_HA, review.Notice(appraisal="村民代表评议通过"))
    later.town_review(actor, ALERT_HA, review.TownReview(note="乡镇审核同意"))

    page = sign_in(open_page(), county)
    visit(page, f"/alerts/{ALERT_HA}")
    assert page.locator("section[data-status]").get_attribute("data-status") == "town_reviewed"
    form = page.locator(f"form[action='/alerts/{ALERT_HA}/confirm']")
    form.get_by_label("监测对象类型").select_option("unstable")
    form.get_by_label("类别").select_option("job")
    form.get_by_label("标题").fill("公益岗位")
    form.get_by_label("需求说明").fill("安排村保洁公益岗位")
    submit(page, "县级审定")
    assert page.locator("section[data-status]").get_attribute("data-status") == "confirmed"
    visit(page, "/village/needs?q=公益岗位")
    assert page.locator("li.need").filter(has_text="公益岗位").count() == 1

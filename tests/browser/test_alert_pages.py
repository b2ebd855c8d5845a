"""An official works through the risk-alert queue: sees only the region's alerts with their
explanations, accepts one and records the visit (an empty finding is refused in place)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bangfu.access import Role
from graph.client import GraphClient
from graph.models import AlertDraft
from graph.pii import PiiVault
from graph.repositories import RiskRepository
from tests.browser.conftest import OpenPage, sign_in, submit, visit
from tests.integration.conftest import COUNTY_A, VILLAGE_A, VILLAGE_B, MakeUser
from tests.integration.marketplace_data import add_household

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

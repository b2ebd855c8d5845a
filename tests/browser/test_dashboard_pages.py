"""An official's dashboard: ECharts draws the region's figures (checked in the chart instance,
not just its div), drills down county → town → village, and exports the table to Excel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from bangfu.access import Role
from bangfu.settings import WorkerSettings
from graph.client import GraphClient
from graph.models import AlertDraft
from graph.pii import PiiVault
from graph.repositories import RiskRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.region_stats import RegionStatsRepository
from tests.browser.conftest import OpenPage, sign_in, visit
from tests.integration.conftest import COUNTY_A, TOWN_A, VILLAGE_A, VILLAGE_B, MakeUser
from tests.integration.marketplace_data import add_household, add_need
from workers.jobs import RegionStatsJob, create_region_stats_job

pytestmark = pytest.mark.services

SERIES = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('chart-households'));
  return chart.getOption().series.map(s => ({name: s.name, data: s.data}));
}"""


@pytest.fixture
def stats(auth_graph: GraphClient, vault: PiiVault) -> GraphClient:
    for n in range(3):
        add_household(auth_graph, vault, f"HA{n}", VILLAGE_A)  # monitored, 3 people each
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    add_need(auth_graph, "NA1", "HA0", VILLAGE_A)
    jobs = JobRepository(auth_graph)
    runner = RegionStatsJob(jobs, RegionStatsRepository(auth_graph), WorkerSettings())
    job = create_region_stats_job(jobs, created_by="test")
    # The job's own code, run in this process (the worker tests cover it under Celery).
    runner.plan(job.id, lambda job_id, no: print(runner.run_chunk(job_id, no)))
    return auth_graph


def test_a_dashboard_chart_renders_with_data_drills_down_and_exports(
    stats: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    page = sign_in(open_page(accept_downloads=True), make_user(Role.OFFICIAL, region_code=COUNTY_A))
    visit(page, "/dashboard")
    page.wait_for_function("echarts.getInstanceByDom(document.getElementById('chart-households'))")
    series = {s["name"]: s["data"] for s in page.evaluate(SERIES)}
    assert series == {"未脱贫户数": [0], "已脱贫户数": [0], "监测对象户数": [3]}  # one town: 甲镇
    canvas = page.locator("#chart-households canvas")
    assert canvas.count() == 1 and canvas.bounding_box()["height"] > 100  # type: ignore[index]

    with page.expect_download() as download:
        page.locator("a[href*='table=households'][href*='xlsx']").click()
    book = load_workbook(BytesIO(open(download.value.path(), "rb").read()))  # noqa: SIM115
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0][:4] == ["区划代码", "地区", "户数", "人数"]
    assert rows[0][8] == "监测对象户数"
    # The county's own row first, then one per town: the numbers the chart drew.
    assert [[*r[:4], r[8]] for r in rows[1:]] == [
        [COUNTY_A, "甲县", 3, 9, 3],
        [TOWN_A, "甲镇", 3, 9, 3],
    ]

    page.locator("details").first.locator("summary").click()
    page.get_by_role("link", name="甲镇").click()
    page.wait_for_url(f"**region={TOWN_A}*")
    page.wait_for_function("echarts.getInstanceByDom(document.getElementById('chart-households'))")
    assert page.locator("#region-name").inner_text() == "甲镇"
    villages = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-households'))"
        ".getOption().xAxis[0].data"
    )
    assert villages == ["甲村"]
    page.get_by_role("link", name="返回上级").click()
    page.wait_for_url(f"**region={COUNTY_A}")
    assert page.locator("#region-name").inner_text() == "甲县"

    # County B is not this official's: the 404 page, in Chinese.
    response = page.goto("/dashboard?region=440224")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "未找到"


def test_the_alerts_chart_counts_the_regions_alerts_by_step(
    stats: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    now = datetime.now(UTC)
    RiskRepository(stats).save_alerts(
        [VILLAGE_A, VILLAGE_B],
        2,
        [
            AlertDraft(
                household_id=hid,
                village_code=village,
                period="2026",
                score=0.3,
                model_version="test-model",
                reasons=("model",),
                factors_zh=("测试",),
                factors_en=("test",),
            )
            for hid, village in (("HA0", VILLAGE_A), ("HA1", VILLAGE_A), ("HB", VILLAGE_B))
        ],
        period="2026",
        model_version="test-model",
        at=now,
        due=now + timedelta(days=2),
    )
    page = sign_in(open_page(), make_user(Role.OFFICIAL, region_code=COUNTY_A))
    visit(page, "/dashboard")
    page.wait_for_function("echarts.getInstanceByDom(document.getElementById('chart-alerts'))")
    option = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-alerts')).getOption()"
    )
    counts = dict(zip(option["xAxis"][0]["data"], option["series"][0]["data"], strict=True))
    assert counts["待受理"] == 2  # county B's alert is not counted here
    assert sum(counts.values()) == 2

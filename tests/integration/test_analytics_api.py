"""The analytics API over real HTTP against the real Neo4j, on a generated county: the seed
document's figures come back through the API, every child row sums to its parent, an official
of one county cannot see another (404), exports are neutralised, and every table says how fresh
it is. Statistics are refreshed by the same chunk code the worker runs (RegionStatsJob), called
in this process; tests/integration/test_workers.py runs it under a real Celery worker."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pydantic import SecretStr

from api.audit import AuditTrail
from api.users import UserService
from bangfu.access import Role
from bangfu.settings import get_settings
from bangfu.vocabulary import RegionLevel
from graph.client import GraphClient
from graph.models import Region
from graph.pii import PiiVault
from graph.repositories import AuditRepository, ProjectRepository, RegionRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.region_stats import RegionStatsRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale
from graph.synthetic.scales import CALIBRATION, MAIN_CAUSE_SHARES
from tests.conftest import wipe
from tests.integration.conftest import bearer, login
from workers.jobs import RegionStatsJob, create_region_stats_job

SEED = 3
OTHER_COUNTY = "440224"  # a county of its own, outside the generated one
OTHER_VILLAGE = "440224102003"
FIGURE_TABLES = (
    "households",
    "causes",
    "income",
    "spending",
    "employment",
    "needs",
    "need_categories",
    "fulfilment",
    "exits",
    "villages",
    "projects",
)
# Columns that are sums (not shares, means or ratios), per table, for the drill-down check.
SHARE_SUFFIXES = ("_pct", "_mean", "_per_capita", "_per_household")


@dataclass
class County:
    graph: GraphClient
    http: httpx.Client
    tokens: dict[str, str]
    code: str
    towns: list[str]

    def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return self.http.get(
            f"/api/v1{path}", params=params, headers=bearer(self.tokens[who]), timeout=60
        )


def refresh(graph: GraphClient, region: str = "") -> str:
    """Run a statistics job to the end in this process; returns its id."""
    jobs = JobRepository(graph)
    runner = RegionStatsJob(jobs, RegionStatsRepository(graph), get_settings().workers)
    job = create_region_stats_job(jobs, created_by="test", region=region, villages_per_chunk=40)
    chunks: list[int] = []
    runner.plan(job.id, lambda _job, no: chunks.append(no))
    for no in chunks:
        assert runner.run_chunk(job.id, no) == "applied"
    return job.id


@pytest.fixture(scope="module")
def county(graph: GraphClient, vault: PiiVault, http: httpx.Client) -> Iterator[County]:
    wipe(graph)
    seed_graph(graph, vault, Scale.COUNTY, seed=SEED)
    code = str(graph.read_one("MATCH (r:Region {level: 'county'}) RETURN r.code AS c")["c"])  # type: ignore[index]
    RegionRepository(graph).save_rows(
        [
            r.model_dump(mode="json")
            for r in (
                Region(code="4402", name="韶关市", level=RegionLevel.CITY, parent_code="44"),
                Region(
                    code=OTHER_COUNTY, name="乙县", level=RegionLevel.COUNTY, parent_code="4402"
                ),
                Region(
                    code=OTHER_VILLAGE[:9],
                    name="乙镇",
                    level=RegionLevel.TOWN,
                    parent_code=OTHER_COUNTY,
                ),
                Region(
                    code=OTHER_VILLAGE,
                    name="乙村",
                    level=RegionLevel.VILLAGE,
                    parent_code=OTHER_VILLAGE[:9],
                ),
            )
        ]
    )
    users = UserService(graph, AuditTrail.system(AuditRepository(graph), "test"))
    towns = [
        str(r["c"])
        for r in graph.read(
            "MATCH (t:Region {level: 'town'}) WHERE t.code STARTS WITH $p "
            "RETURN t.code AS c ORDER BY c",
            p=code,
        )
    ]
    tokens = {}
    for name, role, region in (
        ("official_a", Role.OFFICIAL, code),
        ("official_b", Role.OFFICIAL, OTHER_COUNTY),
        ("field_worker", Role.FIELD_WORKER, towns[0]),
        ("admin", Role.ADMIN, None),
        ("auditor", Role.AUDITOR, None),
        ("charity", Role.CHARITY, None),
    ):
        helper = None
        if role is Role.CHARITY:
            helper = str(graph.read_one("MATCH (h:Helper {kind: 'charity'}) RETURN h.id AS i")["i"])  # type: ignore[index]
        password = "pw-analytics-" + name
        username = f"analytics-{name}-{datetime.now().strftime('%H%M%S%f')}"
        users.create(username, SecretStr(password), role, region, helper)
        response = login(http, username, password)
        assert response.status_code == 200, response.text
        tokens[name] = str(response.json()["access_token"])
    refresh(graph)
    yield County(graph=graph, http=http, tokens=tokens, code=code, towns=towns)


def sum_columns(table: dict[str, Any]) -> list[str]:
    return [
        c["key"]
        for c in table["columns"]
        if c["key"] not in ("region_code", "region_name")
        and not c["key"].endswith(SHARE_SUFFIXES)
        and isinstance(table["total"].get(c["key"]), int | float)
    ]


def test_the_seed_figures_come_back_through_the_api(county: County) -> None:
    target = CALIBRATION[Scale.COUNTY]
    response = county.get("official_a", "/analytics/headline")
    assert response.status_code == 200, response.text
    table = response.json()
    assert table["region_code"] == county.code  # an official's default region is their own
    total = table["total"]
    assert total["town_count"] == target.towns == len(county.towns)
    assert total["village_count"] == target.villages == total["villages"]
    assert total["households"] == target.households
    assert total["people"] == target.persons
    # The generator's county has no big county or town (only the province has that skew).
    assert total["big_counties"] == 0 and total["big_towns"] == 0
    for cause in ("illness", "lack_of_labour", "disability", "schooling", "lack_of_funds"):
        assert total[f"cause_{cause}_pct"] == pytest.approx(
            MAIN_CAUSE_SHARES[cause],
            abs=0.05,  # type: ignore[index]
        ), cause
    assert total["cause_other_pct"] == pytest.approx(11.2, abs=0.05)
    # The same counts from the province's point of view: one city, one county below it.
    province = county.get("admin", "/analytics/headline").json()
    assert province["region_code"] == "44"
    assert province["total"]["county_count"] == 2  # the generated one and the empty county B
    assert province["total"]["households"] == target.households


@pytest.mark.parametrize("table", FIGURE_TABLES)
def test_every_child_row_sums_to_its_parent(county: County, table: str) -> None:
    for region in ("44", county.code, county.towns[0]):
        result = county.get("admin", f"/analytics/{table}", region=region).json()
        assert result["rows_are"] == "children"
        assert result["rows"], f"{table} {region}: no child rows"
        keys = sum_columns(result)
        assert keys, table
        for key in keys:
            parent = result["total"][key]
            children = sum(row[key] or 0 for row in result["rows"])
            assert children == pytest.approx(parent), f"{table} {region} {key}"
        assert all(r["region_code"].startswith(region) for r in result["rows"])


def test_an_official_sees_their_county_and_nothing_else(county: County) -> None:
    own = county.get("official_a", "/analytics/households", region=county.code)
    assert own.status_code == 200
    assert own.json()["total"]["households"] == CALIBRATION[Scale.COUNTY].households
    drill = county.get("official_a", "/analytics/households", region=county.towns[0])
    assert drill.status_code == 200
    assert drill.json()["child_level"] == "village"
    for region in (OTHER_COUNTY, OTHER_VILLAGE, "44", county.code[:4], "999999"):
        response = county.get("official_a", "/analytics/households", region=region)
        assert response.status_code == 404, region
        assert response.json()["error"]["message_zh"]
    # County B's official sees county B (empty) and not county A, nor its export.
    assert county.get("official_b", "/analytics/households").json()["region_code"] == OTHER_COUNTY
    assert county.get("official_b", "/analytics/causes", region=county.code).status_code == 404
    export = county.get("official_b", "/analytics/causes/export", region=county.code)
    assert export.status_code == 404
    # A field worker bound to a town sees that town, not its county.
    assert county.get("field_worker", "/analytics/needs").json()["region_code"] == county.towns[0]
    assert county.get("field_worker", "/analytics/needs", region=county.code).status_code == 404
    # Auditors read the province's aggregates; helpers get no dashboards at all.
    assert county.get("auditor", "/analytics/projects").json()["region_code"] == "44"
    assert county.get("charity", "/analytics/households").status_code == 403
    assert county.get("admin", "/analytics/nonsense").status_code == 422


def test_exports_are_complete_labelled_and_neutralised(county: County) -> None:
    hostile = '=HYPERLINK("http://x","点我")'
    ProjectRepository(county.graph).save_rows(
        [
            {
                "id": "P-HOSTILE",
                "name": "测试项目",
                "type": "industry",
                "stage": "approved",
                "county_code": county.code,
                "village_code": None,
                "fund_source": hostile,
                "funds_allocated": 1000.0,
                "funds_disbursed": 0.0,
                "managing_body": "@SUM(1)",
                "operating_body": "-1+1",
                "supervising_body": "+1",
                "start_date": None,
            }
        ]
    )
    table = county.get("admin", "/analytics/project_funds", region=county.code).json()
    assert hostile in [r["fund_source"] for r in table["rows"]]

    response = county.get(
        "admin", "/analytics/project_funds/export", region=county.code, format="csv"
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["区划代码", "地区", "资金来源"]  # Chinese headers by default
    assert len(rows) == 1 + 1 + len(table["rows"])  # header, total, one per source
    sources = [r[2] for r in rows[1:]]
    assert "'" + hostile in sources and hostile not in sources

    english = county.get("admin", "/analytics/causes/export", region=county.code, lang="en")
    assert english.content.decode("utf-8-sig").splitlines()[0].startswith("Region code,Region,")

    xlsx = county.get("admin", "/analytics/project_funds/export", region=county.code, format="xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][2] == "资金来源"
    assert "'" + hostile in [r[2] for r in cells[1:]]
    assert not any(isinstance(v, str) and v.startswith("=") for r in cells for v in r)
    # Every figure of the JSON table is in the workbook, total row first.
    households = county.get("admin", "/analytics/households", region=county.code).json()
    book = county.get(
        "admin", "/analytics/households/export", region=county.code, format="xlsx"
    ).content
    got = [[c.value for c in row] for row in load_workbook(io.BytesIO(book)).active.iter_rows()]
    keys = [c["key"] for c in households["columns"]]
    expected = [[row[k] for k in keys] for row in (households["total"], *households["rows"])]
    assert got[1:] == expected


def test_every_table_says_how_fresh_it_is(county: County) -> None:
    def stamp(who: str, table: str, region: str) -> datetime:
        body = county.get(who, f"/analytics/{table}", region=region).json()
        assert body["computed_at"], f"{table} has no computed_at"
        return datetime.fromisoformat(body["computed_at"])

    before = {t: stamp("admin", t, county.code) for t in ("households", "monthly", "headline")}
    catalogue = county.get("admin", "/analytics").json()
    for entry in catalogue:
        assert stamp("admin", entry["table"], county.code)
    # Refresh one town only: the town is fresher, the county still as old as its oldest village
    # (the last town's villages were the last chunk of the full refresh: not the oldest).
    town = county.towns[-1]
    refresh(county.graph, region=town)
    assert stamp("admin", "households", town) > before["households"]
    assert stamp("admin", "households", county.code) == before["households"]
    # Refreshing again changed no figure (the roll-up adds differences, so nothing doubles).
    again = county.get("admin", "/analytics/households", region=county.code).json()
    assert again["total"]["households"] == CALIBRATION[Scale.COUNTY].households
    # A refresh of everything moves the county's stamp forward.
    refresh(county.graph)
    assert stamp("admin", "households", county.code) > before["households"]


def test_a_region_without_statistics_says_so(county: County) -> None:
    # A town and village added after the last statistics job.
    new_town, new_village = OTHER_COUNTY + "103", OTHER_COUNTY + "103001"
    RegionRepository(county.graph).save_rows(
        [
            Region(
                code=new_town, name="丙镇", level=RegionLevel.TOWN, parent_code=OTHER_COUNTY
            ).model_dump(mode="json"),
            Region(
                code=new_village, name="丙村", level=RegionLevel.VILLAGE, parent_code=new_town
            ).model_dump(mode="json"),
        ]
    )
    body = county.get("official_b", "/analytics/households", region=new_town).json()
    assert body["computed_at"] is None
    assert any("bangfu jobs stats" in n for n in body["notes"])
    english = county.get("official_b", "/analytics/households", region=new_town, lang="en")
    assert english.json()["columns"][0]["label"] == "Region code"
    assert any("statistics job" in n for n in english.json()["notes"])
    # The county's headline says how many of its villages the figures cover.
    headline = county.get("official_b", "/analytics/headline", lang="en").json()
    assert "Only 1 of 2 villages have statistics." in headline["notes"]


def test_monthly_series_add_up_to_the_needs(county: County) -> None:
    monthly = county.get("admin", "/analytics/monthly", region=county.code).json()
    needs = county.get("admin", "/analytics/needs", region=county.code).json()
    assert monthly["rows_are"] == "months"
    months = [r["month"] for r in monthly["rows"]]
    assert months == sorted(months)
    assert sum(r["needs_created"] for r in monthly["rows"]) == needs["total"]["needs"]
    assert monthly["total"]["needs_created"] == needs["total"]["needs"]


def test_a_village_is_the_bottom_of_the_drill_down(county: County) -> None:
    village = county.get("admin", "/analytics/households", region=county.towns[0]).json()
    code = village["rows"][0]["region_code"]
    for table in ("households", "projects", "causes"):
        body = county.get("official_a", f"/analytics/{table}", region=code).json()
        assert body["level"] == "village" and body["child_level"] is None
        assert body["rows"] == [], table

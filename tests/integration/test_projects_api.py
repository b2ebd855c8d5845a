"""The projects API over real HTTP against the real Neo4j: a project's whole chain, region scope
(404 outside it), who may approve, de-identified views for helpers, audit events for every change
and refusal, concurrent approvals (exactly one wins), and the live anomaly checks."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from bangfu.access import Role
from bangfu.settings import get_settings
from graph.client import GraphClient
from graph.pii import PiiVault
from graph.repositories.jobs import JobRepository
from graph.repositories.projects import ProjectRepository
from tests.integration.conftest import (
    CITY,
    COUNTY_A,
    COUNTY_B,
    VILLAGE_A,
    Login,
    MakeUser,
    bearer,
)
from tests.integration.marketplace_data import add_household
from workers.jobs import ProjectScanJob, create_project_scan_job

APPROVERS = 6
SET_STATUS = "MATCH (h:Household {id: $id}) SET h.status = $status"


@dataclass
class World:
    http: httpx.Client
    tokens: dict[str, str]
    users: dict[str, Login]
    graph: GraphClient

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = bearer(self.tokens[who])
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def ok(self, who: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(who, method, path, **kwargs)
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def world(
    auth_graph: GraphClient,
    vault: PiiVault,
    make_user: MakeUser,
    http: httpx.Client,
    token_of: Callable[[Login], str],
) -> Iterator[World]:
    add_household(auth_graph, vault, "HA", VILLAGE_A)  # monitored
    add_household(auth_graph, vault, "HA2", VILLAGE_A)
    auth_graph.write(SET_STATUS, id="HA2", status="exited")
    users = {
        "official_a": make_user(Role.OFFICIAL, region_code=COUNTY_A),
        "official_b": make_user(Role.OFFICIAL, region_code=COUNTY_B),
        "city": make_user(Role.OFFICIAL, region_code=CITY),
        "town_a": make_user(Role.OFFICIAL, region_code=VILLAGE_A[:9]),
        "field_a": make_user(Role.FIELD_WORKER, region_code=VILLAGE_A),
        "charity_a": make_user(Role.CHARITY, helper_id="C1"),  # serves county A
        "auditor": make_user(Role.AUDITOR),
        "admin": make_user(Role.ADMIN),
    }
    for i in range(APPROVERS):
        users[f"approver_{i}"] = make_user(Role.OFFICIAL, region_code=COUNTY_A)
    yield World(
        http=http,
        tokens={k: token_of(v) for k, v in users.items()},
        users=users,
        graph=auth_graph,
    )


def draft(budget: float = 200_000, region: str = VILLAGE_A) -> dict[str, Any]:
    return {
        "name": "甲村蜜柚种植基地建设项目",
        "type": "industry",
        "region_code": region,
        "budget": budget,
        "main_source": "central_finance",
        "managing_body": "甲县农业农村局",
        "operating_body": "甲村股份经济合作社",
        "supervising_body": "甲县纪委监委",
        "start_date": "2026-01-15",
    }


def test_a_project_goes_through_its_whole_chain(world: World) -> None:
    created = world.ok("field_a", "POST", "/projects", json=draft())
    pid = created["id"]
    assert (created["stage"], created["version"], created["budget"]) == ("proposed", 1, 200_000)
    assert created["fund_source"] == "中央财政资金"

    # A field worker proposes but does not approve; a town official is below the county.
    assert world.call("field_a", "POST", f"/projects/{pid}/approve", json={}).status_code == 403
    assert world.call("town_a", "POST", f"/projects/{pid}/approve", json={}).status_code == 403
    approved = world.ok(
        "official_a", "POST", f"/projects/{pid}/approve", json={"expected_version": 1}
    )
    assert (approved["stage"], approved["version"]) == ("approved", 2)
    assert approved["approved_at"] is not None

    for name, pct, planned in (("设备采购", 50, "2026-03-01"), ("验收", 100, "2026-05-01")):
        world.ok(
            "field_a",
            "POST",
            f"/projects/{pid}/milestones",
            json={"name": name, "planned_date": planned, "progress_pct": pct},
        )
    funded = world.ok(
        "official_a",
        "POST",
        f"/projects/{pid}/allocations",
        json={"source": "central_finance", "amount": 150_000},
    )
    world.ok(
        "official_a",
        "POST",
        f"/projects/{pid}/allocations",
        json={"source": "east_west", "amount": 50_000},
    )
    assert funded["funds_allocated"] == 150_000
    # More than the budget, or paying more than a source allocated: 409.
    over = world.call(
        "official_a",
        "POST",
        f"/projects/{pid}/allocations",
        json={"source": "social", "amount": 1},
    )
    assert over.status_code == 409, over.text
    too_much = world.call(
        "official_a",
        "POST",
        f"/projects/{pid}/disbursements",
        json={"source": "east_west", "amount": 50_001},
    )
    assert too_much.status_code == 409
    # Field workers record progress, not money.
    assert (
        world.call(
            "field_a",
            "POST",
            f"/projects/{pid}/disbursements",
            json={"source": "central_finance", "amount": 1},
        ).status_code
        == 403
    )
    paid = world.ok(
        "official_a",
        "POST",
        f"/projects/{pid}/disbursements",
        json={"source": "central_finance", "amount": 60_000},
    )
    assert paid["funds_disbursed"] == 60_000
    assert {f["source"]: (f["allocated"], f["disbursed"]) for f in paid["funds"]} == {
        "central_finance": (150_000, 60_000),
        "east_west": (50_000, 0),
    }

    world.ok("field_a", "POST", f"/projects/{pid}/beneficiaries", json={"household_ids": ["HA"]})
    # A household outside the project's village (or that does not exist) is not found.
    missing = world.call(
        "field_a", "POST", f"/projects/{pid}/beneficiaries", json={"household_ids": ["HB"]}
    )
    assert missing.status_code == 404

    first, second = (m["id"] for m in paid["milestones"])
    early = world.call(
        "official_a", "POST", f"/projects/{pid}/operation", json={}
    )  # not even started
    assert early.status_code == 409
    running = world.ok(
        "field_a",
        "POST",
        f"/projects/{pid}/milestones/{first}/achieve",
        json={"achieved_date": "2026-03-05"},
    )
    assert (running["stage"], running["progress_pct"]) == ("implementation", 50)
    assert running["last_milestone_at"] == "2026-03-05"
    half = world.call("official_a", "POST", f"/projects/{pid}/operation", json={})
    assert half.status_code == 409  # 50%: not built yet
    world.ok(
        "field_a",
        "POST",
        f"/projects/{pid}/milestones/{second}/achieve",
        json={"achieved_date": "2026-05-02"},
    )
    operating = world.ok("official_a", "POST", f"/projects/{pid}/operation", json={})
    assert (operating["stage"], operating["progress_pct"]) == ("operation", 100)
    effect = world.ok(
        "field_a",
        "POST",
        f"/projects/{pid}/income-effects",
        json={"household_id": "HA", "year": 2026, "amount": 3200},
    )
    assert effect["income_effects"] == [{"household_id": "HA", "year": 2026, "amount": 3200}]

    # Helpers see the project, its money and its effect, but not which households benefit.
    seen = world.ok("charity_a", "GET", f"/projects/{pid}")
    assert seen["beneficiaries"] is None and seen["income_effects"] is None
    assert seen["beneficiary_count"] == 1
    assert seen["income_by_year"] == [{"year": 2026, "households": 1, "total": 3200}]
    assert "HA" not in str(seen)
    official_view = world.ok("official_a", "GET", f"/projects/{pid}")
    assert official_view["beneficiaries"] == [
        {
            "household_id": "HA",
            "village_code": VILLAGE_A,
            "status": "monitored",
            "status_zh": "监测对象",
        }
    ]
    assert official_view["version"] == operating["version"] + 1

    # Every change is in the audit trail, in order, with who did it.
    trail = world.ok("auditor", "GET", "/audit", params={"subject_id": pid, "page_size": 100})
    actions = [e["action"] for e in reversed(trail["items"]) if e["outcome"] == "ok"]
    assert actions == [
        "project.propose",
        "project.approve",
        "project.add_milestone",
        "project.add_milestone",
        "project.allocate",
        "project.allocate",
        "project.disburse",
        "project.add_beneficiaries",
        "project.achieve_milestone",
        "project.achieve_milestone",
        "project.start_operation",
        "project.report_income",
    ]
    approve_event = next(e for e in trail["items"] if e["action"] == "project.approve")
    assert approve_event["actor_id"] == world.users["official_a"].user.id
    assert approve_event["before"]["stage"] == "proposed"
    assert approve_event["after"]["to_stage"] == "approved"
    denied = [e for e in trail["items"] if e["outcome"] == "denied"]
    assert {e["action"] for e in denied} >= {"project.approve", "project.add_beneficiaries"}


def test_out_of_region_projects_do_not_exist_for_the_caller(world: World) -> None:
    pid = world.ok("official_a", "POST", "/projects", json=draft(region=COUNTY_A))["id"]
    assert world.ok("official_a", "GET", "/projects")["total"] == 1
    assert world.ok("official_b", "GET", "/projects")["total"] == 0
    assert world.ok("city", "GET", "/projects", params={"stage": "proposed"})["total"] == 1
    assert world.ok("city", "GET", "/projects", params={"stage": "approved"})["total"] == 0
    # A county-wide project is outside a village field worker's region.
    assert world.ok("field_a", "GET", "/projects")["total"] == 0
    for who, method, path in [
        ("official_b", "GET", f"/projects/{pid}"),
        ("official_b", "POST", f"/projects/{pid}/approve"),
        ("field_a", "GET", f"/projects/{pid}"),
        ("official_a", "GET", "/projects/P-doesnotexist"),
    ]:
        response = world.call(who, method, path, json={} if method == "POST" else None)
        assert response.status_code == 404, (who, path, response.text)
    # Proposing outside one's region, or for a town, is refused.
    assert world.call("official_b", "POST", "/projects", json=draft()).status_code == 404
    assert (
        world.call("official_a", "POST", "/projects", json=draft(region=VILLAGE_A[:9])).status_code
        == 422
    )
    # Auditors read the trail, not projects; unknown fields are refused.
    assert world.call("auditor", "GET", "/projects").status_code == 403
    bad = {**draft(), "stage": "approved"}
    assert world.call("official_a", "POST", "/projects", json=bad).status_code == 422


def test_the_proposer_never_approves_and_big_budgets_go_to_the_city(world: World) -> None:
    own = world.ok("official_a", "POST", "/projects", json=draft())["id"]
    assert world.call("official_a", "POST", f"/projects/{own}/approve", json={}).status_code == 403
    big = world.ok("field_a", "POST", "/projects", json=draft(budget=6_000_000))["id"]
    refused = world.call("official_a", "POST", f"/projects/{big}/approve", json={})
    assert refused.status_code == 403
    assert "市级" in refused.json()["error"]["message_zh"]
    assert world.ok("city", "POST", f"/projects/{big}/approve", json={})["stage"] == "approved"
    rejected = world.ok(
        "approver_0", "POST", f"/projects/{own}/reject", json={"reason": "重复申报"}
    )
    assert rejected["stage"] == "rejected"
    stale = world.call(
        "approver_1", "POST", f"/projects/{own}/approve", json={"expected_version": 1}
    )
    assert stale.status_code == 409


def test_concurrent_approvals_exactly_one_wins(world: World) -> None:
    pid = world.ok("field_a", "POST", "/projects", json=draft())["id"]
    barrier = threading.Barrier(APPROVERS)

    def approve(i: int) -> int:
        barrier.wait()
        return world.call(f"approver_{i}", "POST", f"/projects/{pid}/approve", json={}).status_code

    with ThreadPoolExecutor(max_workers=APPROVERS) as pool:
        answers = Counter(pool.map(approve, range(APPROVERS)))
    assert answers == {200: 1, 409: APPROVERS - 1}
    project = world.ok("official_a", "GET", f"/projects/{pid}")
    assert (project["stage"], project["version"]) == ("approved", 2)
    trail = world.ok("auditor", "GET", "/audit", params={"subject_id": pid, "page_size": 100})
    assert [e["action"] for e in trail["items"] if e["outcome"] == "ok"].count(
        "project.approve"
    ) == 1


def test_live_anomaly_checks_flag_money_without_progress_and_ineligible_households(
    world: World,
) -> None:
    pid = world.ok("field_a", "POST", "/projects", json=draft(budget=100_000))["id"]
    world.ok("official_a", "POST", f"/projects/{pid}/approve", json={})
    world.ok(
        "official_a",
        "POST",
        f"/projects/{pid}/allocations",
        json={"source": "county_finance", "amount": 100_000},
    )
    world.ok(
        "official_a",
        "POST",
        f"/projects/{pid}/disbursements",
        json={"source": "county_finance", "amount": 45_000},
    )
    world.ok(
        "field_a", "POST", f"/projects/{pid}/beneficiaries", json={"household_ids": ["HA", "HA2"]}
    )
    found = world.ok("official_a", "GET", "/projects/anomalies")
    assert found["source"] == "live"
    by_rule = {f["rule"]: f for f in found["items"]}
    assert set(by_rule) == {"disbursed_without_progress", "ineligible_beneficiary"}
    money = by_rule["disbursed_without_progress"]
    assert money["project_id"] == pid
    assert money["evidence"]["disbursed_share"] == 0.45
    assert money["evidence"]["progress_pct"] == 0
    assert money["rule_zh"] == "资金拨付超前于项目进度"
    ineligible = by_rule["ineligible_beneficiary"]
    assert ineligible["household_id"] == "HA2"
    assert ineligible["evidence"]["household_status"] == "exited"
    # Long after the approval with no milestone: stalled, counted to the day asked.
    later = world.ok("official_a", "GET", "/projects/anomalies", params={"as_of": "2099-01-01"})
    assert "stalled" in {f["rule"] for f in later["items"]}
    assert world.ok("official_b", "GET", "/projects/anomalies")["items"] == []
    assert world.call("charity_a", "GET", "/projects/anomalies").status_code == 403

    # The scan stores the same findings per county (its chunks run inline here; the worker
    # path is tests/integration/test_project_checks.py); officials read them back by region.
    jobs = JobRepository(world.graph)
    settings = get_settings()
    runner = ProjectScanJob(
        jobs, ProjectRepository(world.graph), settings.projects, settings.workers
    )
    job = create_project_scan_job(jobs, "test", date.today())
    outcomes: list[str] = []
    runner.plan(job.id, lambda job_id, no: outcomes.append(runner.run_chunk(job_id, no)))
    # One chunk per county of the world (two), each storing its own county's findings (read
    # back below).
    assert outcomes == ["applied", "applied"]
    stored = world.ok("official_a", "GET", "/projects/anomalies", params={"stored": "true"})
    assert stored["source"] == "scan"
    assert {f["id"]: f["evidence"] for f in stored["items"]} == {
        f["id"]: f["evidence"] for f in found["items"]
    }
    assert world.ok("official_b", "GET", "/projects/anomalies", params={"stored": "true"}) == {
        "source": "scan",
        "items": [],
    }

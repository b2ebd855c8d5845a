"""Organisations over real HTTP against the real Neo4j: an admin registers one and places it, its
own login keeps its profile but cannot widen where it serves, every change is audited, and a
worker embeds the new text for matching."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bangfu.access import Role
from bangfu.settings import get_settings
from graph.client import GraphClient
from graph.models import AuditQuery
from graph.pii import PiiVault
from graph.repositories import AuditRepository
from graph.repositories.matching import MatchingRepository
from matching.service import MatchingService
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
from tests.integration.marketplace_data import add_household, add_need
from workers.celery_app import app as celery_app

NEW_CHARITY: dict[str, Any] = {
    "kind": "charity",
    "name": "甲县助学慈善会",
    "description": "资助甲县困难家庭学生，提供助学金和学习用品",
    "capabilities": ["job", "tuition"],
    "capacity": 20,
    "service_regions": [COUNTY_A],
    "home_region_code": COUNTY_A,
}
HELPER_COUNT = "MATCH (h:Helper) RETURN count(h) AS n"


@dataclass
class World:
    http: httpx.Client
    graph: GraphClient
    tokens: dict[str, str]
    token_of: Callable[[Login], str]
    make_user: MakeUser

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = bearer(self.tokens[who]) if who != "anonymous" else {}
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def world(
    auth_graph: GraphClient,
    vault: PiiVault,
    make_user: MakeUser,
    http: httpx.Client,
    token_of: Callable[[Login], str],
) -> Iterator[World]:
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    add_need(auth_graph, "NA1", "HA", VILLAGE_A)
    add_need(auth_graph, "NB1", "HB", VILLAGE_B)
    logins = {
        "admin": make_user(Role.ADMIN),
        "official_a": make_user(Role.OFFICIAL, region_code=COUNTY_A),
        "charity_a": make_user(Role.CHARITY, helper_id="C1"),  # serves county A
        "auditor": make_user(Role.AUDITOR),
    }
    yield World(
        http=http,
        graph=auth_graph,
        tokens={k: token_of(v) for k, v in logins.items()},
        token_of=token_of,
        make_user=make_user,
    )


def market_ids(world: World, token: str) -> set[str]:
    response = world.http.get("/api/v1/market/needs", headers=bearer(token))
    assert response.status_code == 200, response.text
    return {n["id"] for n in response.json()["items"]}


def events_of(world: World, subject_id: str) -> list[Any]:
    return AuditRepository(world.graph).search(AuditQuery(subject_id=subject_id), limit=50)


def test_an_admin_registers_an_organisation_whose_login_sees_its_regions_needs(
    world: World,
) -> None:
    before = world.graph.read_one(HELPER_COUNT)
    # Every refusal leaves the graph as it was.
    unknown = world.call(
        "admin", "POST", "/helpers", json={**NEW_CHARITY, "service_regions": ["449999"]}
    )
    assert unknown.status_code == 422 and "449999" in unknown.json()["error"]["message"]
    own_id = world.call("admin", "POST", "/helpers", json={**NEW_CHARITY, "id": "C9"})
    assert own_id.status_code == 422  # the id is the server's
    for who, status in (
        ("charity_a", 403),
        ("official_a", 403),
        ("auditor", 403),
        ("anonymous", 401),
    ):
        assert world.call(who, "POST", "/helpers", json=NEW_CHARITY).status_code == status, who
    assert world.graph.read_one(HELPER_COUNT) == before

    created = world.call("admin", "POST", "/helpers", json=NEW_CHARITY)
    assert created.status_code == 201, created.text
    helper = created.json()
    assert helper["id"].startswith("C-") and helper["service_regions"] == [COUNTY_A]
    assert [e.action for e in events_of(world, helper["id"])] == ["helper.create"]

    login = world.make_user(Role.CHARITY, helper_id=helper["id"])
    token = world.token_of(login)
    assert market_ids(world, token) == {"NA1"}  # county A only
    assert (
        world.http.post("/api/v1/needs/NA1/claim", headers=bearer(token)).json()["holder_id"]
        == helper["id"]
    )

    listed = world.call("admin", "GET", "/helpers", params={"kind": "charity"}).json()
    assert listed["total"] == 2 and {h["id"] for h in listed["items"]} == {"C1", helper["id"]}
    assert world.call("admin", "GET", "/helpers").json()["total"] == 6
    assert world.call("charity_a", "GET", "/helpers").status_code == 403


def test_an_organisation_keeps_its_profile_but_only_an_admin_moves_it(world: World) -> None:
    mine = world.call("charity_a", "GET", "/helpers/C1")
    assert mine.status_code == 200 and mine.json()["capacity"] == 10
    # Another organisation's profile does not exist for it.
    assert world.call("charity_a", "GET", "/helpers/W1").status_code == 404
    assert world.call("charity_a", "PATCH", "/helpers/W1", json={"capacity": 1}).status_code == 404
    assert world.call("official_a", "GET", "/helpers/C1").status_code == 403

    changed = world.call(
        "charity_a",
        "PATCH",
        "/helpers/C1",
        json={"description": "为甲县农户介绍就业岗位", "capacity": 25},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["capacity"] == 25 and changed.json()["name"] == "帮扶主体C1"
    (update,) = [e for e in events_of(world, "C1") if e.action == "helper.update"]
    assert update.before is not None and update.before["capacity"] == 10
    assert update.after is not None and update.after["capacity"] == 25

    # Widening where it serves would show it other counties' households: refused and recorded.
    wider = world.call("charity_a", "PATCH", "/helpers/C1", json={"service_regions": ["44"]})
    assert wider.status_code == 403
    assert world.call("charity_a", "GET", "/helpers/C1").json()["service_regions"] == [COUNTY_A]
    assert any(e.outcome.value == "denied" for e in events_of(world, "C1"))
    assert market_ids(world, world.tokens["charity_a"]) == {"NA1"}

    bad = world.call("admin", "PATCH", "/helpers/C1", json={"capacity": -1})
    assert bad.status_code == 422 and any(
        "capacity" in f["path"] for f in bad.json()["error"]["fields"]
    )
    moved = world.call(
        "admin", "PATCH", "/helpers/C1", json={"service_regions": [COUNTY_A, COUNTY_B]}
    )
    assert moved.status_code == 200 and moved.json()["service_regions"] == [COUNTY_A, COUNTY_B]
    # The organisation's next request already sees the wider market.
    assert market_ids(world, world.tokens["charity_a"]) == {"NA1", "NB1"}


def test_a_registered_organisation_is_embedded_by_a_worker(world: World, tmp_path: Path) -> None:
    service = MatchingService(MatchingRepository(world.graph), get_settings().matching)
    service.embed_all(refit=True)  # the encoder a worker embeds with
    celery_app.control.purge()
    worker = Worker(tmp_path)
    worker.start()
    try:
        created = world.call("admin", "POST", "/helpers", json=NEW_CHARITY)
        assert created.status_code == 201, created.text
        helper_id = created.json()["id"]
        repo = MatchingRepository(world.graph)
        deadline = time.monotonic() + 60
        while repo.helper_texts_of([helper_id])[0].model is None:
            assert time.monotonic() < deadline, "the worker did not embed the new organisation"
            time.sleep(0.5)
        assert repo.helper_texts_of([helper_id])[0].model == service.encoder().version  # type: ignore[union-attr]
        # A changed description is embedded again; an unchanged one is current.
        assert service.embed_of(helper_ids=[helper_id]) == 0
        first = repo.helper_texts_of([helper_id])[0].source
        world.call("admin", "PATCH", f"/helpers/{helper_id}", json={"description": "介绍就业岗位"})
        deadline = time.monotonic() + 60
        while repo.helper_texts_of([helper_id])[0].source == first:
            assert time.monotonic() < deadline, "the changed description was not embedded"
            time.sleep(0.5)
    finally:
        worker.stop()
        celery_app.control.purge()

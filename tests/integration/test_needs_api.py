"""The needs API over real HTTP against the real Neo4j: the lifecycle, an authorization matrix
for every endpoint and role inside and outside its region, de-identification for helpers, and
race-free claims through the whole stack."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import httpx
import pytest

from bangfu.access import Role
from bangfu.identity import make_national_id
from bangfu.vocabulary import (
    NeedCategory,
    NeedStatus,
)
from graph.client import GraphClient
from graph.pii import PiiVault
from tests.integration.conftest import (
    COUNTY_A,
    COUNTY_B,
    VILLAGE_A,
    VILLAGE_B,
    Login,
    MakeUser,
    bearer,
)
from tests.integration.marketplace_data import add_head, add_household, add_need

ID_PATTERN = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
PHONE_PATTERN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
NID_A = make_national_id("440223", date(1980, 5, 17), 102)


@dataclass
class World:
    http: httpx.Client
    tokens: dict[str, str]
    graph: GraphClient

    def call(self, who: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        if who != "anonymous":
            headers.update(bearer(self.tokens[who]))
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)  # type: ignore[arg-type]


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
    add_head(auth_graph, vault, "HA", NID_A)
    logins = {
        "official_a": make_user(Role.OFFICIAL, region_code=COUNTY_A),
        "official_b": make_user(Role.OFFICIAL, region_code=COUNTY_B),
        "field_a": make_user(Role.FIELD_WORKER, region_code=VILLAGE_A),
        "field_b": make_user(Role.FIELD_WORKER, region_code=VILLAGE_B),
        "charity_a": make_user(Role.CHARITY, helper_id="C1"),  # serves county A
        "womens": make_user(Role.WOMENS_FEDERATION, helper_id="W1"),  # the province
        "disabled": make_user(Role.DISABLED_FEDERATION, helper_id="D1"),  # the city
        "unit_a": make_user(Role.HELPER_UNIT, helper_id="U1"),  # village A
        "enterprise_b": make_user(Role.HELPER_UNIT, helper_id="E1"),  # county B
        "auditor": make_user(Role.AUDITOR),
        "admin": make_user(Role.ADMIN),
    }
    yield World(http=http, tokens={k: token_of(v) for k, v in logins.items()}, graph=auth_graph)


def status_of(world: World, who: str, method: str, path: str, **kw: object) -> int:
    return world.call(who, method, path, **kw).status_code


def test_a_need_goes_through_its_whole_life(world: World) -> None:
    created = world.call(
        "field_a",
        "POST",
        "/households/HA/needs",
        json={
            "category": "job",
            "title": "需要就业岗位",
            "text": "户主失业，希望在县城找到工作",
            "urgency": "high",
        },
    )
    assert created.status_code == 201, created.text
    need_id = created.json()["id"]
    assert created.json()["status"] == "pending_review"
    # Not visible to helpers before an official verified it.
    market = world.call("charity_a", "GET", "/market/needs").json()
    assert need_id not in {n["id"] for n in market["items"]}
    assert world.call("charity_a", "POST", f"/needs/{need_id}/claim").status_code == 409

    assert world.call("official_a", "POST", f"/needs/{need_id}/verify").json()["status"] == "open"
    market = world.call("charity_a", "GET", "/market/needs", params={"category": "job"}).json()
    assert need_id in {n["id"] for n in market["items"]}

    claimed = world.call("charity_a", "POST", f"/needs/{need_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["holder_id"] == "C1"
    taken = world.call("womens", "POST", f"/needs/{need_id}/claim")
    assert taken.status_code == 409
    assert (
        taken.json()["error"]["code"] == "already_claimed"
        and "C1" in taken.json()["error"]["message"]
    )

    assert (
        world.call(
            "charity_a", "POST", f"/needs/{need_id}/start", json={"note": "已联系企业"}
        ).json()["status"]
        == "in_progress"
    )
    upload = world.call(
        "charity_a",
        "POST",
        "/evidence",
        files={"file": ("offer.pdf", b"%PDF-1.4 offer letter", "application/pdf")},
    )
    assert upload.status_code == 201, upload.text
    fulfilled = world.call(
        "charity_a",
        "POST",
        f"/needs/{need_id}/fulfil",
        json={
            "note": "已上岗",
            "evidence_id": upload.json()["evidence_id"],
        },
    )
    assert fulfilled.json()["status"] == "fulfilled"
    assert (
        world.call("field_a", "POST", f"/needs/{need_id}/confirm").json()["status"] == "confirmed"
    )
    assert world.call("field_a", "POST", f"/needs/{need_id}/close").json()["status"] == "closed"

    again = world.call("charity_a", "POST", f"/needs/{need_id}/claim")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    detail = world.call("official_a", "GET", f"/needs/{need_id}").json()
    assert [e["action"] for e in detail["history"]] == [
        "verify",
        "claim",
        "start",
        "fulfil",
        "confirm",
        "close",
    ]
    ledger = world.call("official_a", "GET", "/households/HA/ledger").json()
    assert any(i["ref"] == need_id and i["helper_id"] == "C1" for i in ledger["items"])


def test_invalid_transitions_answer_409_with_the_allowed_next_steps(world: World) -> None:
    add_need(world.graph, "N-open", "HA", VILLAGE_A)
    response = world.call("field_a", "POST", "/needs/N-open/confirm")
    assert response.status_code == 409
    body = response.json()["error"]
    assert body["code"] == "invalid_transition"
    assert "claim" in body["message"] and "cancel" in body["message"]


def test_release_transfer_and_cancel(world: World) -> None:
    add_need(world.graph, "N-t", "HA", VILLAGE_A)
    world.call("charity_a", "POST", "/needs/N-t/claim")
    request = world.call("womens", "POST", "/needs/N-t/transfers")
    assert request.status_code == 201, request.text
    transfer_id = request.json()["transfer_id"]
    assert (
        world.call("womens", "POST", f"/needs/N-t/transfers/{transfer_id}/approve").status_code
        == 403
    )  # only the holder answers
    approved = world.call("charity_a", "POST", f"/needs/N-t/transfers/{transfer_id}/approve")
    assert approved.json()["holder_id"] == "W1"
    assert world.call("womens", "POST", "/needs/N-t/release", json={}).status_code == 422
    released = world.call("womens", "POST", "/needs/N-t/release", json={"reason": "人手不足"})
    assert released.json()["status"] == "open" and released.json()["holder_id"] is None
    cancelled = world.call("field_a", "POST", "/needs/N-t/cancel", json={"reason": "已由政府解决"})
    assert cancelled.json()["status"] == "cancelled"


def test_transfer_requests_are_listed_for_the_holder_the_asker_and_officials(
    world: World,
) -> None:
    add_need(world.graph, "N-tl", "HA", VILLAGE_A)
    world.call("charity_a", "POST", "/needs/N-tl/claim")
    asked = world.call("womens", "POST", "/needs/N-tl/transfers").json()["transfer_id"]

    def listed(who: str) -> list[dict[str, object]]:
        response = world.call(who, "GET", "/needs/N-tl/transfers")
        assert response.status_code == 200, (who, response.text)
        return list(response.json())

    for who in ("charity_a", "womens", "official_a", "admin"):
        (request,) = listed(who)
        assert request["id"] == asked and request["status"] == "pending", who
        assert request["from_helper_id"] == "C1" and request["to_helper_id"] == "W1"
        assert request["to_helper_name"] and request["resolved_at"] is None
    # A helper that neither holds the need nor asked for it sees no other helper's interest.
    assert listed("disabled") == []
    # Outside the caller's region (or the helper's service regions) the need does not exist.
    assert world.call("official_b", "GET", "/needs/N-tl/transfers").status_code == 404
    assert world.call("enterprise_b", "GET", "/needs/N-tl/transfers").status_code == 404

    declined = world.call("charity_a", "POST", f"/needs/N-tl/transfers/{asked}/decline")
    assert declined.status_code == 200 and declined.json()["holder_id"] == "C1"
    (answered,) = listed("womens")
    assert answered["status"] == "declined" and answered["resolved_at"] is not None
    again = world.call("womens", "POST", "/needs/N-tl/transfers").json()["transfer_id"]
    assert [t["id"] for t in listed("charity_a")] == [again, asked]  # newest first


def test_request_models_refuse_server_owned_fields(world: World) -> None:
    response = world.call(
        "field_a",
        "POST",
        "/households/HA/needs",
        json={
            "category": "job",
            "title": "需要就业",
            "text": "希望找到工作",
            "status": "open",
        },
    )
    assert response.status_code == 422
    assert any("status" in f["path"] for f in response.json()["error"]["fields"])
    listing = world.call("official_a", "GET", "/needs").json()
    assert listing["total"] == 0, "nothing may be written by a refused request"


def test_idempotent_claim_retry_over_http(world: World) -> None:
    add_need(world.graph, "N-i", "HA", VILLAGE_A)
    first = world.call("charity_a", "POST", "/needs/N-i/claim", headers={"Idempotency-Key": "k1"})
    again = world.call("charity_a", "POST", "/needs/N-i/claim", headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    count = world.graph.read_one(
        "MATCH (:Helper)-[c:CLAIMED]->(:Need {id: 'N-i'}) RETURN count(c) AS n"
    )
    assert count == {"n": 1}


# role -> expected status for each endpoint, inside (A) and outside (B) the caller's region.
# Helpers: C1 serves county A, U1 village A, E1 county B, W1 the province, D1 the city.
MATRIX: list[tuple[str, str, Callable[[str], str], dict[str, int]]] = [
    (
        "GET",
        "market browse",
        lambda n: "/market/needs",
        {
            "official_a": 200,
            "field_a": 200,
            "charity_a": 200,
            "womens": 200,
            "disabled": 200,
            "unit_a": 200,
            "enterprise_b": 200,
            "auditor": 403,
            "admin": 200,
            "anonymous": 401,
        },
    ),
    (
        "GET",
        "market need",
        lambda n: f"/market/needs/{n}",
        {
            "official_a": 200,
            "official_b": 404,
            "field_a": 200,
            "field_b": 404,
            "charity_a": 200,
            "womens": 200,
            "disabled": 200,
            "unit_a": 200,
            "enterprise_b": 404,
            "auditor": 403,
            "admin": 200,
            "anonymous": 401,
        },
    ),
    (
        "GET",
        "need record",
        lambda n: f"/needs/{n}",
        {
            "official_a": 200,
            "official_b": 404,
            "field_a": 200,
            "field_b": 404,
            "charity_a": 403,
            "womens": 403,
            "unit_a": 403,
            "auditor": 403,
            "admin": 200,
            "anonymous": 401,
        },
    ),
    (
        "GET",
        "households",
        lambda n: "/households/HA",
        {
            "official_a": 200,
            "official_b": 404,
            "field_a": 200,
            "field_b": 404,
            "charity_a": 403,
            "unit_a": 403,
            "auditor": 403,
            "admin": 200,
            "anonymous": 401,
        },
    ),
    (
        "GET",
        "ledger",
        lambda n: "/households/HA/ledger",
        {
            "official_a": 200,
            "official_b": 404,
            "field_a": 200,
            "charity_a": 403,
            "auditor": 403,
        },
    ),
    (
        "POST",
        "reveal",
        lambda n: "/households/HA/members/HA-01/reveal",
        {
            "official_a": 200,
            "official_b": 404,
            "field_a": 200,
            "field_b": 404,
            "charity_a": 403,
            "auditor": 403,
            "admin": 403,
        },
    ),
    (
        "GET",
        "transfer requests",
        lambda n: f"/needs/{n}/transfers",
        {
            "official_a": 200,
            "official_b": 404,
            "field_a": 200,
            "field_b": 404,
            "charity_a": 200,
            "unit_a": 200,
            "enterprise_b": 404,
            "auditor": 403,
            "admin": 200,
            "anonymous": 401,
        },
    ),
    (
        "POST",
        "claim",
        lambda n: f"/needs/{n}/claim",
        {
            "charity_a": 200,
            "womens": 200,
            "disabled": 200,
            "unit_a": 200,
            "enterprise_b": 404,
            "official_a": 403,
            "field_a": 403,
            "auditor": 403,
            "admin": 403,
            "anonymous": 401,
        },
    ),
    (
        "POST",
        "verify",
        lambda n: f"/needs/{n}/verify",
        {
            "official_a": 409,
            "official_b": 404,
            "field_a": 403,
            "charity_a": 403,
            "admin": 403,
        },
    ),
    (
        "POST",
        "cancel",
        lambda n: f"/needs/{n}/cancel",
        {
            "official_a": 200,
            "official_b": 404,
            "field_a": 200,
            "field_b": 404,
            "charity_a": 403,
        },
    ),
    (
        "GET",
        "audit",
        lambda n: "/audit",
        {
            "auditor": 200,
            "admin": 200,
            "official_a": 403,
            "field_a": 403,
            "charity_a": 403,
        },
    ),
]


def test_authorization_matrix(world: World) -> None:
    failures = []
    counter = 0
    for method, name, path_of, expected in MATRIX:
        for who, want in expected.items():
            counter += 1
            need_id = f"N-m{counter}"  # a fresh open need for every call: calls change state
            add_need(world.graph, need_id, "HA", VILLAGE_A)
            kwargs: dict[str, object] = {}
            if name in ("cancel", "reveal"):
                kwargs["json"] = {"reason": "测试原因"}
            got = status_of(world, who, method, path_of(need_id), **kwargs)
            if got != want:
                failures.append(f"{name} as {who}: expected {want}, got {got}")
    assert not failures, "\n".join(failures)


def test_helpers_never_receive_identifiers(world: World) -> None:
    # A field worker typed a phone and an ID number into the text; helpers must not get them.
    created = world.call(
        "field_a",
        "POST",
        "/households/HA/needs",
        json={
            "category": "medical_aid",
            "title": "医疗救助",
            "amount": 3000,
            "text": f"透析费用，联系电话13912345678，身份证{NID_A}",
        },
    ).json()
    world.call("official_a", "POST", f"/needs/{created['id']}/verify")
    add_need(world.graph, "N-p", "HA", VILLAGE_A, category=NeedCategory.TUITION, amount=2000)
    bodies: list[str] = []
    for who in ("charity_a", "womens", "disabled", "unit_a", "enterprise_b"):
        bodies.append(world.call(who, "GET", "/market/needs").text)
        bodies.append(world.call(who, "GET", f"/market/needs/{created['id']}").text)
        bodies.append(world.call(who, "POST", "/needs/N-p/pledges", json={"amount": 100}).text)
        bodies.append(world.call(who, "GET", "/market/claims").text)
        bodies.append(world.call(who, "GET", "/households/HA").text)
        bodies.append(
            world.call(
                who, "POST", "/households/HA/members/HA-01/reveal", json={"reason": "核实身份"}
            ).text
        )
    for body in bodies:
        assert not ID_PATTERN.search(body), body
        assert not PHONE_PATTERN.search(body), body
        assert "HA-01" not in body and "李小红" not in body and '"household_id"' not in body
    # Officials see masks; the reveal shows the number and is audited.
    detail = world.call("official_a", "GET", "/households/HA").json()
    assert detail["members"][0]["national_id_masked"] == NID_A[:6] + "********" + NID_A[-4:]
    assert NID_A not in world.call("official_a", "GET", "/households/HA").text
    reveal = "/households/HA/members/HA-01/reveal"
    # A reveal states why; without a reason nothing is shown and nothing recorded.
    unexplained = world.call("official_a", "POST", reveal)
    assert unexplained.status_code == 422 and NID_A not in unexplained.text
    assert world.call("official_a", "POST", reveal, json={"reason": "x"}).status_code == 422
    events = world.call("auditor", "GET", "/audit", params={"subject_id": "HA-01"}).json()
    assert not [e for e in events["items"] if e["action"] == "person.reveal_pii"]
    why = f"办理医疗救助，核对 {NID_A}"  # an ID typed into the reason stays out of the trail
    revealed = world.call("official_a", "POST", reveal, json={"reason": why}).json()
    assert revealed["national_id"] == NID_A
    events = world.call("auditor", "GET", "/audit", params={"subject_id": "HA-01"}).json()
    (recorded,) = [e for e in events["items"] if e["action"] == "person.reveal_pii"]
    assert recorded["reason"] == "办理医疗救助，核对 ***"


def test_two_hundred_concurrent_http_claims_one_winner(
    world: World, make_user: MakeUser, token_of: Callable[[Login], str]
) -> None:
    tokens = [
        world.tokens["charity_a"],
        world.tokens["womens"],
        world.tokens["disabled"],
        world.tokens["unit_a"],
    ]
    for round_no in range(4):
        need_id = f"N-h{round_no}"
        add_need(world.graph, need_id, "HA", VILLAGE_A)
        barrier = threading.Barrier(200)

        def claim(i: int, need_id: str = need_id, barrier: threading.Barrier = barrier) -> int:
            barrier.wait()
            with httpx.Client(base_url=str(world.http.base_url), timeout=60) as client:
                return client.post(
                    f"/api/v1/needs/{need_id}/claim", headers=bearer(tokens[i % len(tokens)])
                ).status_code

        with ThreadPoolExecutor(max_workers=200) as pool:
            tally = Counter(pool.map(claim, range(200)))
        assert tally == Counter({200: 1, 409: 199}), f"round {round_no}: {tally}"
        claims = world.graph.read_one(
            "MATCH (:Helper)-[c:CLAIMED]->(:Need {id: $id}) RETURN count(c) AS n", id=need_id
        )
        assert claims == {"n": 1}
        assert (
            NeedStatus.CLAIMED.value
            == world.call("official_a", "GET", f"/needs/{need_id}").json()["need"]["status"]
        )

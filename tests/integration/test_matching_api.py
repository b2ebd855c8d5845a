"""Matching over real HTTP against the real Neo4j: explained matches, de-identified
recommendations, assignment proposals and screening, each inside its caller's scope."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from bangfu.access import Principal, Role
from bangfu.settings import get_settings
from bangfu.vocabulary import NeedCategory, NeedStatus, Urgency
from graph.client import GraphClient
from graph.models import Need
from graph.pii import PiiVault
from graph.repositories import AuditRepository, NeedRepository, PairingRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.matching import MatchingRepository
from matching.learning import label
from matching.needs import Caller
from matching.ranking import FACTORS
from matching.service import MatchingService, RegionTooLargeError
from tests.integration.celery_worker import Worker, wait_for_job
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
from workers.shown import KEY as SHOWN_KEY
from workers.shown import shown_buffer
from workers.tasks import resend_jobs

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
JOB_TEXT = "户主今年45岁，之前的工作因工厂停产中断，希望在县城找到保洁工作，月收入3000元左右。"


def need(
    need_id: str,
    household: str,
    village: str,
    category: NeedCategory = NeedCategory.JOB,
    text: str = JOB_TEXT,
    amount: float = 0,
    status: NeedStatus = NeedStatus.OPEN,
    urgency: Urgency = Urgency.HIGH,
) -> Need:
    return Need(
        id=need_id,
        household_id=household,
        village_code=village,
        category=category,
        kind=category.kind,
        title="就业岗位对接",
        text=text,
        amount=amount,
        urgency=urgency,
        status=status,
        created_at=date(2026, 3, 1),
    )


@dataclass
class World:
    http: httpx.Client
    tokens: dict[str, str]
    graph: GraphClient
    service: MatchingService

    def call(self, who: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = bearer(self.tokens[who]) if who != "anonymous" else {}
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def world(
    auth_graph: GraphClient,
    vault: PiiVault,
    make_user: MakeUser,
    http: httpx.Client,
    token_of: Callable[[Login], str],
) -> Iterator[World]:
    """Households HA, HA2 (village A, HA paired with unit U1) and HB (village B); open job needs
    in both villages, a pending near-copy of HA's need, a care need of HA and an implausible
    micro-credit request. Helpers (conftest): C1 county A, W1 province, D1 city, U1 village A,
    E1 county B, all offering jobs."""
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_household(auth_graph, vault, "HA2", VILLAGE_A)
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    PairingRepository(auth_graph).pair_helper("U1", "HA")
    needs = NeedRepository(auth_graph)
    for n in (
        need("NA1", "HA", VILLAGE_A),
        need(
            "NA2",
            "HA",
            VILLAGE_A,
            text=JOB_TEXT.replace("保洁", "保洁或保安"),
            status=NeedStatus.PENDING_REVIEW,
        ),
        need("NA3", "HA", VILLAGE_A, NeedCategory.CARE, "78岁留守老人，行动不便，需要上门照料。"),
        need(
            "NA4",
            "HA2",
            VILLAGE_A,
            NeedCategory.MICRO_CREDIT,
            "计划养殖生猪，申请扶贫小额信贷8万元。",
            amount=80_000,
            status=NeedStatus.PENDING_REVIEW,
        ),
        need("NB1", "HB", VILLAGE_B, text=JOB_TEXT + "联系电话13912345678"),
    ):
        needs.save(n)
    service = MatchingService(MatchingRepository(auth_graph), get_settings().matching)
    service.refresh_history()
    stats = service.embed_all(refit=True)
    assert stats.needs_seen == 5 and stats.helpers_embedded == 5
    logins = {
        "official_a": make_user(Role.OFFICIAL, region_code=COUNTY_A),
        "official_b": make_user(Role.OFFICIAL, region_code=COUNTY_B),
        "field_a": make_user(Role.FIELD_WORKER, region_code=VILLAGE_A),
        "charity_a": make_user(Role.CHARITY, helper_id="C1"),
        "unit_a": make_user(Role.HELPER_UNIT, helper_id="U1"),
        "auditor": make_user(Role.AUDITOR),
        "admin": make_user(Role.ADMIN),
    }
    yield World(
        http=http,
        tokens={k: token_of(v) for k, v in logins.items()},
        graph=auth_graph,
        service=service,
    )


def test_matches_rank_helpers_and_explain_every_score(world: World) -> None:
    response = world.call("official_a", "GET", "/needs/NA1/matches")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["need_id"] == "NA1" and body["text_model"].startswith("tfidf-")
    ranked = [item["helper_id"] for item in body["items"]]
    # The village's paired unit first; the county B enterprise is no candidate.
    assert ranked[0] == "U1"
    assert set(ranked) == {"U1", "C1", "W1", "D1"}
    assert body["candidates"] == 4 and body["excluded_full"] == 0
    for item in body["items"]:
        assert len(item["factors"]) == 9
        assert sum(f["contribution"] for f in item["factors"]) == pytest.approx(
            item["score"], abs=1e-2
        )
        assert all(f["label_zh"] and f["label_en"] for f in item["factors"])
    top = {f["factor"]: f["value"] for f in body["items"][0]["factors"]}
    assert top["pairing"] == 1.0 and top["proximity"] == 1.0
    assert body["items"][0]["paired"] is True

    # A care need: nobody offers care, the paired unit is still a candidate (category fit 0).
    care = world.call("field_a", "GET", "/needs/NA3/matches").json()
    assert [i["helper_id"] for i in care["items"]] == ["U1"]
    fit = {f["factor"]: f["value"] for f in care["items"][0]["factors"]}
    assert fit["category_fit"] == 0.0

    assert world.call("admin", "GET", "/needs/NB1/matches").status_code == 200
    assert world.call("official_b", "GET", "/needs/NA1/matches").status_code == 404
    assert world.call("charity_a", "GET", "/needs/NA1/matches").status_code == 403
    assert world.call("auditor", "GET", "/needs/NA1/matches").status_code == 403
    assert world.call("anonymous", "GET", "/needs/NA1/matches").status_code == 401
    pending = world.call("official_a", "GET", "/needs/NA2/matches")
    assert pending.status_code == 409 and pending.json()["error"]["code"] == "need_not_open"
    assert world.call("official_a", "GET", "/needs/NOPE/matches").status_code == 404
    assert world.call("official_a", "GET", "/needs/bad%20id/matches").status_code == 422
    assert world.call("official_a", "GET", "/needs/NA1/matches?limit=0").status_code == 422


def test_a_need_without_an_embedding_gets_one_once(world: World) -> None:
    NeedRepository(world.graph).save(need("NA5", "HA2", VILLAGE_A))
    repo = MatchingRepository(world.graph)
    assert repo.need("NA5", [""]).embedding is None
    assert world.call("official_a", "GET", "/needs/NA5/matches").status_code == 200
    stored = repo.need("NA5", [""])
    assert stored.embedding is not None and stored.embedding_model is not None
    # The batch finds nothing left to do, until a text changes.
    assert world.service.embed_all().needs_embedded == 0
    NeedRepository(world.graph).save(need("NA5", "HA2", VILLAGE_A, text="希望找到电商客服工作"))
    assert world.service.embed_all().needs_embedded == 1


def test_a_need_created_through_the_api_is_embedded_by_a_worker(
    world: World, tmp_path: Path
) -> None:
    celery_app.control.purge()
    worker = Worker(tmp_path)
    worker.start()
    try:
        created = world.call(
            "field_a",
            "POST",
            "/households/HA2/needs",
            json={"category": "job", "title": "需要就业岗位", "text": "希望在镇上找到保洁工作"},
        )
        assert created.status_code == 201, created.text
        need_id = created.json()["id"]
        repo = MatchingRepository(world.graph)
        deadline = time.monotonic() + 60
        while repo.need(need_id, [""]).embedding is None and time.monotonic() < deadline:
            time.sleep(0.5)
        stored = repo.need(need_id, [""])
        assert stored.embedding is not None, "the worker did not embed the new need"
        assert stored.embedding_model == world.service.encoder().version  # type: ignore[union-attr]
        # Embedded once: the batch finds it current.
        assert world.service.embed_of(need_ids=[need_id]) == 0
    finally:
        worker.stop()
        celery_app.control.purge()


def test_recommendations_are_for_the_helper_itself_and_de_identified(world: World) -> None:
    response = world.call("unit_a", "GET", "/helpers/U1/recommendations")
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [item["id"] for item in body["items"]]
    # Open needs of village A: the job need, and the paired household's care need.
    assert set(ids) == {"NA1", "NA3"} and ids[0] == "NA1"
    assert all(item["paired"] for item in body["items"])
    for item in body["items"]:
        assert "household_id" not in item and len(item["factors"]) == 9
    assert body["remaining_capacity"] == 10

    # The county B enterprise's view through an admin shows NB1 with the phone blanked.
    admin = world.call("admin", "GET", "/helpers/E1/recommendations").json()
    assert [i["id"] for i in admin["items"]] == ["NB1"]
    assert not PHONE.search(admin["items"][0]["text"])

    # Officials see what a helper is shown inside their own region only.
    province_wide = world.call("official_a", "GET", "/helpers/W1/recommendations").json()
    assert {i["id"] for i in province_wide["items"]} == {"NA1"}
    # The province-wide federation through an admin: the whole province, most urgent first.
    everywhere = world.call("admin", "GET", "/helpers/W1/recommendations").json()
    assert {i["id"] for i in everywhere["items"]} == {"NA1", "NB1"}
    assert world.call("official_b", "GET", "/helpers/U1/recommendations").status_code == 404
    assert world.call("charity_a", "GET", "/helpers/U1/recommendations").status_code == 404
    assert world.call("charity_a", "GET", "/helpers/C1/recommendations").status_code == 200
    assert world.call("auditor", "GET", "/helpers/C1/recommendations").status_code == 403
    assert world.call("admin", "GET", "/helpers/NOPE/recommendations").status_code == 404


def test_capacity_counts_held_claims_until_the_history_snapshot(world: World) -> None:
    def remaining() -> int:
        body = world.call("charity_a", "GET", "/helpers/C1/recommendations").json()
        return int(body["remaining_capacity"])

    needs = NeedRepository(world.graph)
    held = need("NA6", "HA2", VILLAGE_A, status=NeedStatus.CLAIMED)
    needs.save(held.model_copy(update={"claimed_by": "C1"}))
    assert remaining() == 9
    # Fulfilled since the last snapshot: still counted (errs on the full side) until the refresh.
    done = held.model_copy(update={"claimed_by": "C1", "status": NeedStatus.FULFILLED})
    needs.save(done)
    assert remaining() == 9
    world.service.refresh_history()
    assert remaining() == 10


def test_an_assignment_proposal_claims_nothing(world: World) -> None:
    created = world.call("official_a", "POST", "/assignments", json={"region_code": COUNTY_A})
    assert created.status_code == 201, created.text
    proposal = created.json()
    assert proposal["status"] == "proposed" and proposal["region_code"] == COUNTY_A
    summary = proposal["summary"]
    assert summary["capacity_violations"] == 0
    assert summary["needs"] == 2 and summary["assigned"] == 2  # NA1 and NA3 (via pairing)
    assignment = {i["need_id"]: i["helper_id"] for i in proposal["items"]}
    assert assignment == {"NA1": "U1", "NA3": "U1"}

    assert proposal["items_total"] == 2 and proposal["page"] == 1
    fetched = world.call("official_a", "GET", f"/assignments/{proposal['id']}")
    assert fetched.status_code == 200 and fetched.json()["items"] == proposal["items"]
    second = world.call("official_a", "GET", f"/assignments/{proposal['id']}?page=2&page_size=1")
    assert second.json()["items"] == proposal["items"][1:] and second.json()["items_total"] == 2
    assert world.call("official_b", "GET", f"/assignments/{proposal['id']}").status_code == 404
    # Nothing was claimed: the needs are still open.
    need_view = world.call("official_a", "GET", "/needs/NA1").json()
    assert need_view["need"]["status"] == "open" and need_view["need"]["holder_id"] is None

    assert (
        world.call("official_b", "POST", "/assignments", json={"region_code": COUNTY_A})
    ).status_code == 404
    assert (
        world.call("field_a", "POST", "/assignments", json={"region_code": VILLAGE_A})
    ).status_code == 403
    assert (
        world.call("admin", "POST", "/assignments", json={"region_code": "440299"})
    ).status_code == 404
    assert (
        world.call("official_a", "POST", "/assignments", json={"region_code": "4x"})
    ).status_code == 422
    assert (
        world.call(
            "official_a", "POST", "/assignments", json={"region_code": COUNTY_A, "status": "x"}
        )
    ).status_code == 422

    official = Principal(user_id="o", username="o", role=Role.OFFICIAL, region_code=COUNTY_A)
    caller = Caller(principal=official, prefixes=(COUNTY_A,))
    with pytest.raises(RegionTooLargeError):
        world.service.propose_assignment(caller, COUNTY_A, max_needs=1)
    assert datetime.fromisoformat(proposal["created_at"]) <= datetime.now(UTC)


def test_proposals_are_listed_newest_first_within_the_callers_scope(world: World) -> None:
    made: list[str] = []
    for who, region in (
        ("official_a", COUNTY_A),
        ("official_b", COUNTY_B),
        ("official_a", VILLAGE_A),
        ("admin", COUNTY_B),
    ):
        created = world.call(who, "POST", "/assignments", json={"region_code": region})
        assert created.status_code == 201, created.text
        made.append(created.json()["id"])
    county_a, county_b, village_a, admin_b = made

    listed = world.call("official_a", "GET", "/assignments")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [p["id"] for p in body["items"]] == [village_a, county_a] and body["total"] == 2
    first = body["items"][1]
    assert first["region_code"] == COUNTY_A and first["status"] == "proposed"
    assert first["created_by"] and first["summary"]["assigned"] == 2
    assert first["accepted_by"] is None and first["claimed"] is None
    assert "items" not in first
    assert [p["id"] for p in world.call("official_b", "GET", "/assignments").json()["items"]] == [
        admin_b,
        county_b,
    ]
    everything = world.call("admin", "GET", "/assignments", params={"page_size": 2, "page": 2})
    assert everything.json()["total"] == 4
    assert [p["id"] for p in everything.json()["items"]] == [county_b, county_a]
    # The detail carries the region's name and how many helpers its items use.
    detail = world.call("official_a", "GET", f"/assignments/{county_a}").json()
    assert detail["region_name"] and detail["helpers_used"] == 1
    assert {i["outcome"] for i in detail["items"]} == {None}
    for who in ("field_a", "charity_a", "auditor"):
        assert world.call(who, "GET", "/assignments").status_code == 403
    assert world.call("anonymous", "GET", "/assignments").status_code == 401
    assert world.call("official_a", "GET", "/assignments?page=0").status_code == 422


def test_a_region_too_big_for_a_request_is_proposed_by_a_worker(
    world: World, tmp_path: Path
) -> None:
    def send(proposal_id: str) -> None:
        celery_app.send_task("bangfu.matching.propose", args=[proposal_id])

    service = MatchingService(
        MatchingRepository(world.graph),
        get_settings().matching,
        AuditRepository(world.graph),
        on_proposal_queued=send,
    )
    official = Principal(user_id="o", username="o", role=Role.OFFICIAL, region_code=COUNTY_A)
    caller = Caller(principal=official, prefixes=(COUNTY_A,))
    celery_app.control.purge()
    queued = service.propose_assignment(caller, COUNTY_A, max_needs=1)  # 2 open needs > 1
    assert queued.status == "computing" and queued.summary is None and queued.items_total == 0
    early = world.call("official_a", "GET", f"/assignments/{queued.id}")
    assert early.status_code == 200 and early.json()["status"] == "computing"
    # Not acceptable until computed.
    assert world.call("official_a", "POST", f"/assignments/{queued.id}/accept").status_code == 409

    worker = Worker(tmp_path)
    worker.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            body = world.call("official_a", "GET", f"/assignments/{queued.id}").json()
            if body["status"] != "computing":
                break
            time.sleep(0.5)
    finally:
        worker.stop()
        celery_app.control.purge()
    assert body["status"] == "proposed", body
    assert body["summary"]["capacity_violations"] == 0 and body["summary"]["needs"] == 2
    assert {i["need_id"]: i["helper_id"] for i in body["items"]} == {"NA1": "U1", "NA3": "U1"}
    # Computing it again (a redelivered task) changes nothing.
    assert service.compute_queued_proposal(queued.id) == "proposed"
    assert world.call("official_a", "GET", f"/assignments/{queued.id}").json()["items_total"] == 2


def queued_proposal(world: World) -> tuple[MatchingService, str]:
    """A proposal stored as 'computing' whose message never reached a worker."""
    lost: list[str] = []
    service = MatchingService(
        MatchingRepository(world.graph),
        get_settings().matching,
        AuditRepository(world.graph),
        on_proposal_queued=lost.append,
    )
    official = Principal(user_id="o", username="o", role=Role.OFFICIAL, region_code=COUNTY_A)
    queued = service.propose_assignment(
        Caller(principal=official, prefixes=(COUNTY_A,)), COUNTY_A, max_needs=1
    )
    assert queued.status == "computing" and lost == [queued.id]
    return service, queued.id


def test_a_queued_proposal_whose_message_was_lost_is_computed_after_the_sweep(
    world: World, tmp_path: Path
) -> None:
    _, proposal_id = queued_proposal(world)
    celery_app.control.purge()
    # Just queued: the sweep with its default age (15 min) leaves it alone.
    assert proposal_id not in resend_jobs.run()
    worker = Worker(tmp_path)
    worker.start()
    try:
        celery_app.send_task("bangfu.jobs.resend", kwargs={"older_than_s": 0})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            body = world.call("official_a", "GET", f"/assignments/{proposal_id}").json()
            if body["status"] != "computing":
                break
            time.sleep(0.5)
    finally:
        worker.stop()
        celery_app.control.purge()
    assert body["status"] == "proposed", body
    assert {i["need_id"]: i["helper_id"] for i in body["items"]} == {"NA1": "U1", "NA3": "U1"}
    assert proposal_id not in resend_jobs.run(older_than_s=0)  # no longer 'computing'


def test_of_two_attempts_at_a_proposal_only_the_later_one_writes(world: World) -> None:
    service, proposal_id = queued_proposal(world)
    repo = MatchingRepository(world.graph)
    first = repo.begin_proposal_attempt(proposal_id)
    second = repo.begin_proposal_attempt(proposal_id)  # a resent task, the first still running
    assert first is not None and second is not None and first != second
    summary, items = service.compute_assignment(COUNTY_A, 3, 0.0)
    assert len(items) == 2

    assert repo.save_proposal_items(proposal_id, summary.model_dump(), items, first) is False
    after_first = world.call("official_a", "GET", f"/assignments/{proposal_id}").json()
    assert after_first["status"] == "computing" and after_first["items_total"] == 0

    assert repo.save_proposal_items(proposal_id, summary.model_dump(), items, second) is True
    # The superseded attempt finishing later changes nothing, and no attempt begins any more.
    assert repo.save_proposal_items(proposal_id, summary.model_dump(), items, first) is False
    assert repo.begin_proposal_attempt(proposal_id) is None
    done = world.call("official_a", "GET", f"/assignments/{proposal_id}").json()
    assert done["status"] == "proposed" and done["items_total"] == 2


def test_an_accepted_proposal_becomes_claims_through_a_worker(world: World, tmp_path: Path) -> None:
    proposal = world.call("official_a", "POST", "/assignments", json={"region_code": COUNTY_A})
    assert proposal.status_code == 201, proposal.text
    proposal_id = proposal.json()["id"]
    # Meanwhile charity C1 claims NA1 itself: that item no longer fits and is skipped.
    assert world.call("charity_a", "POST", "/needs/NA1/claim").status_code == 200

    assert world.call("field_a", "POST", f"/assignments/{proposal_id}/accept").status_code == 403
    assert world.call("official_b", "POST", f"/assignments/{proposal_id}/accept").status_code == 404
    celery_app.control.purge()
    worker = Worker(tmp_path)
    worker.start()
    try:
        accepted = world.call("official_a", "POST", f"/assignments/{proposal_id}/accept")
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        # Accepting twice is refused while (and after) the first acceptance runs.
        again = world.call("official_a", "POST", f"/assignments/{proposal_id}/accept")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "proposal_not_acceptable"
        wait_for_job(JobRepository(world.graph), job_id, timeout_s=120)
    finally:
        worker.stop()
        celery_app.control.purge()
    job = world.call("official_a", "GET", f"/jobs/{job_id}").json()
    assert job["state"] == "succeeded", job
    assert job["result"] == {"claimed": 1, "skipped": 1}
    na1 = world.call("official_a", "GET", "/needs/NA1").json()["need"]
    na3 = world.call("official_a", "GET", "/needs/NA3").json()["need"]
    assert (na1["status"], na1["holder_id"]) == ("claimed", "C1")
    assert (na3["status"], na3["holder_id"]) == ("claimed", "U1")
    done = world.call("official_a", "GET", f"/assignments/{proposal_id}").json()
    assert done["status"] == "accepted" and (done["claimed"], done["skipped"]) == (1, 1)
    assert done["accepted_by"] == job["created_by"]
    assert {i["need_id"]: i["outcome"] for i in done["items"]} == {
        "NA1": "already_claimed",
        "NA3": "claimed",
    }
    actions = {
        (e["action"], e["subject_id"])
        for e in world.call(
            "auditor", "GET", "/audit", params={"actor_id": job["created_by"]}
        ).json()["items"]
    }
    assert ("assignment.accept", proposal_id) in actions and ("need.assign", "NA3") in actions


def test_recommendations_shown_are_recorded_by_a_worker_and_learned_from(
    world: World, tmp_path: Path
) -> None:
    buffer = shown_buffer()
    buffer.client.delete(SHOWN_KEY)
    shown = world.call("official_a", "GET", "/needs/NA1/matches")
    assert shown.status_code == 200, shown.text
    helpers = [m["helper_id"] for m in shown.json()["items"]]
    assert world.call("unit_a", "GET", "/helpers/U1/recommendations").status_code == 200
    assert buffer.pending() == 2  # one entry per response, nothing written to the graph yet
    assert world.graph.read_one("MATCH (s:ShownPair) RETURN count(s) AS n")["n"] == 0

    celery_app.control.purge()
    worker = Worker(tmp_path)
    worker.start()
    try:
        celery_app.send_task("bangfu.matching.record_shown")
        deadline = time.monotonic() + 60
        while buffer.pending() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        worker.stop()
        celery_app.control.purge()
    assert buffer.pending() == 0
    rows = world.graph.read(
        "MATCH (s:ShownPair {need_id: 'NA1'}) RETURN s.helper_id AS h, s.values AS v, "
        "s.best_rank AS r ORDER BY r"
    )
    assert [r["h"] for r in rows] == helpers
    assert all(len(r["v"]) == len(FACTORS) for r in rows)

    # The first helper shown takes NA1: its pair is labelled, the others' too (someone else took
    # the need); pairs of needs still waiting are not.
    first = helpers[0]
    NeedRepository(world.graph).save(
        need("NA1", "HA", VILLAGE_A).model_copy(
            update={"claimed_by": first, "status": NeedStatus.FULFILLED}
        )
    )
    labelled = {
        (p.need_id, p.helper_id): p.fulfilled
        for p in (label(o) for o in MatchingRepository(world.graph).shown_outcomes())
        if p is not None
    }
    assert labelled[("NA1", first)] is True
    assert all(labelled[("NA1", h)] is False for h in helpers[1:])
    assert {n for n, _ in labelled} == {"NA1"}
    # Far too few outcomes to learn from: the hand-set weights stay and no file is written.
    score, switched = world.service.learn_weights()
    assert not switched and not score.adopted
    assert not get_settings().matching.weights_file.exists()


def test_screening_flags_duplicates_and_implausible_amounts(world: World) -> None:
    duplicate = world.call("official_a", "GET", "/needs/NA2/screening")
    assert duplicate.status_code == 200, duplicate.text
    flags = duplicate.json()["flags"]
    assert [(f["kind"], f["related_need_id"]) for f in flags] == [("duplicate_household", "NA1")]
    assert flags[0]["reason_zh"] and flags[0]["reason"]

    amount = world.call("field_a", "GET", "/needs/NA4/screening").json()["flags"]
    assert [f["kind"] for f in amount] == ["amount_too_high"]

    assert world.call("official_a", "GET", "/needs/NA3/screening").json()["flags"] == []
    assert world.call("official_b", "GET", "/needs/NA2/screening").status_code == 404
    assert world.call("charity_a", "GET", "/needs/NA2/screening").status_code == 403

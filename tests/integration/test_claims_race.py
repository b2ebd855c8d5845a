"""Claims are race-free: of many simultaneous claims exactly one wins, pledges never exceed the
amount, and a naive read-then-write claim is caught by the same harness."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from bangfu.errors import BangfuError, ConflictError
from bangfu.settings import get_settings
from bangfu.vocabulary import NeedCategory, NeedStatus
from graph.client import GraphClient
from graph.pii import PiiVault
from graph.repositories import AuditRepository, NeedRepository
from matching.needs import Caller, NeedService
from tests.integration.marketplace_data import (
    VILLAGE_A,
    add_helpers,
    add_household,
    add_need,
    build_regions,
    helper_principal,
)

ROUNDS = 8
CONTENDERS = 200
PREFIXES = ("4402",)


def caller(helper_id: str) -> Caller:
    return Caller(principal=helper_principal(helper_id), prefixes=PREFIXES)


def make_service(graph: GraphClient) -> NeedService:
    return NeedService(NeedRepository(graph), AuditRepository(graph), get_settings().market)


Claim = Callable[[str, str], str]  # (need id, helper id) -> "ok" | "conflict" | "error"


def race(claim: Claim, need_id: str, helpers: list[str]) -> Counter[str]:
    """Release all contenders at once through a barrier and tally their answers."""
    barrier = threading.Barrier(len(helpers))

    def one(helper_id: str) -> str:
        barrier.wait()
        return claim(need_id, helper_id)

    with ThreadPoolExecutor(max_workers=len(helpers)) as pool:
        return Counter(pool.map(one, helpers))


def service_claim(service: NeedService) -> Claim:
    def claim(need_id: str, helper_id: str) -> str:
        try:
            service.claim(caller(helper_id), need_id)
        except ConflictError:
            return "conflict"
        except BangfuError:
            return "error"
        return "ok"

    return claim


# A deliberately broken claim: read the status in one transaction, write in another. It exists
# only to prove the harness can see a race; the product never does this.
NAIVE_READ = "MATCH (n:Need {id: $id}) RETURN n.status AS status"
NAIVE_WRITE = """
MATCH (n:Need {id: $id}), (h:Helper {id: $helper_id})
SET n.status = 'claimed', n.claimed_by = h.id
CREATE (h)-[:CLAIMED]->(n)
"""


def naive_claim(graph: GraphClient) -> Claim:
    def claim(need_id: str, helper_id: str) -> str:
        row = graph.read_one(NAIVE_READ, id=need_id)
        if row is None or row["status"] != "open":
            return "conflict"
        graph.write(NAIVE_WRITE, id=need_id, helper_id=helper_id)
        return "ok"

    return claim


COUNT_CLAIMS = "MATCH (:Helper)-[c:CLAIMED]->(:Need {id: $id}) RETURN count(c) AS claims"


@pytest.fixture
def market(empty_graph: GraphClient, vault: PiiVault) -> list[str]:
    build_regions(empty_graph)
    add_household(empty_graph, vault, "HA1", VILLAGE_A)
    return add_helpers(empty_graph, CONTENDERS, capacity=ROUNDS + 1)


def test_exactly_one_of_200_simultaneous_claims_wins(
    empty_graph: GraphClient, market: list[str]
) -> None:
    service = make_service(empty_graph)
    for round_no in range(ROUNDS):
        need_id = f"N-race-{round_no}"
        add_need(empty_graph, need_id, "HA1", VILLAGE_A)
        tally = race(service_claim(service), need_id, market)
        assert tally == Counter({"ok": 1, "conflict": CONTENDERS - 1}), f"round {round_no}"
        claims = empty_graph.read_one(COUNT_CLAIMS, id=need_id)
        assert claims == {"claims": 1}
        need, _ = service.get(caller(market[0]), need_id)
        assert need.status is NeedStatus.CLAIMED


def test_the_harness_catches_a_naive_read_then_write_claim(
    empty_graph: GraphClient, market: list[str]
) -> None:
    caught = False
    for round_no in range(ROUNDS):
        need_id = f"N-naive-{round_no}"
        add_need(empty_graph, need_id, "HA1", VILLAGE_A)
        tally = race(naive_claim(empty_graph), need_id, market)
        claims = empty_graph.read_one(COUNT_CLAIMS, id=need_id)
        if tally["ok"] != 1 or claims != {"claims": 1}:
            caught = True
            break
    assert caught, "a naive claim survived every round: the harness is too weak to trust"


def test_concurrent_pledges_never_exceed_the_amount(
    empty_graph: GraphClient, market: list[str]
) -> None:
    service = make_service(empty_graph)
    add_need(empty_graph, "N-cash", "HA1", VILLAGE_A, category=NeedCategory.TUITION, amount=5000)
    barrier = threading.Barrier(100)

    def pledge(helper_id: str) -> str:
        barrier.wait()
        try:
            service.pledge(caller(helper_id), "N-cash", 300)
        except ConflictError:
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(max_workers=100) as pool:
        tally = Counter(pool.map(pledge, market[:100]))
    # 5,000 / 300 = 16 whole pledges fit; the 17th would exceed the amount.
    assert tally == Counter({"ok": 16, "conflict": 84})
    need, pledged = service.get(caller(market[0]), "N-cash")
    assert pledged == 4800 and need.status is NeedStatus.OPEN
    # The remainder can be pledged exactly, which covers the need and claims it.
    result = service.pledge(caller(market[150]), "N-cash", 200)
    assert result.status is NeedStatus.CLAIMED and result.pledged_total == 5000
    with pytest.raises(ConflictError):
        service.pledge(caller(market[151]), "N-cash", 1)


def test_retrying_with_the_same_idempotency_key_gets_the_same_answer(
    empty_graph: GraphClient, market: list[str]
) -> None:
    service = make_service(empty_graph)
    add_need(empty_graph, "N-idem", "HA1", VILLAGE_A)
    helper = caller(market[0])
    first = service.claim(helper, "N-idem", idempotency_key="retry-1")
    again = service.claim(helper, "N-idem", idempotency_key="retry-1")
    assert again == first
    assert empty_graph.read_one(COUNT_CLAIMS, id="N-idem") == {"claims": 1}
    # Without the key the second attempt is a conflict naming the holder.
    with pytest.raises(ConflictError) as info:
        service.claim(helper, "N-idem")
    assert market[0] in info.value.message

"""Claim rules over time and history: automatic release of stale claims, transfers that go
through when unanswered, and the cap on open claims for helpers with a low completion ratio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bangfu.settings import MarketSettings
from bangfu.vocabulary import NeedStatus
from graph.client import GraphClient
from graph.pii import PiiVault
from graph.repositories import AuditRepository, NeedRepository
from matching.claims import CapacityError
from matching.lifecycle import NeedAction
from matching.needs import Caller, NeedService
from tests.integration.marketplace_data import (
    VILLAGE_A,
    add_helpers,
    add_household,
    add_need,
    build_regions,
    helper_principal,
)

SETTINGS = MarketSettings(
    auto_release_days=30,
    transfer_timeout_hours=72,
    low_completion_ratio=0.5,
    min_history_claims=4,
    low_ratio_max_open_claims=2,
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def caller(helper_id: str) -> Caller:
    return Caller(principal=helper_principal(helper_id), prefixes=("4402",))


@pytest.fixture
def setup(empty_graph: GraphClient, vault: PiiVault) -> tuple[NeedService, Clock, list[str]]:
    build_regions(empty_graph)
    add_household(empty_graph, vault, "HA1", VILLAGE_A)
    helpers = add_helpers(empty_graph, 3, capacity=20)
    clock = Clock()
    service = NeedService(
        NeedRepository(empty_graph), AuditRepository(empty_graph), SETTINGS, clock=clock
    )
    return service, clock, helpers


def test_claims_without_progress_are_released_after_the_configured_days(
    empty_graph: GraphClient, setup: tuple[NeedService, Clock, list[str]]
) -> None:
    service, clock, helpers = setup
    for need_id in ("N-stale", "N-busy"):
        add_need(empty_graph, need_id, "HA1", VILLAGE_A)
        service.claim(caller(helpers[0]), need_id)
    clock.now += timedelta(days=20)
    service.report(caller(helpers[0]), "N-busy", NeedAction.START, note="进行中")
    clock.now += timedelta(days=11)  # 31 days after the claims, 11 after the progress report
    assert service.release_stale_claims() == 1
    stale, _ = service.get(caller(helpers[0]), "N-stale")
    busy, _ = service.get(caller(helpers[0]), "N-busy")
    assert stale.status is NeedStatus.OPEN and stale.claimed_by is None
    assert busy.status is NeedStatus.IN_PROGRESS
    assert service.release_stale_claims() == 0, "running it again changes nothing"


def test_unanswered_transfer_goes_through_after_the_timeout(
    empty_graph: GraphClient, setup: tuple[NeedService, Clock, list[str]]
) -> None:
    service, clock, helpers = setup
    add_need(empty_graph, "N-x", "HA1", VILLAGE_A)
    service.claim(caller(helpers[0]), "N-x")
    service.request_transfer(caller(helpers[1]), "N-x")
    clock.now += timedelta(hours=71)
    assert service.apply_due_transfers() == 0
    clock.now += timedelta(hours=2)
    assert service.apply_due_transfers() == 1
    need, _ = service.get(caller(helpers[0]), "N-x")
    assert need.claimed_by == helpers[1] and need.status is NeedStatus.CLAIMED
    assert service.apply_due_transfers() == 0


def test_low_completion_ratio_caps_open_claims(
    empty_graph: GraphClient, setup: tuple[NeedService, Clock, list[str]]
) -> None:
    service, _, helpers = setup
    weak = caller(helpers[2])
    # History: 1 completed, 3 released -> 25% completion over 4 resolved claims.
    for i in range(4):
        add_need(empty_graph, f"N-h{i}", "HA1", VILLAGE_A)
        service.claim(weak, f"N-h{i}")
        if i == 0:
            service.report(weak, "N-h0", NeedAction.FULFIL, note="完成")
        else:
            service.release(weak, f"N-h{i}", reason="无法完成")
    field = Caller(
        principal=helper_principal("fw").model_copy(update={"helper_id": None}), prefixes=("4402",)
    )
    service.official_step(field, "N-h0", NeedAction.CONFIRM)
    for i in range(3):
        add_need(empty_graph, f"N-new{i}", "HA1", VILLAGE_A)
    service.claim(weak, "N-new0")
    service.claim(weak, "N-new1")
    with pytest.raises(CapacityError) as info:
        service.claim(weak, "N-new2")
    assert "25%" in info.value.message
    # A helper with a good record is not capped.
    service.claim(caller(helpers[0]), "N-new2")

from __future__ import annotations

import pytest

from bangfu.vocabulary import NeedStatus
from matching.lifecycle import (
    TRANSITIONS,
    InvalidTransitionError,
    NeedAction,
    allowed_actions,
    next_status,
)

HAPPY_PATH = [
    (NeedAction.VERIFY, NeedStatus.OPEN),
    (NeedAction.CLAIM, NeedStatus.CLAIMED),
    (NeedAction.START, NeedStatus.IN_PROGRESS),
    (NeedAction.FULFIL, NeedStatus.FULFILLED),
    (NeedAction.CONFIRM, NeedStatus.CONFIRMED),
    (NeedAction.CLOSE, NeedStatus.CLOSED),
]


def test_happy_path_walks_every_stage() -> None:
    status = NeedStatus.PENDING_REVIEW
    for action, expected in HAPPY_PATH:
        status = next_status(status, action)
        assert status is expected


@pytest.mark.parametrize("status", list(NeedStatus))
@pytest.mark.parametrize("action", list(NeedAction))
def test_every_pair_is_either_a_move_or_a_conflict_listing_the_allowed(
    status: NeedStatus, action: NeedAction
) -> None:
    if status in TRANSITIONS[action]:
        assert next_status(status, action) is TRANSITIONS[action][status]
        return
    with pytest.raises(InvalidTransitionError) as info:
        next_status(status, action)
    assert info.value.allowed == allowed_actions(status)
    for allowed in info.value.allowed:
        assert allowed.value in info.value.message


def test_terminal_states_allow_nothing() -> None:
    for status in (NeedStatus.CLOSED, NeedStatus.CANCELLED, NeedStatus.EXPIRED):
        assert allowed_actions(status) == []


def test_release_returns_a_claimed_need_to_open() -> None:
    assert next_status(NeedStatus.IN_PROGRESS, NeedAction.RELEASE) is NeedStatus.OPEN

"""The needs lifecycle as pure data: which action moves a need from which status to which.

open → claimed → in progress → fulfilled → confirmed → closed, with verification before open,
release back to open, cancel and expire. Services decide *who* may act (api/policy.py) and hold
the lock (graph/); this module decides *whether* the move is legal and what it becomes.
"""

from __future__ import annotations

from enum import StrEnum

from bangfu.errors import ConflictError
from bangfu.vocabulary import NeedStatus


class NeedAction(StrEnum):
    VERIFY = "verify"  # official accepts a field worker's entry
    REJECT = "reject"  # official refuses it (a reason is required)
    CLAIM = "claim"  # a helper takes a service / in-kind need exclusively
    PLEDGE = "pledge"  # a helper covers part of a cash need
    START = "start"  # claimant reports work has begun
    FULFIL = "fulfil"  # claimant reports fulfilment with evidence
    CONFIRM = "confirm"  # field worker confirms with the household
    CLOSE = "close"
    RELEASE = "release"  # claimant gives the need back (a reason is required)
    CANCEL = "cancel"  # field worker or official withdraws the need (a reason is required)
    EXPIRE = "expire"  # nobody claimed it in time
    TRANSFER = "transfer"  # the claim passes to another helper


S = NeedStatus
TRANSITIONS: dict[NeedAction, dict[NeedStatus, NeedStatus]] = {
    NeedAction.VERIFY: {S.PENDING_REVIEW: S.OPEN},
    NeedAction.REJECT: {S.PENDING_REVIEW: S.CANCELLED},
    NeedAction.CLAIM: {S.OPEN: S.CLAIMED},
    # A pledge keeps a cash need open until its amount is covered; the service then claims it.
    NeedAction.PLEDGE: {S.OPEN: S.OPEN},
    NeedAction.START: {S.CLAIMED: S.IN_PROGRESS, S.IN_PROGRESS: S.IN_PROGRESS},
    NeedAction.FULFIL: {S.CLAIMED: S.FULFILLED, S.IN_PROGRESS: S.FULFILLED},
    NeedAction.CONFIRM: {S.FULFILLED: S.CONFIRMED},
    NeedAction.CLOSE: {S.CONFIRMED: S.CLOSED},
    NeedAction.RELEASE: {S.CLAIMED: S.OPEN, S.IN_PROGRESS: S.OPEN},
    NeedAction.CANCEL: {S.PENDING_REVIEW: S.CANCELLED, S.OPEN: S.CANCELLED, S.CLAIMED: S.CANCELLED},
    NeedAction.EXPIRE: {S.OPEN: S.EXPIRED},
    NeedAction.TRANSFER: {S.CLAIMED: S.CLAIMED, S.IN_PROGRESS: S.CLAIMED},
}

REASON_REQUIRED = frozenset({NeedAction.REJECT, NeedAction.RELEASE, NeedAction.CANCEL})


class InvalidTransitionError(ConflictError):
    code = "invalid_transition"
    message_zh = "当前状态不允许该操作"

    def __init__(self, status: NeedStatus, action: NeedAction) -> None:
        self.status = status
        self.action = action
        self.allowed = allowed_actions(status)
        allowed = ", ".join(a.value for a in self.allowed) or "none"
        super().__init__(
            f"cannot {action.value} a need that is {status.value}; allowed: {allowed}",
            message_zh=f"需求当前状态为{status.value}，不能执行{action.value}；可执行：{allowed}",
        )


def allowed_actions(status: NeedStatus) -> list[NeedAction]:
    return [action for action, moves in TRANSITIONS.items() if status in moves]


def next_status(status: NeedStatus, action: NeedAction) -> NeedStatus:
    try:
        return TRANSITIONS[action][status]
    except KeyError:
        raise InvalidTransitionError(status, action) from None

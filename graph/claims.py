"""Record types for changing a need under its lock: what the decider sees and what it returns.

The decision itself is pure and lives in matching/; graph/ takes the lock, reads the state,
hands it to the decider and writes the change it returns, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bangfu.vocabulary import NeedStatus
from graph.models import Helper, Need


class Pledge(BaseModel):
    model_config = ConfigDict(frozen=True)

    helper_id: str
    amount: float
    at: datetime


class TransferRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    from_helper_id: str
    to_helper_id: str
    requested_at: datetime
    status: str  # pending, approved, declined, expired_transferred
    resolved_at: datetime | None = None


class TransferListing(TransferRequest):
    """A transfer request as listed for a need: with the two helpers' names (organisations,
    not persons)."""

    from_helper_name: str | None = None
    to_helper_name: str | None = None


class NeedState(BaseModel):
    """A need as seen while its lock is held: the latest committed values."""

    model_config = ConfigDict(frozen=True)

    need: Need
    pledges: tuple[Pledge, ...] = ()
    transfers: tuple[TransferRequest, ...] = ()
    last_progress_at: datetime | None = None

    @property
    def pledged_total(self) -> float:
        return round(sum(p.amount for p in self.pledges), 2)


class NeedEvent(BaseModel):
    """One step in a need's history; also what the household ledger is built from."""

    model_config = ConfigDict(frozen=True)

    id: str
    action: str
    actor_id: str
    actor_role: str
    helper_id: str | None = None
    at: datetime
    note: str | None = None
    amount: float | None = None
    evidence_name: str | None = None
    from_status: NeedStatus
    to_status: NeedStatus


class NeedChange(BaseModel):
    """What to write. Fields left None are not touched."""

    model_config = ConfigDict(frozen=True)

    status: NeedStatus | None = None
    holder_id: str | None = None
    clear_holder: bool = False
    add_pledge: Pledge | None = None
    clear_pledges: bool = False
    readd_pledges: tuple[Pledge, ...] = ()  # pledges to keep after clearing (a release by one)
    add_transfer: TransferRequest | None = None
    resolve_transfer: tuple[str, str] | None = None  # (request id, new status)
    progress: bool = False  # the claimant did something: resets the auto-release clock
    # (helper id, claims taken, claims completed, claims released): the reliability counters.
    helper_outcomes: tuple[tuple[str, int, int, int], ...] = ()
    event: NeedEvent
    # Stored under the idempotency key so a retried request gets the same answer.
    response: dict[str, Any] = Field(default_factory=dict)


class HelperLoad(BaseModel):
    """The acting helper, locked, with how much it holds and how it has done so far."""

    model_config = ConfigDict(frozen=True)

    helper: Helper
    open_claims: int
    claims_total: int
    claims_completed: int
    claims_released: int


class IdempotencyKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # the actor's id and the client's key: keys of different users never collide
    request_hash: str  # what was asked; the same key with another request is refused


Decider = Callable[[NeedState, HelperLoad | None], NeedChange]

BrowseSort = Literal["newest", "oldest", "urgency", "amount"]


class NeedQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    statuses: tuple[NeedStatus, ...] = (NeedStatus.OPEN,)
    category: str | None = None
    urgency: str | None = None
    region_code: str | None = None
    text: str | None = None
    holder_id: str | None = None
    sort: BrowseSort = "newest"
    skip: int = 0
    limit: int = 20


class BrowsedNeed(BaseModel):
    model_config = ConfigDict(frozen=True)

    need: Need
    pledged_total: float
    village_name: str


class NeedPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[BrowsedNeed]
    total: int | None  # None for wide scopes, where counting would cost more than the page
    has_more: bool


class LedgerEntry(BaseModel):
    """One piece of help a household received, from a helper's need or a project."""

    model_config = ConfigDict(frozen=True)

    source: Literal["need", "project"]
    ref: str
    category: str
    title: str
    step: str
    amount: float | None = None
    at: datetime | None = None
    helper_id: str | None = None
    helper_name: str | None = None
    helper_kind: str | None = None

"""The needs marketplace service: create, verify, browse, claim, pledge, report, confirm,
release, cancel and transfer needs. Every call carries the caller and the region prefixes the
policy allows it (api/policy.py decides those); graph/ enforces them in the queries, so a need
outside them simply does not exist for the caller."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, NotFoundError
from bangfu.settings import MarketSettings
from bangfu.vocabulary import NeedCategory, NeedStatus, Urgency
from graph.claims import (
    Decider,
    IdempotencyKey,
    LedgerEntry,
    NeedEvent,
    NeedPage,
    NeedQuery,
)
from graph.models import Need
from graph.repositories.needs import NeedRepository
from matching import claims
from matching.lifecycle import NeedAction

SYSTEM = Principal(user_id="system", username="system", role=Role.ADMIN)


class NeedDraft(BaseModel):
    """What a field worker enters; server-owned fields (status, region, ids) are not here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: NeedCategory
    title: str = Field(min_length=2, max_length=60)
    text: str = Field(min_length=4, max_length=1000)
    amount: float = Field(default=0, ge=0, le=1_000_000)
    urgency: Urgency = Urgency.NORMAL


class ChangeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    need_id: str
    status: NeedStatus
    holder_id: str | None
    pledged_total: float
    amount: float
    event_id: str
    action: str
    transfer_id: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def request_fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


class NeedService:
    def __init__(
        self,
        needs: NeedRepository,
        settings: MarketSettings,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.needs = needs
        self.settings = settings
        self.clock = clock

    # --- reads -----------------------------------------------------------------------------

    def browse(self, query: NeedQuery, prefixes: Sequence[str]) -> NeedPage:
        return self.needs.browse(query, prefixes)

    def get(self, need_id: str, prefixes: Sequence[str]) -> tuple[Need, float]:
        return self.needs.get_in_scope(need_id, prefixes)

    def history(self, need_id: str, prefixes: Sequence[str]) -> list[NeedEvent]:
        self.needs.get_in_scope(need_id, prefixes)  # NotFound outside the caller's scope
        return self.needs.history(need_id)

    def ledger(self, household_id: str, prefixes: Sequence[str]) -> list[LedgerEntry]:
        return self.needs.household_ledger(household_id, prefixes)

    # --- writes ----------------------------------------------------------------------------

    def create(
        self, principal: Principal, household_id: str, draft: NeedDraft, prefixes: Sequence[str]
    ) -> Need:
        props = {
            "id": f"N-{uuid.uuid4().hex[:16]}",
            "household_id": household_id,
            "category": draft.category.value,
            "kind": draft.category.kind.value,
            "title": draft.title.strip(),
            "text": draft.text.strip(),
            "amount": round(draft.amount, 2),
            "urgency": draft.urgency.value,
            # Nobody outside the village sees it until an official verifies it.
            "status": NeedStatus.PENDING_REVIEW.value,
            "created_at": self.clock().date(),
            "created_by": principal.user_id,
        }
        return self.needs.create_for_household(household_id, props, prefixes)

    def _change(
        self,
        principal: Principal,
        need_id: str,
        prefixes: Sequence[str],
        decide: Decider,
        idempotency_key: str | None,
        fingerprint: tuple[object, ...],
        with_helper: bool = False,
    ) -> ChangeResult:
        key = None
        if idempotency_key:
            key = IdempotencyKey(
                key=f"{principal.user_id}:{idempotency_key}",
                request_hash=request_fingerprint(need_id, *fingerprint),
            )
        response = self.needs.change(
            need_id,
            prefixes,
            decide,
            helper_id=principal.helper_id if with_helper else None,
            idempotency=key,
        )
        return ChangeResult.model_validate(response)

    def claim(
        self,
        principal: Principal,
        need_id: str,
        prefixes: Sequence[str],
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_claim(principal, self.clock(), self.settings)
        return self._change(
            principal, need_id, prefixes, decide, idempotency_key, ("claim",), with_helper=True
        )

    def pledge(
        self,
        principal: Principal,
        need_id: str,
        amount: float,
        prefixes: Sequence[str],
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_pledge(principal, round(amount, 2), self.clock(), self.settings)
        return self._change(
            principal,
            need_id,
            prefixes,
            decide,
            idempotency_key,
            ("pledge", round(amount, 2)),
            with_helper=True,
        )

    def report(
        self,
        principal: Principal,
        need_id: str,
        action: NeedAction,
        prefixes: Sequence[str],
        note: str | None = None,
        amount: float | None = None,
        evidence_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_report(principal, action, self.clock(), note, amount, evidence_name)
        return self._change(
            principal,
            need_id,
            prefixes,
            decide,
            idempotency_key,
            (action.value, note, amount, evidence_name),
        )

    def official_step(
        self,
        principal: Principal,
        need_id: str,
        action: NeedAction,
        prefixes: Sequence[str],
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_official_step(principal, action, self.clock(), reason)
        return self._change(
            principal, need_id, prefixes, decide, idempotency_key, (action.value, reason)
        )

    def release(
        self,
        principal: Principal,
        need_id: str,
        reason: str | None,
        prefixes: Sequence[str],
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_release(principal, self.clock(), reason)
        return self._change(
            principal, need_id, prefixes, decide, idempotency_key, ("release", reason)
        )

    def request_transfer(
        self,
        principal: Principal,
        need_id: str,
        prefixes: Sequence[str],
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_request_transfer(principal, self.clock(), self.settings)
        return self._change(
            principal, need_id, prefixes, decide, idempotency_key, ("transfer",), with_helper=True
        )

    def answer_transfer(
        self,
        principal: Principal,
        need_id: str,
        transfer_id: str,
        approve: bool,
        prefixes: Sequence[str],
    ) -> ChangeResult:
        decide = claims.decide_answer_transfer(principal, transfer_id, approve, self.clock())
        return self._change(principal, need_id, prefixes, decide, None, ())

    # --- scheduled work ----------------------------------------------------------------------

    def release_stale_claims(self) -> int:
        """Release claims without progress for `auto_release_days`; returns how many."""
        now = self.clock()
        released = 0
        for need_id in self.needs.stale_claims(
            now - timedelta(days=self.settings.auto_release_days)
        ):
            try:
                self.needs.change(
                    need_id, [""], claims.decide_auto_release(SYSTEM, now, self.settings)
                )
                released += 1
            except (ConflictError, NotFoundError):
                continue  # progress arrived or the need moved on since the scan: leave it
        return released

    def apply_due_transfers(self) -> int:
        """Transfer requests left unanswered past `transfer_timeout_hours` go through."""
        now = self.clock()
        done = 0
        cutoff = now - timedelta(hours=self.settings.transfer_timeout_hours)
        for need_id, transfer_id in self.needs.due_transfers(cutoff):
            try:
                self.needs.change(
                    need_id,
                    [""],
                    claims.decide_answer_transfer(SYSTEM, transfer_id, True, now, timed_out=True),
                )
                done += 1
            except (ConflictError, NotFoundError):
                continue
        return done

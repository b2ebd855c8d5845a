"""The needs marketplace service: create, verify, browse, claim, pledge, report, confirm,
release, cancel and transfer needs. Every call carries the caller and the region prefixes the
policy allows it (api/policy.py decides those); graph/ enforces them in the queries, so a need
outside them simply does not exist for the caller."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, NotFoundError, PermissionDeniedError
from bangfu.settings import MarketSettings
from bangfu.vocabulary import NeedCategory, NeedStatus, Urgency
from graph.claims import (
    Decider,
    IdempotencyKey,
    LedgerEntry,
    NeedChange,
    NeedEvent,
    NeedPage,
    NeedQuery,
    NeedState,
    TransferListing,
)
from graph.models import AuditEntry, AuditOutcome, Need
from graph.repositories.audit import AuditRepository
from graph.repositories.needs import NeedRepository
from matching import claims
from matching.lifecycle import NeedAction

SYSTEM = Principal(user_id="system", username="system", role=Role.ADMIN)


class Caller(BaseModel):
    """Who acts, where they may act (region-code prefixes from api/policy.py) and the request."""

    model_config = ConfigDict(frozen=True)

    principal: Principal
    prefixes: tuple[str, ...]
    request_id: str | None = None


# A holder's own needs: claimed until the field worker confirms them.
HELD_STATUSES = (
    NeedStatus.CLAIMED,
    NeedStatus.IN_PROGRESS,
    NeedStatus.FULFILLED,
    NeedStatus.CONFIRMED,
)
SYSTEM_CALLER = Caller(principal=SYSTEM, prefixes=("",), request_id=None)


def _need_snapshot(state: NeedState) -> dict[str, object]:
    need = state.need
    return {
        "status": need.status.value,
        "claimed_by": need.claimed_by,
        "pledged_total": state.pledged_total,
    }


def _audit_for(caller: Caller, action: str, need_id: str) -> AuditFactory:
    def entry(state: NeedState, change: NeedChange) -> AuditEntry:
        return AuditEntry(
            actor_id=caller.principal.user_id,
            actor_role=caller.principal.role.value,
            action=f"need.{action}",
            subject_type="need",
            subject_id=need_id,
            before=_need_snapshot(state),
            after=dict(change.response),
            request_id=caller.request_id,
        )

    return entry


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


AuditFactory = Callable[[NeedState, NeedChange], AuditEntry]


def _now() -> datetime:
    return datetime.now(UTC)


def request_fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


class NeedService:
    def __init__(
        self,
        needs: NeedRepository,
        audit: AuditRepository,
        settings: MarketSettings,
        clock: Callable[[], datetime] = _now,
        on_created: Callable[[Need], None] | None = None,
    ) -> None:
        self.needs = needs
        self.audit = audit
        self.settings = settings
        self.clock = clock
        # Called once a new need has committed (the API sends its embedding task from here).
        self.on_created = on_created

    # --- reads -----------------------------------------------------------------------------

    def browse(self, caller: Caller, query: NeedQuery) -> NeedPage:
        return self.needs.browse(query, caller.prefixes)

    def held(self, caller: Caller, skip: int, limit: int) -> NeedPage:
        """The needs the caller's organisation holds, from claim to confirmation."""
        query = NeedQuery(
            statuses=HELD_STATUSES, holder_id=caller.principal.helper_id, skip=skip, limit=limit
        )
        return self.needs.browse(query, caller.prefixes)

    def get(self, caller: Caller, need_id: str) -> tuple[Need, float]:
        return self.needs.get_in_scope(need_id, caller.prefixes)

    def history(self, caller: Caller, need_id: str) -> list[NeedEvent]:
        self.needs.get_in_scope(need_id, caller.prefixes)  # NotFound outside the caller's scope
        return self.needs.history(need_id)

    def transfers(self, caller: Caller, need_id: str) -> list[TransferListing]:
        """A need's transfer requests: all of them for officials and admins in scope; for a
        helper only those it made or was asked (another helper's interest is not its business)."""
        self.needs.get_in_scope(need_id, caller.prefixes)  # NotFound outside the caller's scope
        listed = self.needs.transfers_of(need_id)
        if not caller.principal.role.is_helper:
            return listed
        me = caller.principal.helper_id
        return [t for t in listed if me in (t.from_helper_id, t.to_helper_id)]

    def awaiting_my_answer(self, caller: Caller) -> set[str]:
        """Needs the calling helper holds that another helper has asked it to hand over and it
        has not answered (unanswered, they go through after `transfer_timeout_hours`)."""
        helper_id = caller.principal.helper_id
        return self.needs.awaiting_transfer_answer(helper_id) if helper_id else set()

    def ledger(self, caller: Caller, household_id: str) -> list[LedgerEntry]:
        return self.needs.household_ledger(household_id, caller.prefixes)

    # --- writes ----------------------------------------------------------------------------

    @contextmanager
    def _denials_audited(self, caller: Caller, action: str, subject_id: str) -> Iterator[None]:
        """Record a refused write (out of scope, not the holder) before the error goes up."""
        try:
            yield
        except (NotFoundError, PermissionDeniedError) as exc:
            self.audit.append(
                AuditEntry(
                    actor_id=caller.principal.user_id,
                    actor_role=caller.principal.role.value,
                    action=action,
                    subject_type="need",
                    subject_id=subject_id,
                    outcome=AuditOutcome.DENIED,
                    reason=exc.code,
                    request_id=caller.request_id,
                )
            )
            raise

    def create(self, caller: Caller, household_id: str, draft: NeedDraft) -> Need:
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
            "created_by": caller.principal.user_id,
        }
        with self._denials_audited(caller, "need.create", household_id):
            need = self.needs.create_for_household(household_id, props, caller.prefixes)
        self.audit.append(
            AuditEntry(
                actor_id=caller.principal.user_id,
                actor_role=caller.principal.role.value,
                action="need.create",
                subject_type="need",
                subject_id=need.id,
                after=need.model_dump(mode="json"),
                request_id=caller.request_id,
            )
        )
        if self.on_created is not None:
            self.on_created(need)
        return need

    def _change(
        self,
        caller: Caller,
        action: NeedAction,
        need_id: str,
        decide: Decider,
        idempotency_key: str | None,
        fingerprint: tuple[object, ...],
        helper_id: str | None = None,
        audit_action: str | None = None,
    ) -> ChangeResult:
        key = None
        if idempotency_key:
            key = IdempotencyKey(
                key=f"{caller.principal.user_id}:{idempotency_key}",
                request_hash=request_fingerprint(need_id, action.value, *fingerprint),
            )
        audited = audit_action or action.value
        with self._denials_audited(caller, f"need.{audited}", need_id):
            response = self.needs.change(
                need_id,
                caller.prefixes,
                decide,
                helper_id=helper_id,
                idempotency=key,
                audit=_audit_for(caller, audited, need_id),
            )
        return ChangeResult.model_validate(response)

    def claim(
        self, caller: Caller, need_id: str, idempotency_key: str | None = None
    ) -> ChangeResult:
        decide = claims.decide_claim(caller.principal, self.clock(), self.settings)
        return self._change(
            caller,
            NeedAction.CLAIM,
            need_id,
            decide,
            idempotency_key,
            (),
            helper_id=caller.principal.helper_id,
        )

    def assign(self, caller: Caller, need_id: str, helper_id: str) -> ChangeResult:
        """Claim a need for a helper because an official accepted an assignment proposal
        (audited as need.assign by the official; the helper holds the claim)."""
        decide = claims.decide_claim(caller.principal, self.clock(), self.settings, helper_id)
        return self._change(
            caller,
            NeedAction.CLAIM,
            need_id,
            decide,
            None,
            (),
            helper_id=helper_id,
            audit_action="assign",
        )

    def pledge(
        self, caller: Caller, need_id: str, amount: float, idempotency_key: str | None = None
    ) -> ChangeResult:
        amount = round(amount, 2)
        decide = claims.decide_pledge(caller.principal, amount, self.clock(), self.settings)
        return self._change(
            caller,
            NeedAction.PLEDGE,
            need_id,
            decide,
            idempotency_key,
            (amount,),
            helper_id=caller.principal.helper_id,
        )

    def report(
        self,
        caller: Caller,
        need_id: str,
        action: NeedAction,
        note: str | None = None,
        amount: float | None = None,
        evidence_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_report(
            caller.principal, action, self.clock(), note, amount, evidence_name
        )
        return self._change(
            caller, action, need_id, decide, idempotency_key, (note, amount, evidence_name)
        )

    def official_step(
        self,
        caller: Caller,
        need_id: str,
        action: NeedAction,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        decide = claims.decide_official_step(caller.principal, action, self.clock(), reason)
        return self._change(caller, action, need_id, decide, idempotency_key, (reason,))

    def release(
        self, caller: Caller, need_id: str, reason: str | None, idempotency_key: str | None = None
    ) -> ChangeResult:
        decide = claims.decide_release(caller.principal, self.clock(), reason)
        return self._change(caller, NeedAction.RELEASE, need_id, decide, idempotency_key, (reason,))

    def request_transfer(
        self, caller: Caller, need_id: str, idempotency_key: str | None = None
    ) -> ChangeResult:
        decide = claims.decide_request_transfer(caller.principal, self.clock(), self.settings)
        return self._change(
            caller,
            NeedAction.TRANSFER,
            need_id,
            decide,
            idempotency_key,
            (),
            helper_id=caller.principal.helper_id,
        )

    def answer_transfer(
        self, caller: Caller, need_id: str, transfer_id: str, approve: bool
    ) -> ChangeResult:
        decide = claims.decide_answer_transfer(caller.principal, transfer_id, approve, self.clock())
        return self._change(caller, NeedAction.TRANSFER, need_id, decide, None, ())

    # --- scheduled work ----------------------------------------------------------------------

    def release_stale_claims(self) -> int:
        """Release claims without progress for `auto_release_days`; returns how many."""
        now = self.clock()
        released = 0
        cutoff = now - timedelta(days=self.settings.auto_release_days)
        for need_id in self.needs.stale_claims(cutoff):
            try:
                self.needs.change(
                    need_id,
                    SYSTEM_CALLER.prefixes,
                    claims.decide_auto_release(SYSTEM, now, self.settings),
                    audit=_audit_for(SYSTEM_CALLER, "auto_release", need_id),
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
                    SYSTEM_CALLER.prefixes,
                    claims.decide_answer_transfer(SYSTEM, transfer_id, True, now, timed_out=True),
                    audit=_audit_for(SYSTEM_CALLER, "transfer_timeout", need_id),
                )
                done += 1
            except (ConflictError, NotFoundError):
                continue
        return done

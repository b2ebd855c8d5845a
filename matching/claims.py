"""Pure decisions on a need held under its lock: claim, pledge, report, confirm, release,
cancel, transfer. Each `decide_*` returns a Decider for NeedRepository.change; it sees the latest
committed state and either returns the change to write or raises a project error (nothing is
written then)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from bangfu.access import Principal
from bangfu.errors import ConflictError, InvalidInputError, PermissionDeniedError
from bangfu.settings import MarketSettings
from bangfu.vocabulary import NeedKind, NeedStatus
from graph.claims import (
    Decider,
    HelperLoad,
    NeedChange,
    NeedEvent,
    NeedState,
    Pledge,
    TransferRequest,
)
from matching.lifecycle import REASON_REQUIRED, NeedAction, next_status

# Amounts are yuan with fen precision; comparisons allow half a fen of float error.
_FEN = 0.005


class ClaimConflictError(ConflictError):
    """The need is held by someone else; the error names the holder."""

    code = "already_claimed"
    message_zh = "该需求已被认领"

    def __init__(self, holder_id: str) -> None:
        self.holder_id = holder_id
        super().__init__(
            f"need already claimed by helper {holder_id}",
            message_zh=f"该需求已被帮扶主体 {holder_id} 认领",
        )


class CapacityError(ConflictError):
    code = "claim_limit"
    message_zh = "认领数量已达上限"


def _event(
    principal: Principal,
    action: NeedAction,
    state: NeedState,
    to_status: NeedStatus,
    now: datetime,
    note: str | None = None,
    amount: float | None = None,
    evidence_name: str | None = None,
    helper_id: str | None = None,
) -> NeedEvent:
    return NeedEvent(
        id=uuid.uuid4().hex,
        action=action.value,
        actor_id=principal.user_id,
        actor_role=principal.role.value,
        helper_id=helper_id or principal.helper_id,
        at=now,
        note=note,
        amount=amount,
        evidence_name=evidence_name,
        from_status=state.need.status,
        to_status=to_status,
    )


def _response(
    state: NeedState, status: NeedStatus, holder: str | None, pledged: float, event: NeedEvent
) -> dict[str, object]:
    return {
        "need_id": state.need.id,
        "status": status.value,
        "holder_id": holder,
        "pledged_total": round(pledged, 2),
        "amount": state.need.amount,
        "event_id": event.id,
        "action": event.action,
    }


def _require_reason(action: NeedAction, reason: str | None) -> str | None:
    if action in REASON_REQUIRED and not (reason and reason.strip()):
        raise InvalidInputError(
            f"a reason is required to {action.value}", message_zh="此操作需要填写原因"
        )
    return reason.strip() if reason else None


def _is_participant(state: NeedState, helper_id: str | None) -> bool:
    if helper_id is None:
        return False
    if state.need.claimed_by == helper_id:
        return True
    return any(p.helper_id == helper_id for p in state.pledges)


def _check_capacity(load: HelperLoad, settings: MarketSettings) -> None:
    if load.open_claims >= load.helper.capacity:
        raise CapacityError(
            f"helper already holds {load.open_claims} needs, its capacity",
            message_zh=f"已认领 {load.open_claims} 项，达到服务能力上限",
        )
    resolved = load.claims_completed + load.claims_released
    if resolved >= settings.min_history_claims:
        ratio = load.claims_completed / resolved
        if ratio < settings.low_completion_ratio and (
            load.open_claims >= settings.low_ratio_max_open_claims
        ):
            raise CapacityError(
                f"completion ratio {ratio:.0%} is below {settings.low_completion_ratio:.0%}: "
                f"at most {settings.low_ratio_max_open_claims} open claims",
                message_zh=f"完成率 {ratio:.0%} 偏低，最多同时认领 "
                f"{settings.low_ratio_max_open_claims} 项",
            )


def _check_capability(load: HelperLoad, state: NeedState) -> None:
    if state.need.category not in load.helper.capabilities:
        raise PermissionDeniedError(
            f"helper does not offer {state.need.category.value}",
            message_zh="该需求类别不在本主体的帮扶能力范围内",
        )


def decide_claim(
    principal: Principal, now: datetime, settings: MarketSettings, helper_id: str | None = None
) -> Decider:
    """A helper claims for itself; or an official claims for `helper_id`, accepting an
    assignment proposal. Both check that the need is not cash and not held and that the helper
    has capacity. Only a helper's own claim checks the category: a proposal also offers a
    household's paired unit (结对帮扶) for needs outside its listed capabilities, and the
    official who accepts it has decided that."""
    holder = helper_id or principal.helper_id
    by_official = helper_id is not None

    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        assert load is not None and holder is not None
        if state.need.kind is NeedKind.CASH:
            raise ConflictError(
                "cash needs are pledged, not claimed: use the pledge action",
                message_zh="资金类需求请使用认捐",
            )
        if state.need.status in (NeedStatus.CLAIMED, NeedStatus.IN_PROGRESS) and (
            state.need.claimed_by
        ):
            raise ClaimConflictError(state.need.claimed_by)
        to = next_status(state.need.status, NeedAction.CLAIM)
        if not by_official:
            _check_capability(load, state)
        _check_capacity(load, settings)
        event = _event(principal, NeedAction.CLAIM, state, to, now, helper_id=holder)
        return NeedChange(
            status=to,
            holder_id=holder,
            progress=True,
            event=event,
            helper_outcomes=((holder, 1, 0, 0),),
            response=_response(state, to, holder, 0, event),
        )

    return decide


def decide_pledge(
    principal: Principal, amount: float, now: datetime, settings: MarketSettings
) -> Decider:
    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        assert load is not None and principal.helper_id is not None
        if state.need.kind is not NeedKind.CASH:
            raise ConflictError(
                "only cash needs take pledges: claim this need instead",
                message_zh="非资金类需求请直接认领",
            )
        if state.need.status is not NeedStatus.OPEN:
            next_status(state.need.status, NeedAction.PLEDGE)  # raises, listing what is allowed
        remaining = round(state.need.amount - state.pledged_total, 2)
        if amount <= 0:
            raise InvalidInputError(
                "pledge amount must be positive", message_zh="认捐金额必须大于零"
            )
        if amount > remaining + _FEN:
            raise ConflictError(
                f"only {remaining:.2f} yuan of this need remain to be pledged",
                message_zh=f"该需求剩余可认捐金额为 {remaining:.2f} 元",
            )
        _check_capability(load, state)
        total = round(state.pledged_total + amount, 2)
        covered = total >= state.need.amount - _FEN
        first_pledge = not any(p.helper_id == principal.helper_id for p in state.pledges)
        if first_pledge:
            _check_capacity(load, settings)
        to = NeedStatus.CLAIMED if covered else NeedStatus.OPEN
        # The first pledger leads the need once it is covered: it reports progress and fulfilment.
        lead = (
            (state.pledges[0].helper_id if state.pledges else principal.helper_id)
            if covered
            else None
        )
        event = _event(principal, NeedAction.PLEDGE, state, to, now, amount=amount)
        return NeedChange(
            status=to,
            holder_id=lead,
            add_pledge=Pledge(helper_id=principal.helper_id, amount=amount, at=now),
            progress=covered,
            event=event,
            helper_outcomes=((principal.helper_id, 1, 0, 0),) if first_pledge else (),
            response=_response(state, to, lead, total, event),
        )

    return decide


def decide_report(
    principal: Principal,
    action: NeedAction,
    now: datetime,
    note: str | None,
    amount: float | None = None,
    evidence_name: str | None = None,
) -> Decider:
    """START or FULFIL by the helper that holds (or pledged to) the need."""

    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        if not _is_participant(state, principal.helper_id):
            raise PermissionDeniedError(
                "only the helper holding this need may report on it",
                message_zh="只有认领该需求的主体可以报告进展",
            )
        to = next_status(state.need.status, action)
        event = _event(
            principal, action, state, to, now, note=note, amount=amount, evidence_name=evidence_name
        )
        return NeedChange(
            status=to,
            progress=True,
            event=event,
            response=_response(state, to, state.need.claimed_by, state.pledged_total, event),
        )

    return decide


def decide_official_step(
    principal: Principal, action: NeedAction, now: datetime, reason: str | None = None
) -> Decider:
    """VERIFY, REJECT, CONFIRM, CLOSE and CANCEL: steps taken by field workers and officials."""

    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        note = _require_reason(action, reason)
        to = next_status(state.need.status, action)
        event = _event(principal, action, state, to, now, note=note)
        outcomes: tuple[tuple[str, int, int, int], ...] = ()
        if action is NeedAction.CONFIRM:
            helpers = {p.helper_id for p in state.pledges} | (
                {state.need.claimed_by} if state.need.claimed_by else set()
            )
            outcomes = tuple((h, 0, 1, 0) for h in sorted(helpers))
        cancelling = action is NeedAction.CANCEL
        return NeedChange(
            status=to,
            clear_holder=cancelling and state.need.claimed_by is not None,
            clear_pledges=cancelling and bool(state.pledges),
            event=event,
            helper_outcomes=outcomes,
            response=_response(
                state,
                to,
                None if cancelling else state.need.claimed_by,
                0 if cancelling else state.pledged_total,
                event,
            ),
        )

    return decide


def decide_release(principal: Principal, now: datetime, reason: str | None) -> Decider:
    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        note = _require_reason(NeedAction.RELEASE, reason)
        if not _is_participant(state, principal.helper_id):
            raise PermissionDeniedError(
                "only the helper holding this need may release it",
                message_zh="只有认领该需求的主体可以放弃",
            )
        assert principal.helper_id is not None
        if state.need.kind is NeedKind.CASH and state.need.status is NeedStatus.OPEN:
            to = NeedStatus.OPEN  # withdrawing a pledge from a need not yet covered
        else:
            to = next_status(state.need.status, NeedAction.RELEASE)
        event = _event(principal, NeedAction.RELEASE, state, to, now, note=note)
        remaining = [p for p in state.pledges if p.helper_id != principal.helper_id]
        return NeedChange(
            status=to,
            clear_holder=state.need.claimed_by is not None,
            clear_pledges=bool(state.pledges),
            event=event,
            helper_outcomes=((principal.helper_id, 0, 0, 1),),
            # Other pledgers keep their pledges: re-add them after clearing.
            readd_pledges=tuple(remaining),
            response=_response(state, to, None, sum(p.amount for p in remaining), event),
        )

    return decide


def decide_auto_release(system: Principal, now: datetime, settings: MarketSettings) -> Decider:
    """Release a claim that has had no progress for `auto_release_days` (checked again under the
    lock, so a report that arrived meanwhile keeps the claim)."""

    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        cutoff = now - timedelta(days=settings.auto_release_days)
        if state.need.status not in (NeedStatus.CLAIMED, NeedStatus.IN_PROGRESS) or (
            state.last_progress_at is not None and state.last_progress_at >= cutoff
        ):
            raise ConflictError("claim is no longer stale", message_zh="该认领已有新进展")
        to = NeedStatus.OPEN
        holders = {p.helper_id for p in state.pledges} | (
            {state.need.claimed_by} if state.need.claimed_by else set()
        )
        event = _event(
            system,
            NeedAction.RELEASE,
            state,
            to,
            now,
            note=f"no progress for {settings.auto_release_days} days",
        )
        return NeedChange(
            status=to,
            clear_holder=True,
            clear_pledges=bool(state.pledges),
            event=event,
            helper_outcomes=tuple((h, 0, 0, 1) for h in sorted(holders)),
            response=_response(state, to, None, 0, event),
        )

    return decide


def decide_request_transfer(
    principal: Principal, now: datetime, settings: MarketSettings
) -> Decider:
    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        assert load is not None and principal.helper_id is not None
        holder = state.need.claimed_by
        if state.need.status not in (NeedStatus.CLAIMED, NeedStatus.IN_PROGRESS) or not holder:
            raise ConflictError(
                "only a claimed need can be transferred; claim it instead",
                message_zh="该需求未被认领，可直接认领",
            )
        if holder == principal.helper_id:
            raise ConflictError("you already hold this need", message_zh="您已认领该需求")
        if any(
            t.status == "pending" and t.to_helper_id == principal.helper_id for t in state.transfers
        ):
            raise ConflictError(
                "a transfer request of yours is already pending", message_zh="已有待处理的转让申请"
            )
        _check_capability(load, state)
        _check_capacity(load, settings)
        request = TransferRequest(
            id=uuid.uuid4().hex,
            from_helper_id=holder,
            to_helper_id=principal.helper_id,
            requested_at=now,
            status="pending",
        )
        event = _event(
            principal, NeedAction.TRANSFER, state, state.need.status, now, note="transfer requested"
        )
        response = _response(state, state.need.status, holder, state.pledged_total, event)
        response["transfer_id"] = request.id
        return NeedChange(add_transfer=request, event=event, response=response)

    return decide


def decide_answer_transfer(
    actor: Principal, transfer_id: str, approve: bool, now: datetime, *, timed_out: bool = False
) -> Decider:
    def decide(state: NeedState, load: HelperLoad | None) -> NeedChange:
        request = next((t for t in state.transfers if t.id == transfer_id), None)
        if request is None or request.status != "pending":
            raise ConflictError(
                "no pending transfer request with this id", message_zh="没有待处理的该转让申请"
            )
        if not timed_out and actor.helper_id != state.need.claimed_by:
            raise PermissionDeniedError(
                "only the current holder answers a transfer request",
                message_zh="只有当前认领方可以处理转让申请",
            )
        if not approve:
            event = _event(
                actor, NeedAction.TRANSFER, state, state.need.status, now, note="transfer declined"
            )
            return NeedChange(
                resolve_transfer=(transfer_id, "declined"),
                event=event,
                response=_response(
                    state, state.need.status, state.need.claimed_by, state.pledged_total, event
                ),
            )
        to = next_status(state.need.status, NeedAction.TRANSFER)
        outcome = "expired_transferred" if timed_out else "approved"
        event = _event(
            actor,
            NeedAction.TRANSFER,
            state,
            to,
            now,
            note=f"transfer {outcome} to {request.to_helper_id}",
        )
        return NeedChange(
            status=to,
            holder_id=request.to_helper_id,
            resolve_transfer=(transfer_id, outcome),
            progress=True,
            event=event,
            helper_outcomes=((request.to_helper_id, 1, 0, 0),),
            response=_response(state, to, request.to_helper_id, state.pledged_total, event),
        )

    return decide

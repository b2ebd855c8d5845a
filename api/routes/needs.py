"""Needs: browsing, the lifecycle and claims. Thin: the policy dependency admits the role and
brings the caller's scope, then one service call."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Evidence, Needs, Pagination, caller_for
from api.evidence import StoredEvidence
from api.policy import Action
from api.views import (
    CardPage,
    EventView,
    NeedCard,
    NeedDetail,
    NeedRecord,
    RecordPage,
    TransferView,
)
from bangfu.vocabulary import NeedCategory, NeedStatus, Urgency
from graph.claims import NeedQuery
from matching.lifecycle import NeedAction
from matching.needs import Caller, ChangeResult, NeedDraft

router = APIRouter(tags=["needs"])

Browser = Annotated[Caller, Depends(caller_for(Action.BROWSE_NEEDS))]
Reader = Annotated[Caller, Depends(caller_for(Action.READ_HOUSEHOLD))]
Creator = Annotated[Caller, Depends(caller_for(Action.CREATE_NEED))]
Verifier = Annotated[Caller, Depends(caller_for(Action.VERIFY_NEED))]
Confirmer = Annotated[Caller, Depends(caller_for(Action.CONFIRM_NEED))]
Canceller = Annotated[Caller, Depends(caller_for(Action.CANCEL_NEED))]
Claimant = Annotated[Caller, Depends(caller_for(Action.CLAIM_NEED))]
Holder = Annotated[Caller, Depends(caller_for(Action.UPDATE_CLAIM))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=100,
        description="retrying with the same key returns the first answer",
    ),
]
Sort = Literal["newest", "oldest", "urgency", "amount"]
RegionCode = Annotated[str | None, Query(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")]
Text = Annotated[str | None, Query(min_length=1, max_length=50)]


class Strict(BaseModel):
    # Clients can never set server-owned fields (status, scores, region): unknown fields are 422.
    model_config = ConfigDict(extra="forbid")


class Reason(Strict):
    reason: str = Field(min_length=2, max_length=500)


class Note(Strict):
    note: str | None = Field(default=None, max_length=1000)


class Fulfilment(Strict):
    note: str = Field(min_length=2, max_length=1000)
    amount: float | None = Field(default=None, ge=0, le=1_000_000)
    evidence_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class PledgeIn(Strict):
    amount: float = Field(gt=0, le=1_000_000)


@router.get("/market/needs", response_model=CardPage)
def browse_market(
    caller: Browser,
    needs: Needs,
    page: Pagination,
    category: NeedCategory | None = None,
    urgency: Urgency | None = None,
    region: RegionCode = None,
    q: Text = None,
    sort: Sort = "newest",
) -> CardPage:
    """Verified open needs in the caller's regions, de-identified (所有角色看到的都是脱敏信息)."""
    query = NeedQuery(
        category=category,
        urgency=urgency,
        region_code=region,
        text=q,
        sort=sort,
        skip=page.skip,
        limit=page.page_size,
    )
    return CardPage.of(needs.browse(caller, query), page.page, page.page_size)


@router.get("/market/claims", response_model=CardPage)
def my_claims(caller: Holder, needs: Needs, page: Pagination) -> CardPage:
    """Needs the caller's organisation holds, from claim to confirmation."""
    return CardPage.of(needs.held(caller, page.skip, page.page_size), page.page, page.page_size)


@router.get("/market/needs/{need_id}", response_model=NeedCard)
def market_need(need_id: str, caller: Browser, needs: Needs) -> NeedCard:
    need, pledged = needs.get(caller, need_id)
    return NeedCard.of(need, pledged)


@router.get("/needs", response_model=RecordPage)
def list_needs(
    caller: Reader,
    needs: Needs,
    page: Pagination,
    status_: Annotated[NeedStatus | None, Query(alias="status")] = None,
    category: NeedCategory | None = None,
    urgency: Urgency | None = None,
    region: RegionCode = None,
    q: Text = None,
    sort: Sort = "newest",
) -> RecordPage:
    """Needs of the caller's region in any status (officials and field workers)."""
    statuses = (status_,) if status_ else tuple(NeedStatus)
    query = NeedQuery(
        statuses=statuses,
        category=category,
        urgency=urgency,
        region_code=region,
        text=q,
        sort=sort,
        skip=page.skip,
        limit=page.page_size,
    )
    return RecordPage.of(needs.browse(caller, query), page.page, page.page_size)


@router.get("/needs/{need_id}", response_model=NeedDetail)
def need_detail(need_id: str, caller: Reader, needs: Needs) -> NeedDetail:
    need, pledged = needs.get(caller, need_id)
    history = needs.history(caller, need_id)
    return NeedDetail(need=NeedRecord.of(need, pledged), history=[EventView.of(e) for e in history])


@router.post(
    "/households/{household_id}/needs",
    response_model=NeedRecord,
    status_code=status.HTTP_201_CREATED,
)
def create_need(household_id: str, draft: NeedDraft, caller: Creator, needs: Needs) -> NeedRecord:
    """A field worker records a need; it waits for an official's verification (待审核)."""
    return NeedRecord.of(needs.create(caller, household_id, draft), 0)


@router.post("/needs/{need_id}/verify", response_model=ChangeResult)
def verify(
    need_id: str, caller: Verifier, needs: Needs, key: IdempotencyKey = None
) -> ChangeResult:
    return needs.official_step(caller, need_id, NeedAction.VERIFY, idempotency_key=key)


@router.post("/needs/{need_id}/reject", response_model=ChangeResult)
def reject(need_id: str, body: Reason, caller: Verifier, needs: Needs) -> ChangeResult:
    return needs.official_step(caller, need_id, NeedAction.REJECT, reason=body.reason)


@router.post("/needs/{need_id}/confirm", response_model=ChangeResult)
def confirm(
    need_id: str, caller: Confirmer, needs: Needs, key: IdempotencyKey = None
) -> ChangeResult:
    """The field worker confirms with the household that the help arrived."""
    return needs.official_step(caller, need_id, NeedAction.CONFIRM, idempotency_key=key)


@router.post("/needs/{need_id}/close", response_model=ChangeResult)
def close(need_id: str, caller: Confirmer, needs: Needs) -> ChangeResult:
    return needs.official_step(caller, need_id, NeedAction.CLOSE)


@router.post("/needs/{need_id}/cancel", response_model=ChangeResult)
def cancel(need_id: str, body: Reason, caller: Canceller, needs: Needs) -> ChangeResult:
    return needs.official_step(caller, need_id, NeedAction.CANCEL, reason=body.reason)


@router.post("/needs/{need_id}/claim", response_model=ChangeResult)
def claim(need_id: str, caller: Claimant, needs: Needs, key: IdempotencyKey = None) -> ChangeResult:
    """Claim a service or in-kind need exclusively; 409 names the holder when taken."""
    return needs.claim(caller, need_id, idempotency_key=key)


@router.post("/needs/{need_id}/pledges", response_model=ChangeResult)
def pledge(
    need_id: str, body: PledgeIn, caller: Claimant, needs: Needs, key: IdempotencyKey = None
) -> ChangeResult:
    """Pledge part of a cash need; pledges never exceed its amount."""
    return needs.pledge(caller, need_id, body.amount, idempotency_key=key)


@router.post("/needs/{need_id}/start", response_model=ChangeResult)
def start(need_id: str, body: Note, caller: Holder, needs: Needs) -> ChangeResult:
    return needs.report(caller, need_id, NeedAction.START, note=body.note)


@router.post("/needs/{need_id}/fulfil", response_model=ChangeResult)
def fulfil(
    need_id: str,
    body: Fulfilment,
    caller: Holder,
    needs: Needs,
    evidence: Evidence,
    key: IdempotencyKey = None,
) -> ChangeResult:
    return needs.report(
        caller,
        need_id,
        NeedAction.FULFIL,
        note=body.note,
        amount=body.amount,
        evidence_name=evidence.require(body.evidence_id),
        idempotency_key=key,
    )


@router.post("/needs/{need_id}/release", response_model=ChangeResult)
def release(need_id: str, body: Reason, caller: Holder, needs: Needs) -> ChangeResult:
    return needs.release(caller, need_id, body.reason)


@router.post(
    "/needs/{need_id}/transfers", response_model=ChangeResult, status_code=status.HTTP_201_CREATED
)
def request_transfer(
    need_id: str, caller: Claimant, needs: Needs, key: IdempotencyKey = None
) -> ChangeResult:
    """Ask the current holder to hand the need over; unanswered requests go through later."""
    return needs.request_transfer(caller, need_id, idempotency_key=key)


@router.get("/needs/{need_id}/transfers", response_model=list[TransferView])
def transfers(need_id: str, caller: Browser, needs: Needs) -> list[TransferView]:
    """The need's transfer requests, newest first: all of them for officials, for a helper
    those it made or was asked to answer (the holder finds pending ones here)."""
    return [TransferView.of(t) for t in needs.transfers(caller, need_id)]


@router.post("/needs/{need_id}/transfers/{transfer_id}/approve", response_model=ChangeResult)
def approve_transfer(need_id: str, transfer_id: str, caller: Holder, needs: Needs) -> ChangeResult:
    return needs.answer_transfer(caller, need_id, transfer_id, approve=True)


@router.post("/needs/{need_id}/transfers/{transfer_id}/decline", response_model=ChangeResult)
def decline_transfer(need_id: str, transfer_id: str, caller: Holder, needs: Needs) -> ChangeResult:
    return needs.answer_transfer(caller, need_id, transfer_id, approve=False)


@router.post("/evidence", response_model=StoredEvidence, status_code=status.HTTP_201_CREATED)
async def upload_evidence(file: UploadFile, caller: Holder, evidence: Evidence) -> StoredEvidence:
    """A photo (JPEG, PNG) or PDF for a progress or fulfilment report."""
    return evidence.save(await file.read(evidence.max_bytes + 1))

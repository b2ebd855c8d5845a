"""Households for officials and field workers of the region: masked by default, with one
audited call to reveal a member's identifiers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Households, Pagination, caller_for
from api.households import RevealReason
from api.policy import Action
from api.views import HouseholdDetail, HouseholdPage, Ledger, RevealedIdentifiers
from bangfu.vocabulary import HouseholdStatus
from matching.needs import Caller

router = APIRouter(tags=["households"])

Reader = Annotated[Caller, Depends(caller_for(Action.READ_HOUSEHOLD))]
Revealer = Annotated[Caller, Depends(caller_for(Action.REVEAL_PII))]


@router.get("/households", response_model=HouseholdPage)
def list_households(
    caller: Reader,
    service: Households,
    page: Pagination,
    region: Annotated[str | None, Query(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")] = None,
    status: HouseholdStatus | None = None,
) -> HouseholdPage:
    return service.list(caller, region, status.value if status else None, page.page, page.page_size)


@router.get("/households/{household_id}", response_model=HouseholdDetail)
def household(household_id: str, caller: Reader, service: Households) -> HouseholdDetail:
    return service.detail(caller, household_id)


@router.get("/households/{household_id}/ledger", response_model=Ledger)
def ledger(household_id: str, caller: Reader, service: Households) -> Ledger:
    """Every piece of help the household received, from any helper or project (帮扶台账)."""
    return service.ledger(caller, household_id)


@router.post(
    "/households/{household_id}/members/{person_id}/reveal", response_model=RevealedIdentifiers
)
def reveal(
    household_id: str, person_id: str, body: RevealReason, caller: Revealer, service: Households
) -> RevealedIdentifiers:
    """Plaintext ID number and phone of one member, for a stated reason; every reveal is in
    the audit trail with its reason."""
    return service.reveal(caller, household_id, person_id, body)

"""Pages of charities, federations and helper units: browse open needs, open one, claim it,
report progress and fulfilment; recommended needs with reasons. Every need is a NeedCard, the
de-identified view the API gives these roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Evidence, Helpers, Needs
from api.helpers import HelperChange, HelperView
from api.matching import HelperRecommendationsView, Matching
from api.pages.deps import CheckedForm, EvidenceUpload, page_caller_for
from api.pages.filters import PAGE_SIZE, NeedFilter
from api.pages.forms import (
    CAPABILITY_FIELD,
    FormResult,
    capability_values,
    parse_form,
    read_capabilities,
)
from api.pages.i18n import lang_of
from api.pages.render import redirect, render
from api.policy import Action
from api.routes.needs import PledgeIn, Reason
from api.views import CardPage, NeedCard
from bangfu.settings import get_settings
from bangfu.vocabulary import NeedCategory, NeedStatus, Urgency
from matching.lifecycle import NeedAction
from matching.needs import Caller, NeedService

router = APIRouter(include_in_schema=False)

Browser = Annotated[Caller, Depends(page_caller_for(Action.BROWSE_NEEDS))]
Claimant = Annotated[Caller, Depends(page_caller_for(Action.CLAIM_NEED))]
Holder = Annotated[Caller, Depends(page_caller_for(Action.UPDATE_CLAIM))]
Recommended = Annotated[Caller, Depends(page_caller_for(Action.VIEW_RECOMMENDATIONS))]
MAX_RECOMMENDED = 20


class ProgressForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


class FulfilForm(BaseModel):
    """The API's Fulfilment; the evidence comes as a file in the same form (EvidenceUpload)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=2, max_length=1000)
    amount: float | None = Field(default=None, ge=0, le=1_000_000)


def _choices() -> dict[str, list[str]]:
    return {
        "categories": [c.value for c in NeedCategory],
        "urgencies": [u.value for u in Urgency],
        "sorts": ["newest", "oldest", "urgency", "amount"],
    }


@router.get("/market")
def market(
    request: Request,
    caller: Browser,
    needs: Needs,
    filters: Annotated[NeedFilter, Query()],
) -> Response:
    query = filters.query((NeedStatus.OPEN,))
    page = CardPage.of(needs.browse(caller, query), filters.page, PAGE_SIZE)
    context = {"page": page, "filters": filters, **_choices()}
    return render(request, "market.html", context)


@router.get("/market/claims")
def my_claims(
    request: Request, caller: Holder, needs: Needs, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    cards = CardPage.of(needs.held(caller, (page - 1) * PAGE_SIZE, PAGE_SIZE), page, PAGE_SIZE)
    context = {"page": cards, "asked": needs.awaiting_my_answer(caller)}
    return render(request, "claims.html", context)


@router.get("/market/recommended")
def recommended(request: Request, caller: Recommended, matching: Matching) -> Response:
    helper_id = caller.principal.helper_id or ""
    view = HelperRecommendationsView.of(
        matching.recommendations_for_helper(caller, helper_id, MAX_RECOMMENDED)
    )
    return render(request, "recommended.html", {"view": view})


def _need_page(
    request: Request,
    card: NeedCard,
    caller: Caller,
    needs: NeedService,
    form: Mapping[str, object] | None = None,
    status: int = 200,
    pledge: Mapping[str, object] | None = None,
    release: Mapping[str, object] | None = None,
) -> Response:
    me = caller.principal.helper_id
    transfers = needs.transfers(caller, card.id) if me is not None else []
    context = {
        # Requests this helper must answer (it holds the need), and whether it asked already.
        "asked_of_me": [t for t in transfers if t.status == "pending" and t.from_helper_id == me],
        "my_request_pending": any(
            t.status == "pending" and t.to_helper_id == me and t.from_helper_id == card.holder_id
            for t in transfers
        ),
        "transfer_hours": get_settings().market.transfer_timeout_hours,
        "release": release or {"values": {}, "errors": {}},
        "pledge": pledge or {"values": {}, "errors": {}},
        "need": card,
        "mine": card.holder_id is not None and card.holder_id == caller.principal.helper_id,
        "can_claim": caller.principal.role.is_helper,
        "fulfil": form or {"values": {}, "errors": {}},
        "done": request.query_params.get("done"),
    }
    return render(request, "market_need.html", context, status)


@router.get("/market/needs/{need_id}")
def market_need(request: Request, need_id: str, caller: Browser, needs: Needs) -> Response:
    need, pledged = needs.get(caller, need_id)
    return _need_page(request, NeedCard.of(need, pledged), caller, needs)


@router.post("/market/needs/{need_id}/claim")
def claim(
    request: Request, need_id: str, form: CheckedForm, caller: Claimant, needs: Needs
) -> Response:
    needs.claim(caller, need_id)
    return redirect(request, f"/market/needs/{need_id}?done=claimed_ok")


@router.post("/market/needs/{need_id}/pledge")
def pledge(
    request: Request, need_id: str, form: CheckedForm, caller: Claimant, needs: Needs
) -> Response:
    """Part of a cash need (the API's PledgeIn): never more than what remains."""
    result = parse_form(PledgeIn, form, lang_of(request))
    if result.model is None:
        need, pledged = needs.get(caller, need_id)
        pledge_form = {"values": result.values, "errors": result.errors}
        return _need_page(
            request, NeedCard.of(need, pledged), caller, needs, status=422, pledge=pledge_form
        )
    needs.pledge(caller, need_id, result.model.amount)
    return redirect(request, f"/market/needs/{need_id}?done=pledged_ok")


@router.post("/market/needs/{need_id}/release")
def release(
    request: Request, need_id: str, form: CheckedForm, caller: Holder, needs: Needs
) -> Response:
    """Give a claim back to the market (the API's Reason: a reason is required)."""
    result = parse_form(Reason, form, lang_of(request))
    if result.model is None:
        need, pledged = needs.get(caller, need_id)
        release_form = {"values": result.values, "errors": result.errors}
        return _need_page(
            request, NeedCard.of(need, pledged), caller, needs, status=422, release=release_form
        )
    needs.release(caller, need_id, result.model.reason)
    return redirect(request, f"/market/needs/{need_id}?done=released_ok")


@router.post("/market/needs/{need_id}/start")
def start(
    request: Request, need_id: str, form: CheckedForm, caller: Holder, needs: Needs
) -> Response:
    result = parse_form(ProgressForm, form, lang_of(request))
    note = result.model.note if result.model else None
    needs.report(caller, need_id, NeedAction.START, note=note)
    return redirect(request, f"/market/needs/{need_id}?done=started_ok")


@router.post("/market/needs/{need_id}/fulfil")
def fulfil(
    request: Request,
    need_id: str,
    form: CheckedForm,
    caller: Holder,
    needs: Needs,
    upload: EvidenceUpload,
    evidence: Evidence,
) -> Response:
    result = parse_form(FulfilForm, form, lang_of(request))
    if result.model is None:
        need, pledged = needs.get(caller, need_id)
        fulfil_form = {"values": result.values, "errors": result.errors}
        return _need_page(request, NeedCard.of(need, pledged), caller, needs, fulfil_form, 422)
    needs.report(
        caller,
        need_id,
        NeedAction.FULFIL,
        note=result.model.note,
        amount=result.model.amount,
        evidence_name=evidence.save(upload).evidence_id if upload else None,
    )
    return redirect(request, f"/market/needs/{need_id}?done=fulfilled_ok")


@router.post("/market/needs/{need_id}/transfer")
def request_transfer(
    request: Request, need_id: str, form: CheckedForm, caller: Claimant, needs: Needs
) -> Response:
    """Ask the holder of a claimed need to hand it over (answered, or through after the
    configured hours)."""
    needs.request_transfer(caller, need_id)
    return redirect(request, f"/market/needs/{need_id}?done=transfer_requested_ok")


@router.post("/market/needs/{need_id}/transfers/{transfer_id}/{answer}")
def answer_transfer(
    request: Request,
    need_id: str,
    transfer_id: str,
    answer: Literal["approve", "decline"],
    form: CheckedForm,
    caller: Holder,
    needs: Needs,
) -> Response:
    """The holder hands the need over (approve) or keeps it (decline)."""
    needs.answer_transfer(caller, need_id, transfer_id, approve=answer == "approve")
    done = "transfer_approved_ok" if answer == "approve" else "transfer_declined_ok"
    return redirect(request, f"/market/needs/{need_id}?done={done}")


# --- the organisation's own profile ---------------------------------------------------------

ProfileEditor = Annotated[Caller, Depends(page_caller_for(Action.EDIT_OWN_HELPER))]


class ProfileForm(BaseModel):
    """The profile form's text fields (the API's HelperChange for what an organisation keeps);
    its capabilities come as checkboxes."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=2, max_length=1000)
    capacity: int = Field(ge=0, le=10_000)


def _profile_page(
    request: Request, profile: HelperView, form: FormResult[ProfileForm], status: int = 200
) -> Response:
    context = {
        "profile": profile,
        "form": form,
        "categories": [c.value for c in NeedCategory],
        "capability_field": CAPABILITY_FIELD,
    }
    return render(request, "profile.html", context, status)


@router.get("/market/profile")
def profile(request: Request, caller: ProfileEditor, helpers: Helpers) -> Response:
    """The organisation's profile: what it offers and how many claims it can hold at once
    (matching ranks it by these); its name and regions are the registrar's."""
    mine = helpers.get(caller, caller.principal.helper_id or "")
    values = {
        "description": mine.description,
        "capacity": str(mine.capacity),
        **capability_values(mine.capabilities),
    }
    return _profile_page(request, mine, FormResult(values=values))


@router.post("/market/profile")
def update_profile(
    request: Request, form: CheckedForm, caller: ProfileEditor, helpers: Helpers
) -> Response:
    lang = lang_of(request)
    result = parse_form(ProfileForm, form, lang)
    chosen = read_capabilities(result, form, lang)
    helper_id = caller.principal.helper_id or ""
    if result.model is None or not chosen:
        return _profile_page(request, helpers.get(caller, helper_id), result, 422)
    change = HelperChange(
        description=result.model.description, capacity=result.model.capacity, capabilities=chosen
    )
    helpers.update(caller, helper_id, change)
    return redirect(request, "/market/profile?done=saved_ok")

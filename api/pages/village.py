"""Pages of field workers (and officials, for their region): the households of their village,
a household with its members (IDs and phones masked: HouseholdView, MemberView) and the help it
received, needs of the region with the confirm and verify steps, and the form to add a need."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.deps import Households, Needs
from api.households import HouseholdDraft, MemberCreate, MemberDraft, RevealReason
from api.matching import Matching, NeedMatchesView
from api.pages.deps import CheckedForm, page_caller_for
from api.pages.filters import PAGE_SIZE, HouseholdFilter, NeedFilter
from api.pages.forms import FormResult, parse_form
from api.pages.i18n import lang_of
from api.pages.render import redirect, render
from api.policy import Action, can
from api.views import MemberView, RecordPage
from bangfu.vocabulary import (
    Employment,
    Health,
    HouseholdStatus,
    LabourAbility,
    NeedCategory,
    NeedStatus,
    PovertyCause,
    Relation,
    Schooling,
    Sex,
    Urgency,
)
from matching.lifecycle import NeedAction
from matching.needs import Caller, NeedDraft

router = APIRouter(include_in_schema=False)
MAX_MATCHES = 10

Reader = Annotated[Caller, Depends(page_caller_for(Action.READ_HOUSEHOLD))]
Creator = Annotated[Caller, Depends(page_caller_for(Action.CREATE_NEED))]
Confirmer = Annotated[Caller, Depends(page_caller_for(Action.CONFIRM_NEED))]
Verifier = Annotated[Caller, Depends(page_caller_for(Action.VERIFY_NEED))]


@router.get("/village")
def households(
    request: Request,
    caller: Reader,
    service: Households,
    filters: Annotated[HouseholdFilter, Query()],
) -> Response:
    status = filters.status.value if filters.status else None
    page = service.list(caller, filters.region, status, filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "statuses": [s.value for s in HouseholdStatus],
        "has_more": page.page * PAGE_SIZE < page.total,
        "can_write": can(caller.principal, Action.WRITE_HOUSEHOLD),
    }
    return render(request, "village.html", context)


@router.get("/village/households/{household_id}")
def household(request: Request, household_id: str, caller: Reader, service: Households) -> Response:
    detail = service.detail(caller, household_id)
    ledger = service.ledger(caller, household_id)
    context = {
        "detail": detail,
        "ledger": ledger,
        "can_add_need": can(caller.principal, Action.CREATE_NEED),
        "can_edit": can(caller.principal, Action.WRITE_HOUSEHOLD),
        "can_reveal": can(caller.principal, Action.REVEAL_PII),
    }
    return render(request, "household.html", context)


def _need_form(
    request: Request, household_id: str, form: FormResult[NeedDraft], status: int = 200
) -> Response:
    context = {
        "household_id": household_id,
        "form": form,
        "categories": [c.value for c in NeedCategory],
        "urgencies": [u.value for u in Urgency],
    }
    return render(request, "need_form.html", context, status)


@router.get("/village/households/{household_id}/needs/new")
def new_need(request: Request, household_id: str, caller: Creator, service: Households) -> Response:
    service.detail(caller, household_id)  # the 404 page for a household outside the region
    empty: FormResult[NeedDraft] = FormResult(values={"urgency": Urgency.NORMAL.value})
    return _need_form(request, household_id, empty)


@router.post("/village/households/{household_id}/needs/new")
def create_need(
    request: Request, household_id: str, form: CheckedForm, caller: Creator, needs: Needs
) -> Response:
    result = parse_form(NeedDraft, form, lang_of(request))
    if result.model is None:
        return _need_form(request, household_id, result, 422)
    need = needs.create(caller, household_id, result.model)
    return redirect(request, f"/village/needs?status=pending_review&done=need_added#{need.id}")


@router.get("/village/needs")
def region_needs(
    request: Request, caller: Reader, needs: Needs, filters: Annotated[NeedFilter, Query()]
) -> Response:
    query = filters.query((filters.status,) if filters.status else tuple(NeedStatus))
    page = RecordPage.of(needs.browse(caller, query), filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "statuses": [s.value for s in NeedStatus],
        "categories": [c.value for c in NeedCategory],
        "can_confirm": can(caller.principal, Action.CONFIRM_NEED),
        "can_verify": can(caller.principal, Action.VERIFY_NEED),
        "can_match": can(caller.principal, Action.VIEW_MATCHES),
    }
    return render(request, "needs.html", context)


@router.post("/village/needs/{need_id}/confirm")
def confirm(
    request: Request, need_id: str, form: CheckedForm, caller: Confirmer, needs: Needs
) -> Response:
    needs.official_step(caller, need_id, NeedAction.CONFIRM)
    return redirect(request, "/village/needs?done=confirmed_ok")


@router.post("/village/needs/{need_id}/verify")
def verify(
    request: Request, need_id: str, form: CheckedForm, caller: Verifier, needs: Needs
) -> Response:
    needs.official_step(caller, need_id, NeedAction.VERIFY)
    return redirect(request, "/village/needs?done=verified_ok")


# --- households and members: add and edit ----------------------------------------------------

Writer = Annotated[Caller, Depends(page_caller_for(Action.WRITE_HOUSEHOLD))]
_MONEY = (
    "income_wage",
    "income_farm",
    "income_business",
    "income_transfer",
    "income_assets",
    "spend_medical",
    "spend_education",
)


def _household_form(
    request: Request,
    form: FormResult[HouseholdDraft],
    household_id: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "form": form,
        "household_id": household_id,
        "causes": [c.value for c in PovertyCause],
        "money": _MONEY,
    }
    return render(request, "household_form.html", context, status)


def _checkboxes(form: dict[str, str], *names: str) -> dict[str, str]:
    """An unticked checkbox sends nothing: that means "no", not the model's default."""
    return {**form, **{n: "true" if form.get(n) else "false" for n in names}}


@router.get("/village/new-household")
def new_household(request: Request, caller: Writer) -> Response:
    own = caller.principal.region_code or ""
    values = {"village_code": own if len(own) == 12 else "", "housing_safe": "true"}
    values["water_safe"] = "true"
    return _household_form(request, FormResult(values=values))


@router.post("/village/new-household")
def create_household(
    request: Request, form: CheckedForm, caller: Writer, service: Households
) -> Response:
    fields = _checkboxes(form, "housing_safe", "water_safe")
    result = parse_form(HouseholdDraft, fields, lang_of(request))
    if result.model is None:
        return _household_form(request, result, status=422)
    view = service.create(caller, result.model)
    return redirect(request, f"/village/households/{view.id}?done=saved_ok")


@router.get("/village/households/{household_id}/edit")
def edit_household(
    request: Request, household_id: str, caller: Writer, service: Households
) -> Response:
    view = service.detail(caller, household_id).household
    values = {k: str(v) for k, v in view.model_dump().items() if v is not None}
    values["phone"] = ""  # shown masked on the page; blank keeps it
    for name in ("housing_safe", "water_safe"):
        values[name] = "true" if getattr(view, name) else ""
    return _household_form(request, FormResult(values=values), household_id)


@router.post("/village/households/{household_id}/edit")
def update_household(
    request: Request, household_id: str, form: CheckedForm, caller: Writer, service: Households
) -> Response:
    current = service.detail(caller, household_id).household
    fields = {
        **_checkboxes(form, "housing_safe", "water_safe"),
        "village_code": current.village_code,
    }
    result = parse_form(HouseholdDraft, fields, lang_of(request))
    if result.model is None:
        return _household_form(request, result, household_id, 422)
    service.update(caller, household_id, result.model)
    return redirect(request, f"/village/households/{household_id}?done=saved_ok")


def _member_form(
    request: Request,
    household_id: str,
    form: FormResult[MemberDraft] | FormResult[MemberCreate],
    member: MemberView | None = None,
    status: int = 200,
) -> Response:
    context = {
        "form": form,
        "household_id": household_id,
        "member": member,
        "choices": {
            "sex": [v.value for v in Sex],
            "relation": [v.value for v in Relation],
            "health": [v.value for v in Health],
            "schooling": [v.value for v in Schooling],
            "labour_ability": [v.value for v in LabourAbility],
            "employment": [v.value for v in Employment],
        },
    }
    return render(request, "member_form.html", context, status)


@router.get("/village/households/{household_id}/members/new")
def new_member(
    request: Request, household_id: str, caller: Writer, service: Households
) -> Response:
    service.detail(caller, household_id)  # the 404 page outside the region
    return _member_form(request, household_id, FormResult(values={"disability_grade": "0"}))


@router.post("/village/households/{household_id}/members/new")
def create_member(
    request: Request, household_id: str, form: CheckedForm, caller: Writer, service: Households
) -> Response:
    result = parse_form(MemberCreate, form, lang_of(request))
    if result.model is None:
        return _member_form(request, household_id, result, status=422)
    service.add_member(caller, household_id, result.model)
    return redirect(request, f"/village/households/{household_id}?done=saved_ok")


@router.get("/village/households/{household_id}/members/{person_id}/edit")
def edit_member(
    request: Request, household_id: str, person_id: str, caller: Writer, service: Households
) -> Response:
    member = service.member(caller, household_id, person_id)
    values = {k: str(v) for k, v in member.model_dump().items() if v is not None}
    return _member_form(request, household_id, FormResult(values=values), member)


@router.post("/village/households/{household_id}/members/{person_id}/edit")
def update_member(
    request: Request,
    household_id: str,
    person_id: str,
    form: CheckedForm,
    caller: Writer,
    service: Households,
) -> Response:
    result = parse_form(MemberDraft, form, lang_of(request))
    if result.model is None:
        member = service.member(caller, household_id, person_id)
        return _member_form(request, household_id, result, member, 422)
    service.update_member(caller, household_id, person_id, result.model)
    return redirect(request, f"/village/households/{household_id}?done=saved_ok")


# --- the audited reveal of a member's identifiers ------------------------------------------

Revealer = Annotated[Caller, Depends(page_caller_for(Action.REVEAL_PII))]


def _reveal_form(
    request: Request,
    household_id: str,
    member: MemberView,
    form: FormResult[RevealReason],
    status: int = 200,
) -> Response:
    context = {"household_id": household_id, "member": member, "form": form}
    return render(request, "reveal.html", context, status)


@router.get("/village/households/{household_id}/members/{person_id}/reveal")
def reveal_form(
    request: Request, household_id: str, person_id: str, caller: Revealer, service: Households
) -> Response:
    """Asks why before anything is shown: the reason goes into the audit trail."""
    member = service.member(caller, household_id, person_id)
    return _reveal_form(request, household_id, member, FormResult(values={}))


@router.post("/village/households/{household_id}/members/{person_id}/reveal")
def reveal(
    request: Request,
    household_id: str,
    person_id: str,
    form: CheckedForm,
    caller: Revealer,
    service: Households,
) -> Response:
    """The plaintext identifiers, on this answer only (no redirect: they never sit in a URL or
    a page that can be fetched again; pages are no-store)."""
    result = parse_form(RevealReason, form, lang_of(request))
    member = service.member(caller, household_id, person_id)
    if result.model is None:
        return _reveal_form(request, household_id, member, result, 422)
    revealed = service.reveal(caller, household_id, person_id, result.model)
    context = {"household_id": household_id, "member": member, "revealed": revealed}
    return render(request, "revealed.html", context)


# --- matching: the best helpers for an open need --------------------------------------------

Matcher = Annotated[Caller, Depends(page_caller_for(Action.VIEW_MATCHES))]


@router.get("/village/needs/{need_id}/matches")
def need_matches(request: Request, need_id: str, caller: Matcher, matching: Matching) -> Response:
    """Ranked helpers for an open need with each factor's share (NeedMatchesView, the view the
    API gives officials and field workers); 409 page for a need that is not open."""
    view = NeedMatchesView.of(matching.matches_for_need(caller, need_id, MAX_MATCHES))
    return render(request, "matches.html", {"view": view})

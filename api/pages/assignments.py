"""Assignment proposals (帮扶分配方案) for officials: the proposals of their region, a form to
propose for it (or a region inside it), one proposal with its summary and its items a page at a
time, and the acceptance that has a worker claim each item for its helper. Same services as
the API's /assignments routes; items are ProposalItemCardView, needs de-identified as helpers
see them (no household, names, ID numbers or phones). A proposal a worker is still computing,
or whose acceptance is still running, polls itself with htmx every few seconds."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.matching import Acceptance, Matching, ProposalDetailView, ProposalPageView
from api.pages.deps import CheckedForm, page_caller_for
from api.pages.filters import PAGE_SIZE, REGION_PATTERN, Filter
from api.pages.forms import FormResult, field_message, parse_form
from api.pages.i18n import lang_of
from api.pages.render import redirect, render
from api.policy import Action, can
from matching.needs import Caller

router = APIRouter(include_in_schema=False)

Proposer = Annotated[Caller, Depends(page_caller_for(Action.PROPOSE_ASSIGNMENT))]
Accepter = Annotated[Caller, Depends(page_caller_for(Action.ACCEPT_ASSIGNMENT))]

# Statuses a worker is still moving on: the page reloads its content until they change.
IN_PROGRESS = frozenset({"computing", "writing", "accepting"})
POLL_SECONDS = 3


class AssignmentForm(BaseModel):
    """The page's proposal form: the region (blank: the caller's own); top_k and min_share are
    left at the settings' defaults, as the API does when they are omitted."""

    model_config = ConfigDict(extra="forbid")

    region_code: str | None = Field(default=None, pattern=REGION_PATTERN)


def _list_page(
    request: Request,
    caller: Caller,
    matching: Matching,
    filters: Filter,
    form: FormResult[AssignmentForm] | None = None,
    status: int = 200,
) -> Response:
    result = matching.proposals(caller, filters.skip, PAGE_SIZE)
    page = ProposalPageView.of(result, filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "has_more": page.page * PAGE_SIZE < page.total,
        "form": form or FormResult(values={}),
    }
    return render(request, "assignments.html", context, status)


@router.get("/assignments")
def proposals(
    request: Request, caller: Proposer, matching: Matching, filters: Annotated[Filter, Query()]
) -> Response:
    return _list_page(request, caller, matching, filters)


@router.post("/assignments")
def propose(request: Request, form: CheckedForm, caller: Proposer, matching: Matching) -> Response:
    """Propose for the caller's region or one inside it, as the API's POST /assignments; a
    region with more open needs than a request computes is queued for a worker, and its page
    says so until the proposal is ready."""
    lang = lang_of(request)
    result = parse_form(AssignmentForm, form, lang)
    region = result.model.region_code if result.model else None
    if result.model is not None and region is None:
        region = caller.principal.region_code
        if region is None:
            # An admin has no region of their own: "blank for your region" means nothing.
            result.errors["region_code"] = field_message("missing", None, lang)
            result.model = None
    if result.model is None or region is None:
        return _list_page(request, caller, matching, Filter(), result, 422)
    made = matching.propose_assignment(caller, region)
    done = "assignment_queued_ok" if made.status == "computing" else "assignment_proposed_ok"
    return redirect(request, f"/assignments/{quote(made.id, safe='')}?done={done}")


@router.get("/assignments/{proposal_id}")
def proposal(
    request: Request,
    proposal_id: str,
    caller: Proposer,
    matching: Matching,
    filters: Annotated[Filter, Query()],
) -> Response:
    result = matching.proposal_with_cards(caller, proposal_id, filters.skip, PAGE_SIZE)
    detail = ProposalDetailView.of(result, filters.page, PAGE_SIZE)
    context = {
        "p": detail.proposal,
        "cards": detail.cards,
        "has_more": filters.page * PAGE_SIZE < detail.proposal.items_total,
        "in_progress": detail.proposal.status in IN_PROGRESS,
        "poll_seconds": POLL_SECONDS,
        "can_accept": can(caller.principal, Action.ACCEPT_ASSIGNMENT),
    }
    return render(request, "assignment.html", context)


@router.post("/assignments/{proposal_id}/accept")
def accept(
    request: Request, proposal_id: str, form: CheckedForm, caller: Accepter, acceptance: Acceptance
) -> Response:
    """Accept, as the API's POST /assignments/{id}/accept: a worker claims each item; a
    proposal that is not 'proposed' (accepted already, still computing) is the 409 page."""
    acceptance.accept(caller, proposal_id)
    return redirect(
        request, f"/assignments/{quote(proposal_id, safe='')}?done=assignment_accepted_ok"
    )

"""Exits (脱贫退出 / 贫困村出列) for officials: the proposals of their region, one proposal with
what it was judged on (income against the line and each of 两不愁三保障; a village's poverty
incidence), the run that computes proposals, and the county's decision. Proposals are ExitView,
the view the API gives (a household is named by its id: no ID numbers or phones); who may decide
is verification/exits.py's rule (officials of a county or above), so a town official reads the
state only and a posted decision of theirs is the 403 page (audited by the service)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.exits import ExitsDep, ExitView, ProposalRequest
from api.pages.deps import CheckedForm, page_caller_for
from api.pages.filters import PAGE_SIZE, ExitFilter
from api.pages.forms import FormResult, field_message, parse_form
from api.pages.i18n import lang_of
from api.pages.render import redirect, render
from api.policy import Action, can
from api.verification import Verification
from bangfu.vocabulary import ExitKind, ExitStatus, FindingStatus
from graph.models import ExitQuery, FindingQuery
from matching.needs import Caller
from verification.exits import VILLAGE_MAX_INCIDENCE, ExitDecision, may_decide

router = APIRouter(include_in_schema=False)

Reader = Annotated[Caller, Depends(page_caller_for(Action.READ_EXITS))]
Proposer = Annotated[Caller, Depends(page_caller_for(Action.PROPOSE_EXITS))]
Decider = Annotated[Caller, Depends(page_caller_for(Action.DECIDE_EXIT))]


def _list_page(
    request: Request,
    caller: Caller,
    exits: ExitsDep,
    filters: ExitFilter,
    proposal_form: FormResult[ProposalRequest] | None = None,
    status: int = 200,
) -> Response:
    query = ExitQuery(
        kind=filters.kind.value if filters.kind else None,
        statuses=(filters.status.value,) if filters.status else (),
        region_code=filters.region,
        skip=filters.skip,
        limit=PAGE_SIZE,
    )
    page = exits.list(caller, query, filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "kinds": [k.value for k in ExitKind],
        "statuses": [s.value for s in ExitStatus],
        "has_more": page.page * PAGE_SIZE < page.total,
        "can_propose": can(caller.principal, Action.PROPOSE_EXITS),
        "proposal_form": proposal_form or FormResult(values={}),
    }
    return render(request, "exits.html", context, status)


@router.get("/exits")
def proposals(
    request: Request, caller: Reader, exits: ExitsDep, filters: Annotated[ExitFilter, Query()]
) -> Response:
    return _list_page(request, caller, exits, filters)


@router.post("/exits/proposals")
def propose(request: Request, form: CheckedForm, caller: Proposer, exits: ExitsDep) -> Response:
    """Compute the proposals of the caller's region (or a region inside it) now, as the API's
    POST /exits/proposals; proposing again adds none and keeps every decision."""
    lang = lang_of(request)
    result = parse_form(ProposalRequest, form, lang)
    if result.model is not None and not result.model.region and not caller.principal.region_code:
        # An admin has no region of their own: "blank for your region" means nothing for them.
        result.errors["region"] = field_message("missing", None, lang)
        result.model = None
    if result.model is None:
        return _list_page(request, caller, exits, ExitFilter(), result, 422)
    exits.propose(caller, result.model)
    return redirect(request, "/exits?status=proposed&done=exits_proposed_ok")


def _open_tasks(caller: Caller, verification: Verification, proposal: ExitView) -> int | None:
    """Verification tasks of the household or village open now (a proposal is only made when
    none is open, but one may have opened since); None for a role that may not read them."""
    if not can(caller.principal, Action.READ_VERIFICATION_TASKS):
        return None
    household = proposal.kind == ExitKind.HOUSEHOLD.value
    query = FindingQuery(
        statuses=(FindingStatus.OPEN.value,),
        region_code=None if household else proposal.subject_id,
        household_id=proposal.subject_id if household else None,
        limit=1,
    )
    return verification.list(caller, query, 1, 1).total


def _proposal_page(
    request: Request,
    caller: Caller,
    proposal: ExitView,
    verification: Verification,
    form: FormResult[ExitDecision] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "exit": proposal,
        "open_tasks": _open_tasks(caller, verification, proposal),
        "max_incidence": VILLAGE_MAX_INCIDENCE,
        "can_decide": can(caller.principal, Action.DECIDE_EXIT) and may_decide(caller.principal),
        "can_read_household": can(caller.principal, Action.READ_HOUSEHOLD),
        "form": form or FormResult(values={}),
    }
    return render(request, "exit.html", context, status)


@router.get("/exits/{proposal_id}")
def proposal(
    request: Request,
    proposal_id: str,
    caller: Reader,
    exits: ExitsDep,
    verification: Verification,
) -> Response:
    return _proposal_page(request, caller, exits.get(caller, proposal_id), verification)


@router.post("/exits/{proposal_id}/decision")
def decide(
    request: Request,
    proposal_id: str,
    form: CheckedForm,
    caller: Decider,
    exits: ExitsDep,
    verification: Verification,
) -> Response:
    """Approve or reject with a note (the API's ExitDecision): the pressed button carries the
    decision, the note field the reason."""
    result = parse_form(ExitDecision, form, lang_of(request))
    if result.model is None:
        current = exits.get(caller, proposal_id)
        return _proposal_page(request, caller, current, verification, result, 422)
    decided = exits.decide(caller, proposal_id, result.model)
    done = "exit_approved_ok" if decided.status == ExitStatus.APPROVED.value else "exit_rejected_ok"
    return redirect(request, f"/exits/{quote(proposal_id, safe='')}?done={done}")

"""Exits (退出): households meeting the income line and 两不愁三保障, villages for 出列; officials
review and decide. Thin: policy dependency, one call (api/exits.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Pagination, caller_for
from api.exits import ExitPageView, ExitsDep, ExitView, ProposalRequest
from api.policy import Action
from api.verification import REGION_PATTERN
from bangfu.vocabulary import ExitKind, ExitStatus
from graph.models import ExitQuery
from matching.needs import Caller
from verification.exit_service import ProposalRun
from verification.exits import ExitDecision

router = APIRouter(prefix="/exits", tags=["exits"])

Proposer = Annotated[Caller, Depends(caller_for(Action.PROPOSE_EXITS))]
Reader = Annotated[Caller, Depends(caller_for(Action.READ_EXITS))]
Decider = Annotated[Caller, Depends(caller_for(Action.DECIDE_EXIT))]


@router.post("/proposals", response_model=ProposalRun)
def propose(body: ProposalRequest, caller: Proposer, exits: ExitsDep) -> ProposalRun:
    """Judge the region's poor and monitored households and its villages now; proposing again
    adds no duplicate and keeps every decision."""
    return exits.propose(caller, body)


@router.get("/proposals", response_model=ExitPageView)
def list_proposals(
    caller: Reader,
    exits: ExitsDep,
    page: Pagination,
    kind: ExitKind | None = None,
    status: Annotated[list[ExitStatus] | None, Query()] = None,
    region: Annotated[str | None, Query(pattern=REGION_PATTERN)] = None,
) -> ExitPageView:
    query = ExitQuery(
        kind=kind.value if kind else None,
        statuses=tuple(s.value for s in status or ()),
        region_code=region,
        skip=page.skip,
        limit=page.page_size,
    )
    return exits.list(caller, query, page.page, page.page_size)


@router.get("/proposals/{proposal_id}", response_model=ExitView)
def get_proposal(proposal_id: str, caller: Reader, exits: ExitsDep) -> ExitView:
    return exits.get(caller, proposal_id)


@router.post("/proposals/{proposal_id}/decision", response_model=ExitView)
def decide(proposal_id: str, body: ExitDecision, caller: Decider, exits: ExitsDep) -> ExitView:
    """Approve (the household exits / the village 出列) or reject, with a note (county
    officials and above)."""
    return exits.decide(caller, proposal_id, body)

"""Matching: ranked helpers for a need, recommended needs for a helper, assignment proposals and
screening. Thin: the policy dependency admits the role and brings the caller's scope, then one
service call; out-of-scope records read as 404 like missing ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.deps import Pagination, caller_for
from api.matching import (
    Acceptance,
    AssignmentRequest,
    HelperRecommendationsView,
    Matching,
    NeedMatchesView,
    ProposalPageView,
    ProposalView,
    ScreeningView,
)
from api.policy import Action
from graph.models import Job
from matching.needs import Caller

router = APIRouter(tags=["matching"])

Matcher = Annotated[Caller, Depends(caller_for(Action.VIEW_MATCHES))]
Recommended = Annotated[Caller, Depends(caller_for(Action.VIEW_RECOMMENDATIONS))]
Proposer = Annotated[Caller, Depends(caller_for(Action.PROPOSE_ASSIGNMENT))]
Accepter = Annotated[Caller, Depends(caller_for(Action.ACCEPT_ASSIGNMENT))]
Screener = Annotated[Caller, Depends(caller_for(Action.SCREEN_NEED))]
RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/needs/{need_id}/matches", response_model=NeedMatchesView)
def need_matches(
    need_id: RecordId,
    caller: Matcher,
    matching: Matching,
    limit: Annotated[int, Query(ge=1, le=50, description="how many helpers")] = 10,
) -> NeedMatchesView:
    """The best helpers for an open need, each with its factors (推荐帮扶主体及理由);
    409 need_not_open for a need in any other status."""
    return NeedMatchesView.of(matching.matches_for_need(caller, need_id, limit))


@router.get("/helpers/{helper_id}/recommendations", response_model=HelperRecommendationsView)
def helper_recommendations(
    helper_id: RecordId,
    caller: Recommended,
    matching: Matching,
    limit: Annotated[int, Query(ge=1, le=100, description="how many needs")] = 20,
) -> HelperRecommendationsView:
    """The best open needs for a helper, de-identified (为帮扶主体推荐需求). A helper login asks
    for itself only; officials see the needs of their own region."""
    return HelperRecommendationsView.of(
        matching.recommendations_for_helper(caller, helper_id, limit)
    )


@router.post("/assignments", response_model=ProposalView, status_code=status.HTTP_201_CREATED)
def propose_assignment(
    body: AssignmentRequest, caller: Proposer, matching: Matching
) -> ProposalView:
    """A capacity-constrained, village-fair assignment of the region's open needs, stored as a
    proposal (分配方案) for an official to accept; nothing is claimed. Computed at once for
    regions up to `sync_assignment_max_needs` open needs; a bigger region is computed by a
    worker: the answer reads status 'computing' (no summary, no items) until GET /assignments/{id}
    reads 'proposed' (or 'failed'). The answer carries the summary and the first 100 items; GET
    pages through the rest."""
    return ProposalView.of(
        matching.propose_assignment(caller, body.region_code, body.top_k, body.min_share)
    )


@router.get("/assignments", response_model=ProposalPageView)
def list_assignments(caller: Proposer, matching: Matching, page: Pagination) -> ProposalPageView:
    """The assignment proposals of the caller's region (and regions inside it), newest first,
    with their status, who proposed and accepted them and their summary; items are read with
    GET /assignments/{id}."""
    result = matching.proposals(caller, page.skip, page.page_size)
    return ProposalPageView.of(result, page.page, page.page_size)


@router.get("/assignments/{proposal_id}", response_model=ProposalView)
def get_assignment(
    proposal_id: RecordId, caller: Proposer, matching: Matching, page: Pagination
) -> ProposalView:
    """A stored proposal with one page of its items (in need id order)."""
    result = matching.proposal(caller, proposal_id, page.skip, page.page_size)
    return ProposalView.of(result, page.page, page.page_size)


@router.post(
    "/assignments/{proposal_id}/accept",
    response_model=Job,
    status_code=status.HTTP_202_ACCEPTED,
)
def accept_assignment(proposal_id: RecordId, caller: Accepter, acceptance: Acceptance) -> Job:
    """Accept a proposal: a background job claims each item for its helper with every check a
    helper's own claim gets; items that no longer fit are skipped with the reason. Poll
    GET /jobs/{id}; GET /assignments/{id} then reads 'accepted'. 409 when not 'proposed'."""
    return acceptance.accept(caller, proposal_id)


@router.get("/needs/{need_id}/screening", response_model=ScreeningView)
def screen_need(need_id: RecordId, caller: Screener, matching: Matching) -> ScreeningView:
    """Flags for the reviewer (审核前筛查): near-duplicates in the household or village and
    implausible amounts, each with its reason. The reviewer decides."""
    report = matching.screen(caller, need_id)
    return ScreeningView(
        need_id=report.need_id, compared_with=report.compared_with, flags=report.flags
    )

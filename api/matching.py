"""Matching for the routes: the service dependency and one response model per audience.

- `NeedMatchesView`: officials, field workers and admins of the need's region. Names helpers
  (organisations, not persons) with their remaining capacity and every factor of their score.
- `HelperRecommendationsView`: the helper itself, or officials and admins looking at what it is
  shown. Needs are de-identified like `NeedCard` (no household, names, IDs, phones or addresses
  below the village; ID- and phone-shaped text blanked), whoever asks.
- `ProposalView`, `ProposalPageView`, `ScreeningView`: officials of the region.
- `ProposalItemCardView`: the pages' items of a proposal; needs de-identified like NeedCard.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Graph
from api.views import CONTACT_NOTE_EN, CONTACT_NOTE_ZH, scrub
from bangfu.errors import BangfuError, ServiceUnavailableError
from bangfu.settings import get_settings
from bangfu.vocabulary import label_zh
from graph.models import AuditEntry, Job
from graph.repositories.audit import AuditRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.matching import MatchingRepository, ProposalItemCard
from matching.needs import Caller
from matching.ranking import Contribution
from matching.screening import ScreeningFlag
from matching.service import (
    AssignmentProposal,
    AssignmentSummary,
    HelperMatch,
    HelperRecommendations,
    MatchingService,
    NeedMatches,
    NeedRecommendation,
    ProposalOverview,
    ProposalPage,
    ProposalWithCards,
)
from workers.dispatch import start_job, start_proposal
from workers.jobs import create_acceptance_job
from workers.shown import shown_buffer


def matching_service(graph: Graph) -> MatchingService:
    repo = MatchingRepository(graph)

    def compute_in_worker(proposal_id: str) -> None:
        # Sent after the proposal was stored. With the broker unreachable it is marked failed at
        # once (not left 'computing' for ever) and the official is told to try again.
        if not start_proposal(proposal_id):
            repo.fail_proposal(proposal_id)
            raise ServiceUnavailableError(
                "the task queue is unreachable: the proposal was not computed; try again later",
                message_zh="任务队列暂不可用，分配方案未能计算，请稍后重试",
            )

    return MatchingService(
        repo,
        get_settings().matching,
        AuditRepository(graph),
        on_shown=shown_buffer().push,
        on_proposal_queued=compute_in_worker,
    )


Matching = Annotated[MatchingService, Depends(matching_service)]


class AcceptanceService:
    """An official accepts a proposal: it is marked accepted (once; a second acceptance is a
    409), the decision audited, and a background job turns its items into claims."""

    def __init__(
        self, jobs: JobRepository, matching: MatchingRepository, audit: AuditRepository
    ) -> None:
        self.jobs = jobs
        self.matching = matching
        self.audit = audit

    def accept(self, caller: Caller, proposal_id: str) -> Job:
        proposal = self.matching.proposal(proposal_id, caller.prefixes, 0, 0)  # 404 outside
        job = create_acceptance_job(self.jobs, caller.principal, proposal_id, proposal.region_code)
        try:
            self.matching.begin_acceptance(
                proposal_id, caller.prefixes, caller.principal.user_id, job.id, datetime.now(UTC)
            )
        except BangfuError as exc:
            self.jobs.fail(job.id, exc.code)  # no orphaned queued job
            raise
        self.audit.append(
            AuditEntry(
                actor_id=caller.principal.user_id,
                actor_role=caller.principal.role.value,
                action="assignment.accept",
                subject_type="assignment_proposal",
                subject_id=proposal_id,
                after={"job_id": job.id, "items": proposal.items_total},
                request_id=caller.request_id,
            )
        )
        start_job(job.id, job.kind)  # after commit
        return job


def acceptance_service(graph: Graph) -> AcceptanceService:
    return AcceptanceService(
        JobRepository(graph), MatchingRepository(graph), AuditRepository(graph)
    )


Acceptance = Annotated[AcceptanceService, Depends(acceptance_service)]


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class FactorView(View):
    factor: str
    label_zh: str
    label_en: str
    value: float = Field(description="the factor's value for this pair, 0 to 1")
    weight: float
    contribution: float = Field(description="value x weight; the score is their sum")

    @classmethod
    def of(cls, c: Contribution) -> FactorView:
        return cls(
            factor=c.factor.value,
            label_zh=c.label_zh,
            label_en=c.label_en,
            value=c.value,
            weight=c.weight,
            contribution=c.contribution,
        )


class HelperMatchView(View):
    rank: int
    helper_id: str
    name: str
    kind: str
    kind_zh: str
    score: float
    remaining_capacity: int
    paired: bool
    factors: list[FactorView]

    @classmethod
    def of(cls, m: HelperMatch) -> HelperMatchView:
        return cls(
            rank=m.rank,
            helper_id=m.helper.id,
            name=m.helper.name,
            kind=m.helper.kind,
            kind_zh=label_zh(m.helper.kind),
            score=m.score,
            remaining_capacity=m.remaining_capacity,
            paired=m.helper.paired,
            factors=[FactorView.of(c) for c in m.factors],
        )


class NeedMatchesView(View):
    need_id: str
    category: str
    category_zh: str
    village_code: str
    urgency: str
    candidates: int = Field(description="helpers that could take the need")
    excluded_full: int = Field(description="candidates left out because they are at capacity")
    text_model: str | None
    items: list[HelperMatchView]

    @classmethod
    def of(cls, result: NeedMatches) -> NeedMatchesView:
        need = result.need
        return cls(
            need_id=need.id,
            category=need.category,
            category_zh=label_zh(need.category),
            village_code=need.village_code,
            urgency=need.urgency,
            candidates=result.candidates,
            excluded_full=result.excluded_full,
            text_model=result.text_model,
            items=[HelperMatchView.of(m) for m in result.matches],
        )


class RecommendedNeedCard(View):
    """A recommended need, de-identified (same fields as NeedCard, no household)."""

    rank: int
    score: float
    id: str
    category: str
    category_zh: str
    kind: str | None
    title: str
    text: str
    amount: float
    urgency: str
    created_at: date
    village_code: str
    paired: bool = Field(description="the household is paired (结对) with this helper")
    factors: list[FactorView]
    contact_note: str = CONTACT_NOTE_ZH
    contact_note_en: str = CONTACT_NOTE_EN

    @classmethod
    def of(cls, r: NeedRecommendation) -> RecommendedNeedCard:
        need = r.need
        return cls(
            rank=r.rank,
            score=r.score,
            id=need.id,
            category=need.category,
            category_zh=label_zh(need.category),
            kind=need.kind,
            title=scrub(need.title),
            text=scrub(need.text),
            amount=need.amount,
            urgency=need.urgency,
            created_at=need.created_at,
            village_code=need.village_code,
            paired=need.paired,
            factors=[FactorView.of(c) for c in r.factors],
        )


class HelperRecommendationsView(View):
    helper_id: str
    name: str
    remaining_capacity: int
    candidates: int = Field(description="open needs the helper could take, as scored")
    capped: bool = Field(description="more candidates than were scored (most urgent kept)")
    without_text: int = Field(description="candidates not yet embedded (text similarity 0)")
    text_model: str | None
    items: list[RecommendedNeedCard]

    @classmethod
    def of(cls, result: HelperRecommendations) -> HelperRecommendationsView:
        return cls(
            helper_id=result.helper.id,
            name=result.helper.name,
            remaining_capacity=result.remaining_capacity,
            candidates=result.candidates,
            capped=result.capped,
            without_text=result.without_text,
            text_model=result.text_model,
            items=[RecommendedNeedCard.of(r) for r in result.recommendations],
        )


class AssignmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str = Field(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")
    top_k: int | None = Field(default=None, ge=1, le=50, description="candidate edges per need")
    min_share: float | None = Field(
        default=None, ge=0, le=1, description="fairness guard: protected share of each village"
    )


class ProposalItemView(View):
    need_id: str
    helper_id: str
    score: float
    outcome: str | None = Field(
        default=None,
        description="after acceptance: 'claimed', or the code of the check that refused it",
    )


class ProposalFields(View):
    """What every view of a proposal carries: status, who proposed and accepted it, figures."""

    id: str
    region_code: str
    region_name: str | None
    status: str = Field(description="computing, writing, proposed, accepting, accepted, failed")
    created_at: datetime
    created_by: str = Field(description="the proposing user's id")
    summary: AssignmentSummary | None = Field(description="null while a worker computes it")
    accepted_by: str | None
    accepted_at: datetime | None
    claimed: int | None = Field(description="items claimed, once the acceptance finished")
    skipped: int | None = Field(description="items that no longer fitted, once it finished")


def _proposal_fields(p: ProposalOverview) -> dict[str, Any]:
    return {name: getattr(p, name) for name in ProposalFields.model_fields}


class ProposalSummaryView(ProposalFields):
    """A proposal in a list."""

    @classmethod
    def of(cls, p: ProposalOverview) -> ProposalSummaryView:
        return cls(**_proposal_fields(p))


class ProposalPageView(View):
    items: list[ProposalSummaryView] = Field(description="newest first")
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, result: ProposalPage, page: int, page_size: int) -> ProposalPageView:
        return cls(
            items=[ProposalSummaryView.of(p) for p in result.items],
            total=result.total,
            page=page,
            page_size=page_size,
        )


class ProposalItemCardView(View):
    """An item as the pages show it: the need de-identified like NeedCard (title with ID- and
    phone-shaped text blanked, category, village), the helper's name, score, outcome."""

    need_id: str
    title: str
    category: str
    category_zh: str
    urgency: str
    village_code: str
    village_name: str | None
    helper_id: str
    helper_name: str | None
    score: float
    outcome: str | None

    @classmethod
    def of(cls, card: ProposalItemCard) -> ProposalItemCardView:
        return cls(
            need_id=card.need_id,
            title=scrub(card.title),
            category=card.category,
            category_zh=label_zh(card.category),
            urgency=card.urgency,
            village_code=card.village_code,
            village_name=card.village_name,
            helper_id=card.helper_id,
            helper_name=card.helper_name,
            score=card.score,
            outcome=card.outcome,
        )


class ProposalView(ProposalFields):
    """A proposal: nothing is claimed until an official accepts it. Items come a page at a time
    (a province-wide proposal from the command line holds ~190k)."""

    items: list[ProposalItemView]
    items_total: int
    helpers_used: int | None = Field(description="distinct helpers among the items")
    page: int
    page_size: int

    @classmethod
    def of(cls, p: AssignmentProposal, page: int = 1, page_size: int = 100) -> ProposalView:
        """`p.items` holds either every item (a fresh proposal: the page is cut here) or the
        requested page already (a stored one)."""
        items = p.items
        if len(items) == p.items_total:
            items = sorted(items, key=lambda i: i.need_id)
            items = items[(page - 1) * page_size : page * page_size]
        return cls(
            **_proposal_fields(p),
            items=[
                ProposalItemView(
                    need_id=i.need_id, helper_id=i.helper_id, score=i.score, outcome=i.outcome
                )
                for i in items
            ],
            items_total=p.items_total,
            helpers_used=p.helpers_used,
            page=page,
            page_size=page_size,
        )


class ProposalDetailView(View):
    """The pages' proposal: the proposal with no items, and one page of item cards."""

    proposal: ProposalView
    cards: list[ProposalItemCardView]

    @classmethod
    def of(cls, result: ProposalWithCards, page: int, page_size: int) -> ProposalDetailView:
        return cls(
            proposal=ProposalView.of(result.proposal, page, page_size),
            cards=[ProposalItemCardView.of(c) for c in result.cards],
        )


class ScreeningView(View):
    need_id: str
    compared_with: int
    flags: list[ScreeningFlag]

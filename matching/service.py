"""The matching service: explained recommendations in both directions, assignment proposals,
screening and embeddings, reading and writing through graph/ (MatchingRepository) and scoring
with the pure modules (ranking, assignment, screening).

Scope: every call carries the caller's region prefixes (api/policy.py decides them); a need, a
helper or a region outside them is "not found", the same answer as for one that does not exist.

Embeddings are stored on the nodes and made by the batch command (`bangfu matching embed`: new,
changed or stale ones, in chunks). A request only fills in the one need or the few helpers it is
about when the batch has not reached them yet (a need verified minutes ago), and stores them, so
a text is embedded once, never per request. Needs listed for a helper without an embedding score
0 on text similarity until the batch runs.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from bangfu.access import Principal
from bangfu.errors import ConflictError, NotFoundError
from bangfu.settings import MatchingSettings
from graph.models import AuditEntry, ShownPair
from graph.repositories.audit import AuditRepository
from graph.repositories.matching import (
    Embedded,
    EmbeddingRow,
    MatchHelper,
    MatchingRepository,
    MatchNeed,
    ProposalHeader,
    ProposalItem,
    ProposalItemCard,
    StoredProposal,
    TextRow,
)
from matching import screening
from matching.assignment import AssignmentProblem, AssignmentStats, assignment_stats, solve
from matching.encoders import CharNgramTfidfEncoder, Encoder, SentenceTransformerEncoder
from matching.evaluation import LearningScore
from matching.learning import label, learn_from_outcomes
from matching.needs import Caller
from matching.ranking import (
    FACTORS,
    Contribution,
    HelperTable,
    NeedTable,
    Ranked,
    RankingWeights,
    eligible_pairs,
    pair_scores,
    pair_values,
    rank,
)

OPEN = "open"
# Texts a request may embed itself when the batch has not reached them (the need asked about and
# its candidate helpers, ~56 on average at province scale, at most ~100).
_FILL_LIMIT = 200


class NeedNotOpenError(ConflictError):
    code = "need_not_open"
    message_zh = "该需求不是待认领状态"


class RegionTooLargeError(ConflictError):
    code = "region_too_large"
    message_zh = "地区过大，不能即时生成分配方案"


def need_text(title: str, text: str) -> str:
    return f"{title}。{text}" if title else text


def helper_text(name: str, description: str) -> str:
    # Most descriptions open with the name; repeating it would double its words' weight.
    return description if name and name in description else f"{name}。{description}"


def text_source(text: str) -> str:
    """A short fingerprint of the text an embedding was made from (a changed text re-embeds)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- encoders -----------------------------------------------------------------------------------

_encoder_lock = threading.Lock()
_encoder_cache: dict[tuple[str, str, float], Encoder] = {}


def load_encoder(settings: MatchingSettings) -> Encoder | None:
    """The configured encoder, loaded once per process (a refitted TF-IDF artifact is picked up
    by its modification time). None when the TF-IDF artifact has not been fitted yet: ranking
    then runs without the text factor."""
    if settings.encoder == "sentence-transformer":
        key = ("st", settings.model, 0.0)
    else:
        path = Path(settings.tfidf_artifact)
        if not path.exists():
            return None
        key = ("tfidf", str(path), path.stat().st_mtime)
    with _encoder_lock:
        cached = _encoder_cache.get(key)
        if cached is None:
            _encoder_cache.clear()
            cached = (
                SentenceTransformerEncoder(settings.model)
                if key[0] == "st"
                else CharNgramTfidfEncoder.load(Path(key[1]))
            )
            _encoder_cache[key] = cached
        return cached


class AdoptedWeights(BaseModel):
    """Ranking weights learned from recorded outcomes that beat the hand-set ones (the file
    `MatchingSettings.weights_file`; absent means the hand-set weights)."""

    model_config = ConfigDict(frozen=True)

    version: str
    weights: RankingWeights
    outcomes: int
    hand_ndcg_at_10: float
    learned_ndcg_at_10: float
    adopted_at: datetime


_weights_lock = threading.Lock()
_weights_cache: dict[tuple[str, float], RankingWeights] = {}


def load_weights(settings: MatchingSettings) -> RankingWeights:
    """The adopted learned weights when there are any, else the hand-set ones; read once per
    process and again when the file changes."""
    path = Path(settings.weights_file)
    if not path.exists():
        return RankingWeights()
    key = (str(path), path.stat().st_mtime)
    with _weights_lock:
        cached = _weights_cache.get(key)
        if cached is None:
            _weights_cache.clear()
            adopted = AdoptedWeights.model_validate_json(path.read_text(encoding="utf-8"))
            cached = _weights_cache[key] = adopted.weights
        return cached


def shown_pairs(
    need_ids: Sequence[str],
    helper_ids: Sequence[str],
    ranked: Sequence[Ranked],
    surface: str,
    at: datetime,
) -> list[ShownPair]:
    pairs = []
    for need_id, helper_id, r in zip(need_ids, helper_ids, ranked, strict=True):
        by_factor = {c.factor: c.value for c in r.factors}
        pairs.append(
            ShownPair(
                need_id=need_id,
                helper_id=helper_id,
                surface=surface,
                rank=r.rank,
                score=r.score,
                values=tuple(by_factor.get(f, 0.0) for f in FACTORS),
                shown_at=at,
            )
        )
    return pairs


# --- results ------------------------------------------------------------------------------------


class HelperMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    helper: MatchHelper
    rank: int
    score: float
    remaining_capacity: int
    factors: list[Contribution]


class NeedMatches(BaseModel):
    model_config = ConfigDict(frozen=True)

    need: MatchNeed
    matches: list[HelperMatch]
    candidates: int
    excluded_full: int  # candidates at capacity: they could not claim it
    text_model: str | None
    weights: RankingWeights


class NeedRecommendation(BaseModel):
    model_config = ConfigDict(frozen=True)

    need: MatchNeed
    rank: int
    score: float
    factors: list[Contribution]


class HelperRecommendations(BaseModel):
    model_config = ConfigDict(frozen=True)

    helper: MatchHelper
    remaining_capacity: int
    recommendations: list[NeedRecommendation]
    candidates: int
    capped: bool  # more candidates than `needs_per_helper_cap`: the most urgent were scored
    without_text: int  # candidates without an embedding yet (text similarity 0)
    text_model: str | None
    weights: RankingWeights


class AssignmentSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    needs: int
    feasible: int
    assigned: int
    coverage: float
    feasible_coverage: float
    capacity_violations: int
    villages: int
    village_coverage_min: float
    village_coverage_p10: float
    village_coverage_median: float
    starved_villages: int
    mean_score: float
    top_k: int
    min_share: float
    helpers: int
    edges: int
    seconds: float


class ProposalOverview(BaseModel):
    """A proposal without its items: status, who made (and accepted) it, the summary."""

    model_config = ConfigDict(frozen=True)

    id: str
    region_code: str
    region_name: str | None = None
    status: str
    created_at: datetime
    created_by: str
    summary: AssignmentSummary | None  # None while a worker computes it
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    claimed: int | None = None  # when the acceptance finished
    skipped: int | None = None

    @classmethod
    def of(cls, stored: ProposalHeader) -> ProposalOverview:
        return cls(
            id=stored.id,
            region_code=stored.region_code,
            region_name=stored.region_name,
            status=stored.status,
            created_at=stored.created_at,
            created_by=stored.created_by,
            summary=AssignmentSummary.model_validate(stored.summary) if stored.summary else None,
            accepted_by=stored.accepted_by,
            accepted_at=stored.accepted_at,
            claimed=stored.claimed,
            skipped=stored.skipped,
        )


class AssignmentProposal(ProposalOverview):
    items: list[ProposalItem]  # all of them, or one page of a stored proposal
    items_total: int
    helpers_used: int | None = None  # distinct helpers among the items


class ProposalPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[ProposalOverview]  # newest first
    total: int


class ProposalWithCards(BaseModel):
    """A proposal and one page of its items as people read them (the pages' detail)."""

    model_config = ConfigDict(frozen=True)

    proposal: AssignmentProposal
    cards: list[ProposalItemCard]


@dataclass(frozen=True)
class EmbedStats:
    helpers_embedded: int
    needs_embedded: int
    helpers_seen: int
    needs_seen: int
    model: str
    refitted: bool
    seconds: float


def _now() -> datetime:
    return datetime.now(UTC)


def _text_range(encoder: Encoder | None) -> tuple[float, float]:
    return encoder.similarity_range if encoder is not None else (0.0, 1.0)


def scope_regions(service_regions: Sequence[str], prefixes: Sequence[str]) -> list[str]:
    """The parts of a helper's service regions inside the caller's prefixes: a service region
    inside a prefix stays whole, a prefix inside a service region is kept instead; codes inside
    another kept code are dropped."""
    kept: set[str] = set()
    for region in service_regions:
        for prefix in prefixes:
            if region.startswith(prefix):
                kept.add(region)
            elif prefix.startswith(region):
                kept.add(prefix)
    return sorted(c for c in kept if not any(c != o and c.startswith(o) for o in kept))


def helper_table(helpers: Sequence[MatchHelper], embedded: Embedded) -> HelperTable:
    return HelperTable.build(
        ids=[h.id for h in helpers],
        capabilities=[h.capabilities for h in helpers],
        service_regions=[h.service_regions for h in helpers],
        capacity=[h.capacity for h in helpers],
        open_claims=[h.open_claims for h in helpers],
        taken=[h.taken for h in helpers],
        completed=[h.completed for h in helpers],
        fulfil_days=[np.nan if h.fulfil_days is None else h.fulfil_days for h in helpers],
        fulfilled=[h.completed for h in helpers],
        embeddings=embedded.vectors,
    )


def need_table(needs: Sequence[MatchNeed], vectors: NDArray[np.float32]) -> NeedTable:
    return NeedTable.build(
        ids=[n.id for n in needs],
        village_codes=[n.village_code for n in needs],
        categories=[n.category for n in needs],
        urgencies=[n.urgency for n in needs],
        created=[n.created_at for n in needs],
        household_ids=[n.household_id or n.id for n in needs],
        embeddings=vectors,
    )


class MatchingService:
    def __init__(
        self,
        repo: MatchingRepository,
        settings: MatchingSettings,
        audit: AuditRepository | None = None,
        encoder: Callable[[], Encoder | None] | None = None,
        weights: RankingWeights | None = None,
        clock: Callable[[], datetime] = _now,
        on_shown: Callable[[Sequence[ShownPair]], None] | None = None,
        on_proposal_queued: Callable[[str], None] | None = None,
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.audit = audit
        self._encoder = encoder or (lambda: load_encoder(settings))
        self.weights = weights or load_weights(settings)
        self.clock = clock
        # Receives every recommendation shown (the API buffers them in Redis for a worker to
        # record), so that weights can be learned from what people saw and did.
        self.on_shown = on_shown
        # Sends a proposal too big for a request to a worker (after it was stored); without it
        # such a region is refused (RegionTooLargeError) and the command line computes it.
        self.on_proposal_queued = on_proposal_queued

    def encoder(self) -> Encoder | None:
        return self._encoder()

    def today(self) -> date:
        return self.clock().date()

    # --- need -> helpers ---------------------------------------------------------------------

    def matches_for_need(self, caller: Caller, need_id: str, k: int = 10) -> NeedMatches:
        found = self.repo.need(need_id, caller.prefixes)
        need = found.need
        if need.status != OPEN:
            raise NeedNotOpenError(
                f"need {need_id} is {need.status}: only open needs are matched",
                message_zh=f"该需求当前状态为{need.status}，只有待认领的需求才能匹配",
            )
        encoder = self.encoder()
        model = encoder.version if encoder else None
        vector = found.embedding if (model and found.embedding_model == model) else None
        if encoder is not None and vector is None:
            vector = self._embed_needs(encoder, [need])[0]
        candidates = self.repo.helpers_for_need(need, model)
        embedded = candidates.embeddings
        if encoder is not None:
            embedded = self._fill_helpers(encoder, candidates.helpers, embedded)
        helpers = helper_table(candidates.helpers, embedded)
        dim = helpers.embeddings.shape[1]
        vectors = (
            vector[None, :].astype(np.float32)
            if vector is not None and vector.shape[0] == dim
            else np.zeros((1, dim), dtype=np.float32)
        )
        needs = need_table([need], vectors)
        paired = np.array([h.paired for h in candidates.helpers], dtype=bool)
        values = pair_values(
            needs,
            helpers,
            np.zeros(helpers.size, dtype=np.int64),
            np.arange(helpers.size, dtype=np.int64),
            paired,
            self.today(),
            _text_range(encoder),
        )
        remaining = helpers.remaining
        available = np.flatnonzero(remaining > 0)
        ranked = rank(values[available], [helpers.ids[i] for i in available], self.weights, k)
        by_id = {h.id: (h, int(remaining[i])) for i, h in enumerate(candidates.helpers)}
        if self.on_shown is not None and ranked:
            self.on_shown(
                shown_pairs(
                    [need.id] * len(ranked),
                    [r.id for r in ranked],
                    ranked,
                    "need_matches",
                    self.clock(),
                )
            )
        return NeedMatches(
            need=need,
            matches=[
                HelperMatch(
                    helper=by_id[r.id][0],
                    rank=r.rank,
                    score=r.score,
                    remaining_capacity=by_id[r.id][1],
                    factors=r.factors,
                )
                for r in ranked
            ],
            candidates=helpers.size,
            excluded_full=int(helpers.size - available.size),
            text_model=model,
            weights=self.weights,
        )

    # --- helper -> needs ---------------------------------------------------------------------

    def recommendations_for_helper(
        self, caller: Caller, helper_id: str, k: int = 20
    ) -> HelperRecommendations:
        """The best open needs for a helper. A helper login asks for itself only (any other id
        is "not found"); officials and field workers see the needs inside their own region."""
        principal: Principal = caller.principal
        if principal.role.is_helper and principal.helper_id != helper_id:
            raise NotFoundError(f"helper {helper_id} not found", message_zh="未找到该帮扶主体")
        encoder = self.encoder()
        model = encoder.version if encoder else None
        helper, embedded = self.repo.helper(helper_id, model)
        regions = scope_regions(helper.service_regions, caller.prefixes)
        if not regions:
            raise NotFoundError(f"helper {helper_id} not found", message_zh="未找到该帮扶主体")
        if encoder is not None:
            embedded = self._fill_helpers(encoder, [helper], embedded)
        cap = self.settings.needs_per_helper_cap
        found = self.repo.needs_for_helper(helper_id, regions, helper.capabilities, cap, model)
        helpers = helper_table([helper], embedded)
        vectors = found.embeddings.vectors
        if vectors.shape[1] != helpers.embeddings.shape[1]:
            vectors = np.zeros((len(found.needs), helpers.embeddings.shape[1]), dtype=np.float32)
        needs = need_table(found.needs, vectors)
        paired = np.array([n.paired for n in found.needs], dtype=bool)
        values = pair_values(
            needs,
            helpers,
            np.arange(needs.size, dtype=np.int64),
            np.zeros(needs.size, dtype=np.int64),
            paired,
            self.today(),
            _text_range(encoder),
        )
        ranked = rank(values, needs.ids, self.weights, k)
        details = self.repo.need_details([r.id for r in ranked])
        by_id = {n.id: n for n in found.needs}
        if self.on_shown is not None and ranked:
            self.on_shown(
                shown_pairs(
                    [r.id for r in ranked],
                    [helper_id] * len(ranked),
                    ranked,
                    "helper_recommendations",
                    self.clock(),
                )
            )
        return HelperRecommendations(
            helper=helper,
            remaining_capacity=int(helpers.remaining[0]),
            recommendations=[
                NeedRecommendation(
                    need=details.get(r.id, by_id[r.id]).model_copy(
                        update={"paired": by_id[r.id].paired}
                    ),
                    rank=r.rank,
                    score=r.score,
                    factors=r.factors,
                )
                for r in ranked
            ],
            candidates=needs.size,
            capped=needs.size >= cap,
            without_text=int((~found.embeddings.has_embedding).sum()) if model else needs.size,
            text_model=model,
            weights=self.weights,
        )

    # --- assignment ------------------------------------------------------------------------------

    def compute_assignment(
        self, region_code: str, top_k: int, min_share: float
    ) -> tuple[AssignmentSummary, list[ProposalItem]]:
        """Read the region's open needs and the helpers serving it, solve, return the proposal."""
        encoder = self.encoder()
        model = encoder.version if encoder else None
        found = self.repo.open_needs_in_region(region_code, model)
        candidates = self.repo.helpers_for_region(region_code, model)
        helpers = helper_table(candidates.helpers, candidates.embeddings)
        vectors = found.embeddings.vectors
        if vectors.shape[1] != helpers.embeddings.shape[1]:
            vectors = np.zeros((len(found.needs), helpers.embeddings.shape[1]), dtype=np.float32)
        needs = need_table(found.needs, vectors)
        pairs = [(h, n.household_id) for n in found.needs for h in n.paired_with]
        need_idx, helper_idx, paired = eligible_pairs(
            needs, helpers, [h.service_regions for h in candidates.helpers], pairs
        )
        scores = pair_scores(
            needs,
            helpers,
            need_idx,
            helper_idx,
            paired,
            self.today(),
            self.weights,
            _text_range(encoder),
        )
        _, village = np.unique(needs.village, return_inverse=True)
        problem = AssignmentProblem(
            need_idx=need_idx,
            helper_idx=helper_idx,
            scores=scores,
            remaining=helpers.remaining,
            village=village.astype(np.int64),
            best_score=float(self.weights.vector().sum()),
        )
        result = solve(problem, top_k=top_k, min_share=min_share)
        stats: AssignmentStats = assignment_stats(problem, result)
        chosen = np.flatnonzero(result.helper_of_need >= 0)
        items = [
            ProposalItem(
                need_id=needs.ids[i],
                helper_id=helpers.ids[int(result.helper_of_need[i])],
                score=round(float(result.score_of_need[i]), 4),
            )
            for i in chosen.tolist()
        ]
        summary = AssignmentSummary(
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in vars(stats).items()},
            top_k=top_k,
            min_share=min_share,
            helpers=helpers.size,
            edges=result.edges,
            seconds=round(result.seconds, 3),
        )
        return summary, items

    def propose_assignment(
        self,
        caller: Caller,
        region_code: str,
        top_k: int | None = None,
        min_share: float | None = None,
        max_needs: int | None = None,
    ) -> AssignmentProposal:
        """Compute and store a proposal for the open needs of a region in the caller's scope.
        It assigns nothing: an official accepts it (turning items into claims) or not."""
        if not any(region_code.startswith(p) for p in caller.prefixes):
            raise NotFoundError(f"region {region_code} not found", message_zh="未找到该地区")
        self.repo.region_name(region_code)  # NotFound for a code that is no region
        limit = max_needs if max_needs is not None else self.settings.sync_assignment_max_needs
        open_needs = self.repo.count_open_needs(region_code)
        k = top_k or self.settings.assignment_top_k
        share = self.settings.fairness_min_share if min_share is None else min_share
        proposal_id = f"AP-{uuid.uuid4().hex[:16]}"
        now = self.clock()
        if open_needs > limit:
            if self.on_proposal_queued is None:
                raise RegionTooLargeError(
                    f"region {region_code} has {open_needs} open needs, more than {limit} "
                    f"proposed at once here: run `bangfu matching assign --region {region_code}`",
                    message_zh=f"该地区有 {open_needs} 项待认领需求，超过即时分配上限 {limit}，"
                    "请使用命令行 bangfu matching assign",
                )
            # Too big to compute within a request (the province takes ~90 s): stored as
            # 'computing' and finished by a worker; GET /assignments/{id} follows it.
            self.repo.create_proposal(
                proposal_id,
                region_code,
                caller.principal.user_id,
                now,
                "computing",
                {"top_k": k, "min_share": share},
            )
            self._audit_proposal(caller, proposal_id, {"region_code": region_code, "queued": True})
            self.on_proposal_queued(proposal_id)
            return AssignmentProposal(
                id=proposal_id,
                region_code=region_code,
                status="computing",
                created_at=now,
                created_by=caller.principal.user_id,
                summary=None,
                items=[],
                items_total=0,
            )
        summary, items = self.compute_assignment(region_code, k, share)
        self.repo.save_proposal(
            proposal_id,
            region_code,
            caller.principal.user_id,
            now,
            summary.model_dump(),
            items,
        )
        self._audit_proposal(
            caller, proposal_id, {"region_code": region_code, **summary.model_dump()}
        )
        return AssignmentProposal(
            id=proposal_id,
            region_code=region_code,
            status="proposed",
            created_at=now,
            created_by=caller.principal.user_id,
            summary=summary,
            items=items,
            items_total=len(items),
            helpers_used=len({i.helper_id for i in items}),
        )

    def compute_queued_proposal(self, proposal_id: str) -> str:
        """Compute a proposal stored as 'computing' (the worker's half of propose_assignment).
        A proposal already computed is left alone, so a redelivered task does nothing; of two
        attempts running at once only the later one writes."""
        region_code, status, params = self.repo.proposal_to_compute(proposal_id)
        if status != "computing":
            return status
        attempt = self.repo.begin_proposal_attempt(proposal_id)
        if attempt is None:  # computed or failed meanwhile
            return self.repo.proposal_to_compute(proposal_id)[1]
        summary, items = self.compute_assignment(
            region_code,
            int(params.get("top_k", self.settings.assignment_top_k)),
            float(params.get("min_share", self.settings.fairness_min_share)),
        )
        if not self.repo.save_proposal_items(proposal_id, summary.model_dump(), items, attempt):
            return "superseded"  # a later attempt (a resent task) writes the proposal
        return "proposed"

    def _audit_proposal(self, caller: Caller, proposal_id: str, after: dict[str, Any]) -> None:
        if self.audit is None:
            return
        self.audit.append(
            AuditEntry(
                actor_id=caller.principal.user_id,
                actor_role=caller.principal.role.value,
                action="assignment.propose",
                subject_type="assignment_proposal",
                subject_id=proposal_id,
                after=after,
                request_id=caller.request_id,
            )
        )

    def proposal(
        self, caller: Caller, proposal_id: str, skip: int = 0, limit: int = 100
    ) -> AssignmentProposal:
        stored: StoredProposal = self.repo.proposal(proposal_id, caller.prefixes, skip, limit)
        return AssignmentProposal(
            **dict(ProposalOverview.of(stored)),
            items=stored.items,
            items_total=stored.items_total,
            helpers_used=stored.helpers_used,
        )

    def proposals(self, caller: Caller, skip: int = 0, limit: int = 20) -> ProposalPage:
        """The proposals of the caller's scope, newest first (one page of them)."""
        listing = self.repo.proposals(caller.prefixes, skip, limit)
        return ProposalPage(
            items=[ProposalOverview.of(p) for p in listing.items], total=listing.total
        )

    def proposal_with_cards(
        self, caller: Caller, proposal_id: str, skip: int = 0, limit: int = 20
    ) -> ProposalWithCards:
        """A proposal (NotFound outside the scope) and one page of its items with the needs
        as helpers see them and the helpers' names."""
        found = self.proposal(caller, proposal_id, 0, 0)
        cards = self.repo.proposal_item_cards(proposal_id, caller.prefixes, skip, limit)
        return ProposalWithCards(proposal=found, cards=cards)

    # --- learning from outcomes -------------------------------------------------------------------

    def learn_weights(self, seed: int = 0) -> tuple[LearningScore, bool]:
        """Fit ranking weights from the recommendations shown and their outcomes, compare them
        with the hand-set ones on held-out needs, and switch them on (audited) only when they do
        better. Returns the comparison and whether the weights file was written."""
        pairs = [p for p in (label(o) for o in self.repo.shown_outcomes()) if p is not None]
        score = learn_from_outcomes(pairs, RankingWeights(), seed)
        if not score.adopted:
            return score, False
        now = self.clock()
        adopted = AdoptedWeights(
            version=f"learned-{now:%Y%m%d%H%M%S}",
            weights=score.learned,
            outcomes=score.outcomes,
            hand_ndcg_at_10=score.hand_ndcg_at_10,
            learned_ndcg_at_10=score.learned_ndcg_at_10,
            adopted_at=now,
        )
        if self.audit is not None:  # audited before the switch: no unaudited change of weights
            self.audit.append(
                AuditEntry(
                    actor_id="system",
                    actor_role="system",
                    action="matching.weights.adopt",
                    subject_type="ranking_weights",
                    subject_id=adopted.version,
                    after=adopted.model_dump(mode="json"),
                )
            )
        path = Path(self.settings.weights_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_suffix(".tmp")
        staged.write_text(adopted.model_dump_json(indent=2), encoding="utf-8")
        staged.replace(path)  # atomic: a reader sees the old file or the new one
        self.weights = adopted.weights
        return score, True

    # --- screening -------------------------------------------------------------------------------

    def screen(self, caller: Caller, need_id: str) -> screening.ScreeningReport:
        context = self.repo.screening_context(need_id, caller.prefixes)
        return screening.screen(context.need, context.others)

    # --- embeddings ------------------------------------------------------------------------------

    def _embed_needs(self, encoder: Encoder, needs: Sequence[MatchNeed]) -> NDArray[np.float32]:
        texts = [need_text(n.title, n.text) for n in needs]
        vectors = encoder.embed(texts)
        self.repo.save_need_embeddings(
            [
                EmbeddingRow(id=n.id, vector=v, model=encoder.version, source=text_source(t))
                for n, v, t in zip(needs, vectors, texts, strict=True)
            ]
        )
        return vectors

    def _fill_helpers(
        self, encoder: Encoder, helpers: Sequence[MatchHelper], embedded: Embedded
    ) -> Embedded:
        missing = np.flatnonzero(~embedded.has_embedding)[:_FILL_LIMIT]
        if missing.size == 0:
            return embedded
        rows = self.repo.helper_texts_of([helpers[i].id for i in missing])
        texts = [helper_text(r.title, r.text) for r in rows]
        vectors = encoder.embed(texts)
        self.repo.save_helper_embeddings(
            [
                EmbeddingRow(id=r.id, vector=v, model=encoder.version, source=text_source(t))
                for r, v, t in zip(rows, vectors, texts, strict=True)
            ]
        )
        matrix = embedded.vectors
        if matrix.shape[1] != encoder.dim:
            matrix = np.zeros((len(helpers), encoder.dim), dtype=np.float32)
        else:
            matrix = matrix.copy()
        has = embedded.has_embedding.copy()
        position = {h.id: i for i, h in enumerate(helpers)}
        for r, v in zip(rows, vectors, strict=True):
            matrix[position[r.id]] = v
            has[position[r.id]] = True
        return Embedded(model=encoder.version, vectors=matrix, has_embedding=has)

    def embed_all(
        self,
        *,
        force: bool = False,
        refit: bool = False,
        chunk: int | None = None,
        progress: Callable[[str, int], None] | None = None,
    ) -> EmbedStats:
        """(Re)compute the embeddings of every helper and of every open or pending need whose
        text, or the encoder, changed since it was embedded; `force` recomputes all. With the
        TF-IDF encoder, fits and saves the artifact first when it is missing or `refit`."""
        started = datetime.now(UTC)
        size = chunk or self.settings.embed_chunk
        refitted = False
        encoder = None if refit else self.encoder()
        if encoder is None:
            if self.settings.encoder != "tfidf":
                raise ConflictError(
                    "the sentence-transformer encoder could not be loaded",
                    message_zh="文本向量模型无法加载",
                )
            encoder = self._fit_tfidf(size)
            refitted = True
        stats = {"helpers": [0, 0], "needs": [0, 0]}
        for what, read in (("helpers", self.repo.helper_texts), ("needs", self.repo.need_texts)):
            after = ""
            while True:
                rows = read(after, size)
                if not rows:
                    break
                after = rows[-1].id
                stats[what][1] += len(rows)
                stats[what][0] += self._embed_rows(encoder, what, rows, force)
                if progress is not None:
                    progress(what, stats[what][1])
        return EmbedStats(
            helpers_embedded=stats["helpers"][0],
            needs_embedded=stats["needs"][0],
            helpers_seen=stats["helpers"][1],
            needs_seen=stats["needs"][1],
            model=encoder.version,
            refitted=refitted,
            seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
        )

    def embed_of(self, need_ids: Sequence[str] = (), helper_ids: Sequence[str] = ()) -> int:
        """Embed these needs and helpers when their text, or the encoder, changed since they
        were embedded: the work sent to a worker when one is created or changed, so no request
        has to. Returns how many were embedded (0 until the TF-IDF encoder has been fitted by
        `bangfu matching embed`, which then covers them)."""
        encoder = self.encoder()
        if encoder is None:
            return 0
        embedded = 0
        if helper_ids:
            embedded += self._embed_rows(
                encoder, "helpers", self.repo.helper_texts_of(helper_ids), force=False
            )
        if need_ids:
            embedded += self._embed_rows(
                encoder, "needs", self.repo.need_texts_of(need_ids), force=False
            )
        return embedded

    def _embed_rows(self, encoder: Encoder, what: str, rows: Sequence[TextRow], force: bool) -> int:
        """Embed and store the rows whose text or encoder changed (all of them with `force`)."""
        join, save = (
            (helper_text, self.repo.save_helper_embeddings)
            if what == "helpers"
            else (need_text, self.repo.save_need_embeddings)
        )
        texts = [join(r.title, r.text) for r in rows]
        sources = [text_source(t) for t in texts]
        todo = [
            i
            for i, (r, s) in enumerate(zip(rows, sources, strict=True))
            if force or r.model != encoder.version or r.source != s
        ]
        if not todo:
            return 0
        vectors = encoder.embed([texts[i] for i in todo])
        save(
            [
                EmbeddingRow(id=rows[i].id, vector=v, model=encoder.version, source=sources[i])
                for i, v in zip(todo, vectors, strict=True)
            ]
        )
        return len(todo)

    # Fitting on every text of the province (400k) would cost minutes for no better vocabulary:
    # the texts are short and formulaic; 60k of them, every n-th, cover it.
    _FIT_SAMPLE = 60_000

    def _fit_tfidf(self, chunk: int) -> CharNgramTfidfEncoder:
        texts: list[str] = []
        for read, join in (
            (self.repo.helper_texts, helper_text),
            (self.repo.need_texts, need_text),
        ):
            after = ""
            while True:
                rows: list[TextRow] = read(after, max(chunk, 5_000))
                if not rows:
                    break
                after = rows[-1].id
                texts += [join(r.title, r.text) for r in rows]
        if not texts:
            raise ConflictError(
                "no texts to fit the TF-IDF encoder on: load helpers and needs first",
                message_zh="没有可用于拟合的文本，请先导入帮扶主体和需求",
            )
        step = max(1, len(texts) // self._FIT_SAMPLE)
        encoder = CharNgramTfidfEncoder.fit(texts[::step], dim=self.settings.tfidf_dim)
        encoder.save(Path(self.settings.tfidf_artifact))
        return encoder

    def refresh_history(self) -> int:
        return self.repo.refresh_helper_history(self.clock())

"""Explained ranking of (need, helper) pairs: a score is a weighted sum of named factors.

Every factor is a value in [0, 1] computed from plain arrays (no database); the score is
`values @ weights`, and each recommendation carries every factor's value, weight and contribution
(value x weight) with Chinese and English labels, so a person can see why a helper came first.

The same vectorised code serves both directions — the best helpers for one need and the best open
needs for one helper — and the pure evaluation and assignment, which score millions of pairs:
`pair_values` takes index arrays (need i, helper j) and never loops per pair in Python.

Factors and the numbers behind them:

- category fit: 1 when the helper offers the need's category, 0 otherwise (paired units are
  candidates even without it).
- proximity: the most specific service region of the helper containing the need's village:
  village 1.0, town 0.8, county 0.6, city 0.4, province 0.2 (local helpers know the household
  and reach it cheaply; a paired unit is usually the village's own).
- remaining capacity: r / (r + 5) for r claims left, so 0 when full, 0.5 with 5 left, 0.8 with 20.
- reliability: completed / taken claims, shrunk towards 0.5 by a prior worth 4 claims
  ((completed + 2) / (taken + 4)), so one lucky claim does not outrank a long good record.
  Releases count as taken and not completed.
- speed: 1 / (1 + days / 30) for the mean days from publication to fulfilment, shrunk towards the
  value of 30 days by a prior worth 2 fulfilments (30 days is the middle of the generator's
  15-30 day means by kind).
- pairing: 1 when the helper (or the unit of a cadre) is paired (结对) with the household.
- text similarity: cosine of the need text's and the helper description's embeddings, rescaled
  from the encoder's "unrelated" cosine (0) to its "full match" cosine (1): TF-IDF cosines between
  a need and a helper are small (county, seed 1: median 0.037 for helpers offering the category,
  0.014 for the others, 99th percentile 0.18), so 0 to 0.2 maps to 0 to 1.
- urgency: low 0.25, normal 0.5, high 0.75, critical 1.0.
- waiting time: days since publication / 180, capped at 1 (half a year waiting is the maximum).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from bangfu.vocabulary import NeedCategory, Urgency

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class Factor(StrEnum):
    CATEGORY = "category_fit"
    PROXIMITY = "proximity"
    CAPACITY = "capacity"
    RELIABILITY = "reliability"
    SPEED = "speed"
    PAIRING = "pairing"
    TEXT = "text_similarity"
    URGENCY = "urgency"
    WAITING = "waiting"


FACTORS: tuple[Factor, ...] = tuple(Factor)
FACTOR_LABELS: Mapping[Factor, tuple[str, str]] = MappingProxyType(
    {
        Factor.CATEGORY: ("类别匹配", "category fit"),
        Factor.PROXIMITY: ("属地就近", "administrative proximity"),
        Factor.CAPACITY: ("剩余帮扶能力", "remaining capacity"),
        Factor.RELIABILITY: ("履约可靠性", "reliability (fulfilment rate, releases)"),
        Factor.SPEED: ("办结速度", "speed of fulfilment"),
        Factor.PAIRING: ("结对帮扶关系", "existing pairing"),
        Factor.TEXT: ("需求与帮扶内容相似度", "text similarity"),
        Factor.URGENCY: ("紧急程度", "urgency"),
        Factor.WAITING: ("等待时长", "waiting time"),
    }
)

CATEGORIES: tuple[NeedCategory, ...] = tuple(NeedCategory)
CATEGORY_INDEX: Mapping[str, int] = MappingProxyType({c.value: i for i, c in enumerate(CATEGORIES)})
URGENCY_INDEX: Mapping[str, int] = MappingProxyType({u.value: i for i, u in enumerate(Urgency)})
URGENCY_VALUE = np.array([0.25, 0.5, 0.75, 1.0])  # low, normal, high, critical
# Value of the deepest service region containing the village, by code length (see above).
_LEVEL_VALUE = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])  # none, province ... village
_CODE_LENGTHS = (2, 4, 6, 9, 12)
# helper index * 10^12 + region code: codes have at most 12 digits and no leading zero, and codes
# of different levels have different lengths, so every (helper, region) key is unique.
_KEY_BASE = 10**12
CAPACITY_HALF = 5.0
RELIABILITY_PRIOR = (2.0, 4.0)  # (completions, claims) added to every record
SPEED_SCALE_DAYS = 30.0
SPEED_PRIOR_COUNT = 2.0
WAITING_FULL_DAYS = 180.0
# Pairs are scored in blocks: 65,536 pairs x 256 dimensions x 4 bytes = 64 MB per gathered
# embedding block, whatever the number of pairs.
_BLOCK = 65_536


class RankingWeights(BaseModel):
    """Weight of each factor, hand-set. Category fit (6) outweighs every other factor together
    at its usual spread, so a helper that cannot meet the need only ranks first when nobody else
    can. The rest were set by looking at NDCG@10 on the generator's county with seed 2 and are
    reported on seed 1 (`bangfu matching report`): reliability 4 and speed 3 carry the hidden
    quality and speed; proximity 1 and pairing 0.5 favour the household's own village unit;
    remaining capacity only 0.25 in the ranking (the truth does not reward spare capacity, full
    helpers are left out anyway, and assignment enforces capacity as a hard constraint). Text
    similarity 1: once category fit is known the hidden truth gains nothing from text (seed 2:
    NDCG 0.9513 at weight 0, 0.9506 at 1, 0.9494 at 2), but it orders needs of one category for
    a helper by what the helper says it does (电商直播 training, 果树栽培 ...), which the truth
    does not model. Urgency 1 and waiting 0.5 only order needs for a helper."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category_fit: float = Field(default=6.0, ge=0)
    proximity: float = Field(default=1.0, ge=0)
    capacity: float = Field(default=0.25, ge=0)
    reliability: float = Field(default=4.0, ge=0)
    speed: float = Field(default=3.0, ge=0)
    pairing: float = Field(default=0.5, ge=0)
    text_similarity: float = Field(default=1.0, ge=0)
    urgency: float = Field(default=1.0, ge=0)
    waiting: float = Field(default=0.5, ge=0)

    def vector(self) -> FloatArray:
        return np.array([getattr(self, f.value) for f in FACTORS], dtype=np.float64)

    @classmethod
    def from_vector(cls, values: Sequence[float]) -> RankingWeights:
        return cls(**{f.value: float(v) for f, v in zip(FACTORS, values, strict=True)})


# Factors learned from outcomes. Category fit stays hand-set (the candidates all have it but for
# paired units, so outcomes say little about it); urgency and waiting are the same for every
# helper of one need and cannot change which helper is better.
LEARNED_FACTORS = (
    Factor.PROXIMITY,
    Factor.CAPACITY,
    Factor.RELIABILITY,
    Factor.SPEED,
    Factor.PAIRING,
    Factor.TEXT,
)


def fit_factor_weights(
    values: FloatArray, outcome: BoolArray, hand: RankingWeights
) -> RankingWeights:
    """Pointwise learning to rank: a logistic regression of outcome (the helper took the need
    and fulfilled it) on the factor values of shown pairs. Negative coefficients become 0 and
    the rest are rescaled to the hand-set total of the learned factors, so scores stay on the
    same scale; the other factors keep their hand-set weights."""
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # noqa: PLC0415

    cols = [FACTORS.index(f) for f in LEARNED_FACTORS]
    base = hand.vector()
    if outcome.all() or not outcome.any():
        return hand  # one class only: nothing to learn from
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(values[:, cols], outcome)
    coef = np.maximum(model.coef_[0], 0.0)
    total = float(base[cols].sum())
    scale = total / coef.sum() if coef.sum() > 0 else 0.0
    learned = base.copy()
    learned[cols] = np.round(coef * scale, 3)
    return RankingWeights.from_vector(learned.tolist())


def region_int(code: str) -> int:
    return int(code)


@dataclass(frozen=True)
class HelperTable:
    """Candidate helpers as columns. `region_keys` is sorted (helper index, service region) keys;
    `embeddings` rows are zero for helpers without one."""

    ids: tuple[str, ...]
    capabilities: BoolArray  # (n, categories)
    capacity: IntArray
    open_claims: IntArray
    taken: FloatArray
    completed: FloatArray
    fulfil_days: FloatArray  # mean days to fulfil; NaN without history
    fulfilled: FloatArray  # how many fulfilments the mean is over
    embeddings: NDArray[np.float32]
    region_keys: IntArray

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def remaining(self) -> IntArray:
        left: IntArray = np.maximum(self.capacity - self.open_claims, 0)
        return left

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        capabilities: Sequence[Sequence[str]],
        service_regions: Sequence[Sequence[str]],
        capacity: Sequence[int] | IntArray,
        open_claims: Sequence[int] | IntArray,
        taken: Sequence[float] | FloatArray,
        completed: Sequence[float] | FloatArray,
        fulfil_days: Sequence[float] | FloatArray,
        fulfilled: Sequence[float] | FloatArray,
        embeddings: NDArray[np.float32] | None = None,
        dim: int = 0,
    ) -> HelperTable:
        n = len(ids)
        caps = np.zeros((n, len(CATEGORIES)), dtype=bool)
        rows = [i for i, cs in enumerate(capabilities) for c in cs if c in CATEGORY_INDEX]
        cols = [CATEGORY_INDEX[c] for cs in capabilities for c in cs if c in CATEGORY_INDEX]
        caps[rows, cols] = True
        counts = np.fromiter((len(r) for r in service_regions), dtype=np.int64, count=n)
        codes = np.fromiter(
            (region_int(c) for r in service_regions for c in r), dtype=np.int64, count=counts.sum()
        )
        keys = np.repeat(np.arange(n, dtype=np.int64), counts) * _KEY_BASE + codes
        if embeddings is None:
            embeddings = np.zeros((n, dim), dtype=np.float32)
        return cls(
            ids=tuple(ids),
            capabilities=caps,
            capacity=np.asarray(capacity, dtype=np.int64),
            open_claims=np.asarray(open_claims, dtype=np.int64),
            taken=np.asarray(taken, dtype=np.float64),
            completed=np.asarray(completed, dtype=np.float64),
            fulfil_days=np.asarray(fulfil_days, dtype=np.float64),
            fulfilled=np.asarray(fulfilled, dtype=np.float64),
            embeddings=np.asarray(embeddings, dtype=np.float32),
            region_keys=np.sort(keys),
        )


@dataclass(frozen=True)
class NeedTable:
    """Needs as columns; `created` holds date ordinals, `household` an index into `households`."""

    ids: tuple[str, ...]
    village: IntArray  # 12-digit village codes as integers
    category: IntArray
    urgency: IntArray
    created: IntArray
    household: IntArray
    households: tuple[str, ...]
    embeddings: NDArray[np.float32]

    @property
    def size(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        village_codes: Sequence[str],
        categories: Sequence[str],
        urgencies: Sequence[str],
        created: Sequence[date],
        household_ids: Sequence[str],
        embeddings: NDArray[np.float32] | None = None,
        dim: int = 0,
    ) -> NeedTable:
        n = len(ids)
        households, household = np.unique(np.asarray(household_ids, dtype=str), return_inverse=True)
        if embeddings is None:
            embeddings = np.zeros((n, dim), dtype=np.float32)
        return cls(
            ids=tuple(ids),
            village=np.fromiter((int(v) for v in village_codes), dtype=np.int64, count=n),
            category=np.fromiter((CATEGORY_INDEX[c] for c in categories), dtype=np.int64, count=n),
            urgency=np.fromiter((URGENCY_INDEX[u] for u in urgencies), dtype=np.int64, count=n),
            created=np.fromiter((d.toordinal() for d in created), dtype=np.int64, count=n),
            household=household.astype(np.int64),
            households=tuple(str(h) for h in households),
            embeddings=np.asarray(embeddings, dtype=np.float32),
        )


def proximity_levels(village: IntArray, helper_idx: IntArray, region_keys: IntArray) -> IntArray:
    """Per pair, the deepest level (1 province ... 5 village) at which the helper serves the
    village, 0 when it serves none of the regions above it."""
    level = np.zeros(village.shape[0], dtype=np.int64)
    if region_keys.size == 0:
        return level
    base = helper_idx.astype(np.int64) * _KEY_BASE
    for depth, length in enumerate(_CODE_LENGTHS, start=1):
        keys = base + village // 10 ** (12 - length)
        pos = np.minimum(np.searchsorted(region_keys, keys), region_keys.size - 1)
        level = np.where(region_keys[pos] == keys, depth, level)
    return level


def text_similarity(
    need_embeddings: NDArray[np.float32],
    helper_embeddings: NDArray[np.float32],
    need_idx: IntArray,
    helper_idx: IntArray,
) -> FloatArray:
    """Cosine per pair (rows are unit length or zero), in blocks to bound memory."""
    out = np.zeros(need_idx.shape[0], dtype=np.float64)
    if need_embeddings.shape[1] == 0 or helper_embeddings.shape[1] != need_embeddings.shape[1]:
        return out
    for start in range(0, need_idx.shape[0], _BLOCK):
        stop = start + _BLOCK
        a = need_embeddings[need_idx[start:stop]]
        b = helper_embeddings[helper_idx[start:stop]]
        out[start:stop] = np.einsum("ij,ij->i", a, b)
    return out


def pair_values(
    needs: NeedTable,
    helpers: HelperTable,
    need_idx: IntArray,
    helper_idx: IntArray,
    paired: BoolArray,
    today: date,
    text_range: tuple[float, float] = (0.0, 1.0),
) -> FloatArray:
    """The factor values of each (need, helper) pair: shape (pairs, factors), each in [0, 1].
    `text_range` is the encoder's (unrelated, full match) cosine pair (Encoder.similarity_range):
    cosines are rescaled linearly between them and clipped."""
    n = need_idx.shape[0]
    values = np.zeros((n, len(FACTORS)), dtype=np.float64)
    col = {f: i for i, f in enumerate(FACTORS)}
    values[:, col[Factor.CATEGORY]] = helpers.capabilities[helper_idx, needs.category[need_idx]]
    level = proximity_levels(needs.village[need_idx], helper_idx, helpers.region_keys)
    values[:, col[Factor.PROXIMITY]] = _LEVEL_VALUE[level]
    values[:, col[Factor.CAPACITY]] = helper_values(helpers, Factor.CAPACITY)[helper_idx]
    values[:, col[Factor.RELIABILITY]] = helper_values(helpers, Factor.RELIABILITY)[helper_idx]
    values[:, col[Factor.SPEED]] = helper_values(helpers, Factor.SPEED)[helper_idx]
    values[:, col[Factor.PAIRING]] = paired
    sim = text_similarity(needs.embeddings, helpers.embeddings, need_idx, helper_idx)
    low, full = text_range
    values[:, col[Factor.TEXT]] = np.clip((sim - low) / max(full - low, 1e-9), 0.0, 1.0)
    values[:, col[Factor.URGENCY]] = URGENCY_VALUE[needs.urgency[need_idx]]
    waited = np.maximum(today.toordinal() - needs.created[need_idx], 0)
    values[:, col[Factor.WAITING]] = np.minimum(waited / WAITING_FULL_DAYS, 1.0)
    return values


def pair_scores(
    needs: NeedTable,
    helpers: HelperTable,
    need_idx: IntArray,
    helper_idx: IntArray,
    paired: BoolArray,
    today: date,
    weights: RankingWeights,
    text_range: tuple[float, float] = (0.0, 1.0),
    block: int = 1 << 20,
) -> FloatArray:
    """Scores only, computed a million pairs at a time: the province's ~13 million candidate
    pairs would need ~0.9 GB for their factor values at once, a block needs 72 MB."""
    w = weights.vector()
    out = np.empty(need_idx.shape[0], dtype=np.float64)
    for start in range(0, need_idx.shape[0], block):
        stop = start + block
        values = pair_values(
            needs,
            helpers,
            need_idx[start:stop],
            helper_idx[start:stop],
            paired[start:stop],
            today,
            text_range,
        )
        out[start:stop] = values @ w
    return out


def helper_values(helpers: HelperTable, factor: Factor) -> FloatArray:
    """Per-helper factor values (capacity, reliability, speed) for every helper of the table."""
    if factor is Factor.CAPACITY:
        remaining = helpers.remaining.astype(np.float64)
        return remaining / (remaining + CAPACITY_HALF)
    if factor is Factor.RELIABILITY:
        done, taken = RELIABILITY_PRIOR
        return np.clip((helpers.completed + done) / (helpers.taken + taken), 0.0, 1.0)
    if factor is Factor.SPEED:
        has = np.isfinite(helpers.fulfil_days) & (helpers.fulfilled > 0)
        days = np.where(has, helpers.fulfil_days, SPEED_SCALE_DAYS)
        count = np.where(has, helpers.fulfilled, 0.0)
        mean_days = (days * count + SPEED_SCALE_DAYS * SPEED_PRIOR_COUNT) / (
            count + SPEED_PRIOR_COUNT
        )
        return 1.0 / (1.0 + np.maximum(mean_days, 0.0) / SPEED_SCALE_DAYS)
    raise ValueError(f"{factor} is not a per-helper factor")


def paired_mask(
    needs: NeedTable,
    need_idx: IntArray,
    helper_idx: IntArray,
    pairs: Sequence[tuple[str, str]],
    helper_ids: Sequence[str],
) -> BoolArray:
    """Which (need, helper) pairs join a helper to the need's household, from (helper id,
    household id) pairings."""
    if not pairs:
        return np.zeros(need_idx.shape[0], dtype=bool)
    helper_pos = {h: i for i, h in enumerate(helper_ids)}
    household_pos = {h: i for i, h in enumerate(needs.households)}
    n_households = max(len(needs.households), 1)
    keys = np.array(
        sorted(
            helper_pos[h] * n_households + household_pos[hh]
            for h, hh in pairs
            if h in helper_pos and hh in household_pos
        ),
        dtype=np.int64,
    )
    if keys.size == 0:
        return np.zeros(need_idx.shape[0], dtype=bool)
    wanted = helper_idx * n_households + needs.household[need_idx]
    pos = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return np.asarray(keys[pos] == wanted)


# --- explanations -------------------------------------------------------------------------------


class Contribution(BaseModel):
    """One factor of one recommendation: its value in [0, 1], weight and value x weight."""

    model_config = ConfigDict(frozen=True)

    factor: Factor
    label_zh: str
    label_en: str
    value: float
    weight: float
    contribution: float


class Ranked(BaseModel):
    """One recommendation: the other side's id, its score and why."""

    model_config = ConfigDict(frozen=True)

    id: str
    rank: int
    score: float
    factors: list[Contribution]


def explain(values: FloatArray, weights: RankingWeights) -> list[Contribution]:
    w = weights.vector()
    return [
        Contribution(
            factor=f,
            label_zh=FACTOR_LABELS[f][0],
            label_en=FACTOR_LABELS[f][1],
            value=round(float(values[i]), 4),
            weight=float(w[i]),
            contribution=round(float(values[i] * w[i]), 4),
        )
        for i, f in enumerate(FACTORS)
    ]


def top_k(scores: FloatArray, ids: Sequence[str], k: int) -> IntArray:
    """Indices of the k best scores, best first; equal scores in id order (deterministic)."""
    n = scores.shape[0]
    if n == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    if n > k:
        # Keep every index tied with the k-th score, so the id tie-break below sees all of them.
        kth = np.partition(scores, n - k)[n - k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(n)
    id_rank = np.argsort(np.argsort(np.asarray([ids[int(i)] for i in candidates], dtype=object)))
    order = np.lexsort((id_rank, -scores[candidates]))
    return np.asarray(candidates[order][:k], dtype=np.int64)


def rank(values: FloatArray, ids: Sequence[str], weights: RankingWeights, k: int) -> list[Ranked]:
    """The k best of the candidates whose factor values are the rows of `values`."""
    scores = values @ weights.vector()
    best = top_k(scores, ids, k)
    return [
        Ranked(
            id=ids[i],
            rank=r,
            score=round(float(scores[i]), 4),
            factors=explain(values[i], weights),
        )
        for r, i in enumerate(best.tolist(), start=1)
    ]


def rank_helpers_for_need(
    needs: NeedTable,
    helpers: HelperTable,
    paired: BoolArray,
    weights: RankingWeights,
    today: date,
    k: int = 10,
    need: int = 0,
    text_range: tuple[float, float] = (0.0, 1.0),
) -> list[Ranked]:
    """Top-k helpers of the table for need `need` of `needs`; `paired[j]` says whether helper j
    is paired with the need's household."""
    helper_idx = np.arange(helpers.size, dtype=np.int64)
    need_idx = np.full(helpers.size, need, dtype=np.int64)
    values = pair_values(needs, helpers, need_idx, helper_idx, paired, today, text_range)
    return rank(values, helpers.ids, weights, k)


def rank_needs_for_helper(
    needs: NeedTable,
    helpers: HelperTable,
    paired: BoolArray,
    weights: RankingWeights,
    today: date,
    k: int = 20,
    helper: int = 0,
    text_range: tuple[float, float] = (0.0, 1.0),
) -> list[Ranked]:
    """Top-k needs of the table for helper `helper`; `paired[i]` says whether need i's household
    is paired with the helper."""
    need_idx = np.arange(needs.size, dtype=np.int64)
    helper_idx = np.full(needs.size, helper, dtype=np.int64)
    values = pair_values(needs, helpers, need_idx, helper_idx, paired, today, text_range)
    return rank(values, needs.ids, weights, k)


# --- candidate pairs without a database (evaluation, assignment, benchmarks) --------------------


def eligible_pairs(
    needs: NeedTable,
    helpers: HelperTable,
    service_regions: Sequence[Sequence[str]],
    pairs: Sequence[tuple[str, str]] = (),
    *,
    require_category: bool = True,
) -> tuple[IntArray, IntArray, BoolArray]:
    """Every (need, helper) pair the graph query would return: the helper offers the category
    and serves the village or a region above it, or it is paired with the household.
    `require_category=False` keeps every serving helper (the evaluation's wider pool, so that a
    category-only baseline has something to beat).

    Needs are grouped by village, so the Python loop runs once per village (16,483 in the
    province), never per pair. Returns (need index, helper index, paired) arrays."""
    by_region: dict[int, list[int]] = {}
    for j, regions in enumerate(service_regions):
        for code in regions:
            by_region.setdefault(region_int(code), []).append(j)
    order = np.argsort(needs.village, kind="stable")
    villages, starts = np.unique(needs.village[order], return_index=True)
    bounds = np.append(starts, order.size)
    need_parts: list[IntArray] = []
    helper_parts: list[IntArray] = []
    # Villages of one town share the helpers of the four levels above them: computed once per
    # town (1,112 in the province instead of 16,483 villages; np.unique per village took 28 s).
    above_town: dict[int, IntArray] = {}
    for v, lo, hi in zip(villages.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        town = v // 1000
        upper = above_town.get(town)
        if upper is None:
            serving = {
                j
                for length in _CODE_LENGTHS[:-1]
                for j in by_region.get(v // 10 ** (12 - length), ())
            }
            upper = np.fromiter(sorted(serving), dtype=np.int64, count=len(serving))
            above_town[town] = upper
        own = by_region.get(v)
        cand = np.union1d(upper, np.asarray(own, dtype=np.int64)) if own else upper
        if cand.size == 0:
            continue
        in_village = order[lo:hi]
        fits = helpers.capabilities[cand][:, needs.category[in_village]]  # (candidates, needs)
        if not require_category:
            fits = np.ones_like(fits)
        h_pos, n_pos = np.nonzero(fits)
        need_parts.append(in_village[n_pos])
        helper_parts.append(cand[h_pos])
    need_idx = np.concatenate(need_parts) if need_parts else np.zeros(0, dtype=np.int64)
    helper_idx = np.concatenate(helper_parts) if helper_parts else np.zeros(0, dtype=np.int64)
    paired = paired_mask(needs, need_idx, helper_idx, pairs, helpers.ids)
    if pairs:
        extra_n, extra_h = _paired_pairs(needs, helpers.ids, pairs)
        if extra_n.size:
            # Paired helpers are candidates even without the category or a service region; drop
            # the ones already present.
            seen = need_idx * helpers.size + helper_idx
            extra_keys = extra_n * helpers.size + extra_h
            new = ~np.isin(extra_keys, seen)
            need_idx = np.concatenate([need_idx, extra_n[new]])
            helper_idx = np.concatenate([helper_idx, extra_h[new]])
            paired = np.concatenate([paired, np.ones(int(new.sum()), dtype=bool)])
    return need_idx.astype(np.int64), helper_idx.astype(np.int64), paired


def _paired_pairs(
    needs: NeedTable, helper_ids: Sequence[str], pairs: Sequence[tuple[str, str]]
) -> tuple[IntArray, IntArray]:
    helper_pos = {h: i for i, h in enumerate(helper_ids)}
    household_pos = {h: i for i, h in enumerate(needs.households)}
    hh_helper = np.full(len(needs.households), -1, dtype=np.int64)
    multi: list[tuple[int, int]] = []
    for h, hh in pairs:
        if h in helper_pos and hh in household_pos:
            k = household_pos[hh]
            if hh_helper[k] < 0:
                hh_helper[k] = helper_pos[h]
            else:
                multi.append((k, helper_pos[h]))
    helper_of_need = hh_helper[needs.household]
    has = np.flatnonzero(helper_of_need >= 0)
    need_idx: list[Any] = [has]
    helper_idx: list[Any] = [helper_of_need[has]]
    if multi:
        by_household: dict[int, list[int]] = {}
        for k, j in multi:
            by_household.setdefault(k, []).append(j)
        for i in np.flatnonzero(np.isin(needs.household, list(by_household))).tolist():
            for j in by_household[int(needs.household[i])]:
                need_idx.append(np.array([i]))
                helper_idx.append(np.array([j]))
    return np.concatenate(need_idx).astype(np.int64), np.concatenate(helper_idx).astype(np.int64)

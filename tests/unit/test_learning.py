"""Learning ranking weights from recorded outcomes (matching/learning.py): how a shown pair is
labelled, and that learned weights are adopted only when they rank held-out needs better."""

from __future__ import annotations

import numpy as np

from graph.models import ShownOutcome
from matching.learning import MIN_OUTCOMES, LabelledPair, label, learn_from_outcomes
from matching.ranking import FACTORS, Factor, RankingWeights

VALUES = tuple(0.5 for _ in FACTORS)


def outcome(status: str, holder: str | None, released: bool = False) -> ShownOutcome:
    return ShownOutcome(
        need_id="N1",
        helper_id="H1",
        values=VALUES,
        status=status,
        holder_id=holder,
        released_by_helper=released,
    )


def test_labels_follow_what_became_of_the_need() -> None:
    assert label(outcome("open", None)) is None  # still waiting: no evidence
    assert label(outcome("claimed", "H1")) is None  # this helper is still at it
    done = label(outcome("confirmed", "H1"))
    assert done is not None and done.fulfilled
    other = label(outcome("fulfilled", "H2"))
    assert other is not None and not other.fulfilled  # another helper took it
    released = label(outcome("open", None, released=True))
    assert released is not None and not released.fulfilled


def pairs_where(factor: Factor, needs: int, seed: int) -> list[LabelledPair]:
    """Ten shown helpers per need, random factor values; the outcome depends on one factor."""
    rng = np.random.default_rng(seed)
    column = FACTORS.index(factor)
    pairs = []
    for n in range(needs):
        values = rng.random((10, len(FACTORS)))
        chance = 1.0 / (1.0 + np.exp(-10.0 * (values[:, column] - 0.7)))
        hit = rng.random(10) < chance
        pairs += [
            LabelledPair(
                need_id=f"N{n}",
                helper_id=f"H{h}",
                values=tuple(float(v) for v in values[h]),
                fulfilled=bool(hit[h]),
            )
            for h in range(10)
        ]
    return pairs


def test_weights_that_rank_better_are_adopted() -> None:
    # Outcomes follow proximity alone; the hand-set weights lean on reliability and speed.
    score = learn_from_outcomes(pairs_where(Factor.PROXIMITY, 600, seed=1), RankingWeights())
    assert score.outcomes >= MIN_OUTCOMES
    assert score.learned.proximity > RankingWeights().proximity
    assert score.learned_ndcg_at_10 > score.hand_ndcg_at_10
    assert score.adopted


def test_weights_are_not_adopted_without_enough_outcomes() -> None:
    few = learn_from_outcomes(pairs_where(Factor.PROXIMITY, 10, seed=2), RankingWeights())
    assert few.outcomes < MIN_OUTCOMES and not few.adopted
    none = learn_from_outcomes([], RankingWeights())
    assert none.outcomes == 0 and not none.adopted and none.learned == RankingWeights()


def test_weights_that_rank_worse_are_not_adopted() -> None:
    # Hand-set weights that already rank by the one factor outcomes follow cannot be beaten by
    # the margin; the learner's other, noisier weights must not replace them.
    only_proximity = RankingWeights.from_vector(
        [1.0 if f is Factor.PROXIMITY else 0.0 for f in FACTORS]
    )
    score = learn_from_outcomes(pairs_where(Factor.PROXIMITY, 600, seed=4), only_proximity)
    assert score.learned_ndcg_at_10 <= score.hand_ndcg_at_10 + 0.002
    assert not score.adopted

"""Learning the ranking weights from what the platform recorded: recommendations shown, and what
became of each shown (need, helper) pair. Pure: graph/ reads the pairs, this module decides.

A shown pair is labelled once its need has an outcome: 1 when that helper took the need and it
was fulfilled (fulfilled, confirmed or closed with that holder); 0 when another helper took it,
or this helper released it. Pairs whose need is still waiting say nothing yet and are left out.

Needs are split by a hash of their id: the weights are fitted on one part and compared with the
hand-set ones on the other by NDCG@10 of the observed outcomes. Learned weights are adopted only
if they beat the hand-set ones by ADOPT_MARGIN and enough outcomes back them; otherwise the
hand-set weights stay (issue: "weights that do worse are never switched on").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from graph.models import ShownOutcome
from matching.evaluation import ADOPT_MARGIN, LearningScore, ndcg_at_k
from matching.ranking import FACTORS, BoolArray, FloatArray, RankingWeights, fit_factor_weights

# Below this many labelled pairs in the fitting half, a logistic regression over six factors is
# noise (about 20 events per parameter is the usual floor for a stable fit).
MIN_OUTCOMES = 120


class LabelledPair(BaseModel):
    model_config = ConfigDict(frozen=True)

    need_id: str
    helper_id: str
    values: tuple[float, ...]
    fulfilled: bool


_DONE = frozenset({"fulfilled", "confirmed", "closed"})


def label(outcome: ShownOutcome) -> LabelledPair | None:
    """The pair's label once its need has an outcome for this helper, else None."""
    if outcome.released_by_helper:
        fulfilled = False
    elif outcome.holder_id is None:
        return None  # still waiting (or withdrawn before anyone took it): no evidence either way
    else:
        fulfilled = outcome.holder_id == outcome.helper_id and outcome.status in _DONE
        if outcome.holder_id == outcome.helper_id and not fulfilled:
            return None  # this helper holds it and has not finished yet
    return LabelledPair(
        need_id=outcome.need_id,
        helper_id=outcome.helper_id,
        values=outcome.values,
        fulfilled=fulfilled,
    )


def in_fitting_half(need_id: str) -> bool:
    """A stable split: the same need is on the same side on every run."""
    return hashlib.sha256(need_id.encode()).digest()[0] < 128


def learn_from_outcomes(
    pairs: Sequence[LabelledPair], hand: RankingWeights, seed: int = 0
) -> LearningScore:
    if not pairs:
        return LearningScore(
            outcomes=0, hand_ndcg_at_10=0.0, learned_ndcg_at_10=0.0, adopted=False, learned=hand
        )
    values: FloatArray = np.array([p.values for p in pairs], dtype=np.float64)
    if values.shape[1] != len(FACTORS):
        raise ValueError(f"shown pairs carry {values.shape[1]} factors, not {len(FACTORS)}")
    outcome: BoolArray = np.array([p.fulfilled for p in pairs], dtype=bool)
    need_ids = sorted({p.need_id for p in pairs})
    position = {n: i for i, n in enumerate(need_ids)}
    need_idx = np.array([position[p.need_id] for p in pairs], dtype=np.int64)
    fitting = np.array([in_fitting_half(p.need_id) for p in pairs], dtype=bool)
    learned = fit_factor_weights(values[fitting], outcome[fitting], hand)
    test = ~fitting
    rel = outcome.astype(np.float64)
    n = len(need_ids)
    hand_ndcg = ndcg_at_k(need_idx[test], values[test] @ hand.vector(), rel[test], n, 10, seed)
    learned_ndcg = ndcg_at_k(
        need_idx[test], values[test] @ learned.vector(), rel[test], n, 10, seed
    )
    enough = int(fitting.sum()) >= MIN_OUTCOMES
    return LearningScore(
        outcomes=int(fitting.sum()),
        hand_ndcg_at_10=round(hand_ndcg, 4),
        learned_ndcg_at_10=round(learned_ndcg, 4),
        adopted=enough and learned_ndcg > hand_ndcg + ADOPT_MARGIN,
        learned=learned,
    )

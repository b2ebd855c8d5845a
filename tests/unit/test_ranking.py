"""Ranking is pure: factor values, explanations, both directions and candidate enumeration."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from matching.ranking import (
    FACTOR_LABELS,
    FACTORS,
    Factor,
    HelperTable,
    NeedTable,
    RankingWeights,
    eligible_pairs,
    helper_values,
    pair_values,
    paired_mask,
    proximity_levels,
    rank,
    rank_helpers_for_need,
    rank_needs_for_helper,
    top_k,
)

TODAY = date(2026, 3, 31)
VILLAGE = "440223101001"
OTHER_VILLAGE = "440224102003"
COL = {f: i for i, f in enumerate(FACTORS)}


def helpers(**overrides: object) -> HelperTable:
    """Four helpers: the village's own unit (paired), a town charity, a province federation
    without the category, and an unrelated county's enterprise."""
    columns: dict[str, object] = {
        "ids": ["U1", "C1", "W1", "E1"],
        "capabilities": [["job", "care"], ["job"], ["care"], ["job"]],
        "service_regions": [[VILLAGE], [VILLAGE[:9]], ["44"], ["440224"]],
        "capacity": [10, 10, 10, 10],
        "open_claims": [0, 5, 10, 0],
        "taken": [10, 10, 0, 0],
        "completed": [9, 2, 0, 0],
        "fulfil_days": [20.0, 60.0, np.nan, np.nan],
        "fulfilled": [9, 2, 0, 0],
    }
    columns.update(overrides)
    return HelperTable.build(**columns)  # type: ignore[arg-type]


def needs(n: int = 1, **overrides: object) -> NeedTable:
    columns: dict[str, object] = {
        "ids": [f"N{i}" for i in range(n)],
        "village_codes": [VILLAGE] * n,
        "categories": ["job"] * n,
        "urgencies": ["normal"] * n,
        "created": [TODAY - timedelta(days=30)] * n,
        "household_ids": [f"H{i}" for i in range(n)],
    }
    columns.update(overrides)
    return NeedTable.build(**columns)  # type: ignore[arg-type]


def test_proximity_is_the_deepest_service_region_above_the_village() -> None:
    table = helpers()
    village = np.full(4, int(VILLAGE))
    levels = proximity_levels(village, np.arange(4), table.region_keys)
    assert levels.tolist() == [5, 4, 1, 0]  # village, town, province, none
    other = proximity_levels(np.full(4, int(OTHER_VILLAGE)), np.arange(4), table.region_keys)
    assert other.tolist() == [0, 0, 1, 3]


def test_factor_values_follow_their_definitions() -> None:
    table = helpers()
    values = pair_values(
        needs(), table, np.zeros(4, np.int64), np.arange(4), np.array([1, 0, 0, 0], bool), TODAY
    )
    assert values.shape == (4, len(FACTORS))
    assert ((values >= 0) & (values <= 1)).all()
    assert values[:, COL[Factor.CATEGORY]].tolist() == [1, 1, 0, 1]
    assert values[:, COL[Factor.PROXIMITY]].tolist() == pytest.approx([1.0, 0.8, 0.2, 0.0])
    # remaining 10, 5, 0, 10 -> r / (r + 5)
    assert values[:, COL[Factor.CAPACITY]].tolist() == pytest.approx([10 / 15, 0.5, 0, 10 / 15])
    # (completed + 2) / (taken + 4): a good record beats a poor one, no record sits at 0.5
    assert values[:, COL[Factor.RELIABILITY]].tolist() == pytest.approx([11 / 14, 4 / 14, 0.5, 0.5])
    speed = values[:, COL[Factor.SPEED]]
    assert speed[0] > speed[2] == speed[3] > speed[1]  # 20 days > no history (30) > 60 days
    assert values[:, COL[Factor.PAIRING]].tolist() == [1, 0, 0, 0]
    assert values[0, COL[Factor.URGENCY]] == 0.5
    assert values[0, COL[Factor.WAITING]] == pytest.approx(30 / 180)


def test_waiting_is_capped_at_half_a_year_and_urgency_is_ordered() -> None:
    table = needs(
        4,
        urgencies=["low", "normal", "high", "critical"],
        created=[TODAY - timedelta(days=d) for d in (0, 90, 400, 10)],
    )
    values = pair_values(
        table, helpers(), np.arange(4), np.zeros(4, np.int64), np.zeros(4, bool), TODAY
    )
    assert values[:, COL[Factor.URGENCY]].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert values[:, COL[Factor.WAITING]].tolist() == pytest.approx([0, 0.5, 1.0, 10 / 180])


def test_text_similarity_is_the_cosine_of_the_embeddings() -> None:
    h = np.eye(4, 3, dtype=np.float32)
    table = helpers(embeddings=h)
    need_vector = np.array([[0.6, 0.8, 0.0]], dtype=np.float32)
    n = needs(embeddings=need_vector)
    values = pair_values(n, table, np.zeros(4, np.int64), np.arange(4), np.zeros(4, bool), TODAY)
    assert values[:, COL[Factor.TEXT]].tolist() == pytest.approx([0.6, 0.8, 0.0, 0.0])


def test_every_recommendation_explains_its_score() -> None:
    weights = RankingWeights()
    ranked = rank_helpers_for_need(needs(), helpers(), np.array([1, 0, 0, 0], bool), weights, TODAY)
    # The paired, local, reliable unit first; a poor record (2 of 10, 60 days) ranks below a
    # helper without history; one without the category last.
    assert [r.id for r in ranked] == ["U1", "E1", "C1", "W1"]
    for r in ranked:
        assert [c.factor for c in r.factors] == list(FACTORS)
        assert sum(c.contribution for c in r.factors) == pytest.approx(r.score, abs=1e-3)
        for c in r.factors:
            assert c.contribution == pytest.approx(c.value * c.weight, abs=1e-3)
            assert (c.label_zh, c.label_en) == FACTOR_LABELS[c.factor]
            assert c.label_zh and c.label_en.isascii()


def test_needs_for_a_helper_put_urgent_and_waiting_ones_first() -> None:
    table = needs(
        3,
        urgencies=["low", "critical", "normal"],
        created=[TODAY - timedelta(days=d) for d in (5, 5, 150)],
    )
    ranked = rank_needs_for_helper(table, helpers(), np.zeros(3, bool), RankingWeights(), TODAY)
    assert [r.id for r in ranked] == ["N1", "N2", "N0"]


def test_top_k_breaks_ties_by_id_and_keeps_the_best() -> None:
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    ids = ["e", "d", "b", "a", "c"]
    assert top_k(scores, ids, 3).tolist() == [2, 4, 1]  # b, c, d all tied at 3
    assert top_k(scores, ids, 10).tolist() == [2, 4, 1, 3, 0]
    assert top_k(scores, ids, 0).size == 0
    values = np.zeros((5, len(FACTORS)))
    values[:, COL[Factor.CATEGORY]] = scores
    assert [r.id for r in rank(values, ids, RankingWeights(), 2)] == ["b", "c"]


def test_weights_round_trip_and_refuse_negatives() -> None:
    weights = RankingWeights(text_similarity=3.5)
    assert RankingWeights.from_vector(weights.vector().tolist()) == weights
    with pytest.raises(ValueError, match="greater than or equal"):
        RankingWeights(reliability=-1)


def test_helper_values_reject_pair_factors() -> None:
    with pytest.raises(ValueError, match="not a per-helper factor"):
        helper_values(helpers(), Factor.TEXT)


def _brute_force(
    n: NeedTable, h: HelperTable, regions: list[list[str]], pairs: set[tuple[str, str]]
) -> set[tuple[int, int, bool]]:
    out = set()
    for i in range(n.size):
        village = str(n.village[i])
        for j in range(h.size):
            serves = any(village.startswith(r) for r in regions[j])
            fits = bool(h.capabilities[j, n.category[i]])
            paired = (h.ids[j], n.households[n.household[i]]) in pairs
            if (serves and fits) or paired:
                out.add((i, j, paired))
    return out


def test_eligible_pairs_match_a_brute_force_enumeration() -> None:
    rng = np.random.default_rng(3)
    villages = ["440223101001", "440223101002", "440223102001", "440224101001"]
    regions_pool = ["44", "4402", "440223", "440224", "440223101", *villages]
    categories = ["job", "care", "tuition", "water"]
    regions = [
        list(rng.choice(regions_pool, size=int(rng.integers(1, 3)), replace=False))
        for _ in range(12)
    ]
    h = helpers(
        ids=[f"H{j:02d}" for j in range(12)],
        capabilities=[list(rng.choice(categories, size=2, replace=False)) for _ in range(12)],
        service_regions=regions,
        capacity=[5] * 12,
        open_claims=[0] * 12,
        taken=[0] * 12,
        completed=[0] * 12,
        fulfil_days=[np.nan] * 12,
        fulfilled=[0] * 12,
    )
    n = needs(
        40,
        village_codes=list(rng.choice(villages, size=40)),
        categories=list(rng.choice(categories, size=40)),
        household_ids=[f"HH{i % 25}" for i in range(40)],
    )
    pairs = {("H03", "HH1"), ("H07", "HH2"), ("H07", "HH3"), ("H01", "HH1")}
    need_idx, helper_idx, paired = eligible_pairs(n, h, regions, sorted(pairs))
    got = set(zip(need_idx.tolist(), helper_idx.tolist(), paired.tolist(), strict=True))
    assert got == _brute_force(n, h, regions, pairs)
    assert len(got) == need_idx.size  # no pair twice
    wide_n, _, _ = eligible_pairs(n, h, regions, require_category=False)
    assert wide_n.size > need_idx.size - paired.sum()


def test_paired_mask_joins_helpers_to_households() -> None:
    n = needs(3, household_ids=["H1", "H2", "H1"])
    mask = paired_mask(
        n, np.array([0, 1, 2, 0]), np.array([0, 0, 0, 1]), [("U1", "H1")], ["U1", "C1"]
    )
    assert mask.tolist() == [True, False, True, False]

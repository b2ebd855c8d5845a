"""Assignment is pure: capacity is never exceeded, coverage comes first, then fairness, then
score; OR-Tools and networkx agree."""

from __future__ import annotations

import numpy as np

from matching.assignment import (
    AssignmentProblem,
    assignment_stats,
    solve,
    top_k_edges,
)


def problem(
    need_idx: list[int],
    helper_idx: list[int],
    scores: list[float],
    remaining: list[int],
    village: list[int],
) -> AssignmentProblem:
    return AssignmentProblem(
        need_idx=np.array(need_idx, dtype=np.int64),
        helper_idx=np.array(helper_idx, dtype=np.int64),
        scores=np.array(scores, dtype=np.float64),
        remaining=np.array(remaining, dtype=np.int64),
        village=np.array(village, dtype=np.int64),
        best_score=1.0,
    )


def test_top_k_edges_keeps_each_needs_best() -> None:
    need_idx = np.array([0, 0, 0, 1, 1, 2])
    scores = np.array([0.1, 0.9, 0.5, 0.2, 0.3, 0.7])
    kept = top_k_edges(need_idx, scores, 2)
    assert sorted(kept.tolist()) == [1, 2, 3, 4, 5]
    assert top_k_edges(need_idx, scores, 1).tolist() == [1, 4, 5]


def test_capacity_is_never_exceeded_and_better_edges_win() -> None:
    # Three needs want helper 0 (capacity 1); helper 1 (capacity 5) is the second choice.
    p = problem(
        need_idx=[0, 0, 1, 1, 2, 2],
        helper_idx=[0, 1, 0, 1, 0, 1],
        scores=[0.9, 0.5, 0.8, 0.6, 0.7, 0.1],
        remaining=[1, 5],
        village=[0, 0, 0],
    )
    result = solve(p, top_k=5)
    assert result.assigned == 3
    assert np.bincount(result.helper_of_need, minlength=2).tolist() == [1, 2]
    # Best total: need 2 loses most by moving (0.7 -> 0.1), so it keeps helper 0.
    assert result.helper_of_need.tolist() == [1, 1, 0]
    assert assignment_stats(p, result).capacity_violations == 0


def test_coverage_comes_before_score() -> None:
    # Need 0 prefers helper 0, but only need 1 can use helper 0: both get served.
    p = problem(
        need_idx=[0, 0, 1],
        helper_idx=[0, 1, 0],
        scores=[1.0, 0.0, 0.1],
        remaining=[1, 1],
        village=[0, 0],
    )
    result = solve(p)
    assert result.helper_of_need.tolist() == [1, 0]


def test_needs_without_candidates_stay_unassigned() -> None:
    p = problem([0], [0], [0.5], remaining=[3], village=[0, 1])
    result = solve(p)
    assert result.helper_of_need.tolist() == [0, -1]
    stats = assignment_stats(p, result)
    assert (stats.needs, stats.feasible, stats.assigned) == (2, 1, 1)
    assert stats.feasible_coverage == 1.0


def test_the_fairness_guard_keeps_a_small_village_from_starving() -> None:
    # One helper with capacity 2; village 0 has four strong needs, village 1 two weak ones.
    p = problem(
        need_idx=[0, 1, 2, 3, 4, 5],
        helper_idx=[0] * 6,
        scores=[0.9, 0.9, 0.9, 0.9, 0.5, 0.5],
        remaining=[2],
        village=[0, 0, 0, 0, 1, 1],
    )
    greedy = solve(p, min_share=0.0)
    fair = solve(p, min_share=0.5)
    assert greedy.assigned == fair.assigned == 2
    assert (greedy.helper_of_need[4:] >= 0).sum() == 0  # village 1 starved without the guard
    assert (fair.helper_of_need[4:] >= 0).sum() == 1
    assert fair.quota.tolist() == [1, 1]  # ceil(0.5 * 2/6 * n_v)
    assert assignment_stats(p, fair).village_coverage_min == 0.25  # 1 of 4, 1 of 2
    assert assignment_stats(p, greedy).village_coverage_min == 0.0
    assert assignment_stats(p, greedy).starved_villages == 1


def test_ortools_and_networkx_agree_on_a_random_instance() -> None:
    rng = np.random.default_rng(7)
    n_needs, n_helpers = 60, 8
    pairs = {(int(i), int(j)) for i, j in rng.integers(0, [n_needs, n_helpers], size=(240, 2))}
    need_idx = np.array([i for i, _ in sorted(pairs)])
    helper_idx = np.array([j for _, j in sorted(pairs)])
    p = AssignmentProblem(
        need_idx=need_idx,
        helper_idx=helper_idx,
        scores=rng.random(need_idx.size).round(3),
        remaining=rng.integers(0, 6, n_helpers),
        village=rng.integers(0, 6, n_needs),
        best_score=1.0,
    )
    a = solve(p, top_k=4, solver="ortools")
    b = solve(p, top_k=4, solver="networkx")
    assert a.assigned == b.assigned
    assert np.nansum(a.score_of_need) == np.nansum(b.score_of_need)
    for r in (a, b):
        stats = assignment_stats(p, r)
        assert stats.capacity_violations == 0
        load = np.bincount(r.helper_of_need[r.helper_of_need >= 0], minlength=n_helpers)
        assert (load <= p.remaining).all()

"""The offline evaluation on a generated county (no database): the ranker beats both baselines,
assignment never exceeds capacity, and the fairness guard protects villages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graph.synthetic import Scale
from matching.evaluation import (
    EvaluationReport,
    evaluate,
    format_report,
    ndcg_at_k,
    on_time_probability,
)


@pytest.fixture(scope="module")
def report() -> EvaluationReport:
    return evaluate(Scale.COUNTY, seed=1)


def test_ndcg_of_a_known_ranking() -> None:
    need_idx = np.array([0, 0, 0, 1, 1])
    rel = np.array([0.0, 1.0, 0.5, 0.0, 0.0])  # need 1 has nothing relevant: left out
    perfect = ndcg_at_k(need_idx, rel, rel, n_needs=2, k=2)
    assert perfect == pytest.approx(1.0)
    worst = ndcg_at_k(need_idx, -rel, rel, n_needs=2, k=2)  # order: rel 0, 0.5, 1
    ideal = 1.0 + 0.5 / math.log2(3)
    assert worst == pytest.approx((0.5 / math.log2(3)) / ideal)
    assert ndcg_at_k(need_idx, rel, rel, n_needs=2, k=1) == pytest.approx(1.0)


def test_on_time_probability_falls_with_slower_helpers() -> None:
    p = on_time_probability(np.array([5.0, 30.0, 90.0]), seed=1)
    assert p[0] > p[1] > p[2]
    assert p[0] == 1.0 and 0.0 <= p[2] < 0.5


def test_the_ranker_beats_both_baselines(report: EvaluationReport) -> None:
    by_name = {r.name: r for r in report.rankers}
    random, category = by_name["random"], by_name["category only"]
    ranker = by_name["ranker (hand-set weights)"]
    assert report.open_needs > 2_000 and report.helpers > 100
    assert ranker.ndcg_at_10 > category.ndcg_at_10 > random.ndcg_at_10
    assert ranker.top1_fulfilment > category.top1_fulfilment > random.top1_fulfilment


def test_assignment_respects_capacity_and_the_guard_protects_villages(
    report: EvaluationReport,
) -> None:
    by_name = {a.name: a for a in report.assignments}
    for a in report.assignments:
        assert a.capacity_violations == 0
    assert by_name["fairness guard"].coverage > 0.95  # the generated capacity suffices
    guarded, greedy = by_name["10% capacity, fairness guard"], by_name["10% capacity, no guard"]
    assert guarded.assigned == greedy.assigned  # the guard costs no coverage
    assert guarded.village_coverage_min > greedy.village_coverage_min
    assert guarded.starved_villages < greedy.starved_villages


def test_the_report_prints_every_figure(report: EvaluationReport) -> None:
    text = format_report(report)
    for word in ("NDCG@10", "random", "category only", "capacity violations", "village coverage"):
        assert word in text

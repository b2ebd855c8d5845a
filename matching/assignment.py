"""Capacity-constrained global assignment of open needs to helpers: a min-cost flow over each
need's top-k candidate edges, with a fairness guard per village. Pure: arrays in, arrays out.

The network (every arc built from numpy arrays in one call, never a Python loop per arc):

    need i (supply 1) --[cap 1, cost c_ij]--> helper j --[cap remaining_j, cost 0]--> sink
    need i --[cap 1, cost 0]--> village v(i)            (the "left unassigned" route)
    village v --[cap n_v - q_v, cost P]-----> sink      (ordinary unassigned needs)
    village v --[cap q_v,       cost P + F]--> sink      (unassigned needs below the quota)

c_ij = round(1000 * (S - score_ij)) for the best possible score S, so a cheaper flow is a better
total score; P = 2 * 1000 * S makes assigning a need worth more than any difference in scores
(coverage first, then quality); F = P again makes every need a village leaves unassigned below
its quota q_v cost twice as much, so the solver takes capacity from well-covered villages for
starved ones before it leaves one behind. q_v = ceil(min_share * expected coverage * n_v), where
n_v counts the village's needs with at least one candidate and the expected coverage is total
remaining capacity / needs (at most 1): with the default min_share 0.5, when capacity can cover
80% of needs every village is protected up to 40% of its needs (as far as its candidates'
capacity allows), and rounding up protects at least one need of every village with a candidate.

No helper can exceed its remaining capacity: that is the capacity of its arc to the sink, a hard
constraint of the flow, and `assignment_stats` counts violations again on the result.

Solver: OR-Tools' SimpleMinCostFlow, chosen by measured speed (bench/matching.py, the shared
2-core machine, the province's problem cut to one region, top-10 edges per need): the largest
county (8,162 open needs, 49,559 edges) solves in 0.28 s against 9.6 s with networkx's
network_simplex, its city (29,874 needs, 163,448 edges) in 1.2 s against 50.5 s, both to the same
optimum; the whole province (232,768 needs, 1.29M edges) in 10-19 s with OR-Tools. networkx,
35-41 times slower and growing faster than the problem, was not run on the province; it stays
available (`solver="networkx"`) for cross-checking small instances.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Solver = Literal["ortools", "networkx"]

COST_SCALE = 1000  # score units per cost unit: scores differ meaningfully at 0.001


@dataclass(frozen=True)
class AssignmentProblem:
    """Candidate edges (need i, helper j, score) and the sides' attributes."""

    need_idx: IntArray
    helper_idx: IntArray
    scores: FloatArray
    remaining: IntArray  # per helper: claims it may still take
    village: IntArray  # per need: index of its village (the fairness group)
    best_score: float  # the highest score possible (sum of weights)

    @property
    def n_needs(self) -> int:
        return int(self.village.shape[0])

    @property
    def n_helpers(self) -> int:
        return int(self.remaining.shape[0])


@dataclass(frozen=True)
class AssignmentResult:
    helper_of_need: IntArray  # helper index per need, -1 when unassigned
    score_of_need: FloatArray  # score of the chosen edge, NaN when unassigned
    edges: int  # arcs from needs to helpers after the top-k cut
    quota: IntArray  # per village: needs the fairness guard protects
    seconds: float
    solver: Solver

    @property
    def assigned(self) -> int:
        return int((self.helper_of_need >= 0).sum())


def top_k_edges(need_idx: IntArray, scores: FloatArray, k: int) -> IntArray:
    """Indices of each need's k best edges (vectorised: one sort, no loop per need)."""
    if need_idx.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((-scores, need_idx))
    sorted_need = need_idx[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = sorted_need[1:] != sorted_need[:-1]
    positions = np.arange(order.size)
    group_start = np.maximum.accumulate(np.where(first, positions, 0))
    return np.asarray(order[positions - group_start < k], dtype=np.int64)


def village_quota(
    problem: AssignmentProblem, has_edge: NDArray[np.bool_], min_share: float
) -> IntArray:
    n_villages = int(problem.village.max()) + 1 if problem.n_needs else 0
    feasible = np.bincount(problem.village[has_edge], minlength=n_villages)
    total = int(feasible.sum())
    coverage = min(1.0, float(problem.remaining.sum()) / total) if total else 0.0
    quota: IntArray = np.ceil(min_share * coverage * feasible - 1e-9).astype(np.int64)
    return quota


def solve(
    problem: AssignmentProblem,
    *,
    top_k: int = 10,
    min_share: float = 0.5,
    solver: Solver = "ortools",
) -> AssignmentResult:
    """Assign each need at most one helper, maximising coverage, then fairness, then score."""
    started = time.perf_counter()
    keep = top_k_edges(problem.need_idx, problem.scores, top_k)
    keep = keep[problem.remaining[problem.helper_idx[keep]] > 0]
    e_need = problem.need_idx[keep]
    e_helper = problem.helper_idx[keep]
    e_score = problem.scores[keep]
    n, h = problem.n_needs, problem.n_helpers
    has_edge = np.zeros(n, dtype=bool)
    has_edge[e_need] = True
    quota = village_quota(problem, has_edge, min_share)
    n_villages = quota.shape[0]

    span = max(problem.best_score, float(e_score.max()) if e_score.size else 0.0)
    edge_cost = np.rint(COST_SCALE * (span - e_score)).astype(np.int64)
    penalty = 2 * COST_SCALE * max(span, 1.0)
    penalty_int = int(np.ceil(penalty))

    # Node numbering: needs 0..n-1, helpers n..n+h-1, villages after, then the sink.
    helper_base = n
    village_base = n + h
    sink = village_base + n_villages
    # Needs without any candidate go straight to their village (unassigned); they are outside
    # the quota's counts, so the ordinary-tier capacity of their village must take them too.
    village_all = np.bincount(problem.village, minlength=n_villages)
    ordinary_cap = village_all - quota
    tails = np.concatenate(
        [
            e_need,
            helper_base + np.arange(h),
            np.arange(n),
            village_base + np.arange(n_villages),
            village_base + np.arange(n_villages),
        ]
    )
    heads = np.concatenate(
        [
            helper_base + e_helper,
            np.full(h, sink),
            village_base + problem.village,
            np.full(n_villages, sink),
            np.full(n_villages, sink),
        ]
    )
    caps = np.concatenate(
        [
            np.ones(e_need.size, dtype=np.int64),
            problem.remaining.astype(np.int64),
            np.ones(n, dtype=np.int64),
            ordinary_cap,
            quota,
        ]
    )
    costs = np.concatenate(
        [
            edge_cost,
            np.zeros(h, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.full(n_villages, penalty_int, dtype=np.int64),
            np.full(n_villages, 2 * penalty_int, dtype=np.int64),
        ]
    )
    supplies = np.concatenate([np.ones(n, dtype=np.int64), np.zeros(h + n_villages, np.int64)])
    supplies = np.append(supplies, -n)

    if solver == "ortools":
        flow = _solve_ortools(tails, heads, caps, costs, supplies)
    else:
        flow = _solve_networkx(tails, heads, caps, costs, supplies)
    used = np.flatnonzero(flow[: e_need.size] > 0)
    helper_of_need = np.full(n, -1, dtype=np.int64)
    score_of_need = np.full(n, np.nan)
    helper_of_need[e_need[used]] = e_helper[used]
    score_of_need[e_need[used]] = e_score[used]
    return AssignmentResult(
        helper_of_need=helper_of_need,
        score_of_need=score_of_need,
        edges=int(e_need.size),
        quota=quota,
        seconds=time.perf_counter() - started,
        solver=solver,
    )


def _solve_ortools(
    tails: IntArray, heads: IntArray, caps: IntArray, costs: IntArray, supplies: IntArray
) -> IntArray:
    from ortools.graph.python import (  # type: ignore[import-untyped]  # noqa: PLC0415
        min_cost_flow,  # a native library: loaded when used
    )

    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    smcf.set_nodes_supplies(np.arange(supplies.size), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    return np.asarray(smcf.flows(arcs), dtype=np.int64)


def _solve_networkx(
    tails: IntArray, heads: IntArray, caps: IntArray, costs: IntArray, supplies: IntArray
) -> IntArray:
    import networkx as nx  # type: ignore[import-untyped]  # noqa: PLC0415 - cross-checks only

    graph = nx.DiGraph()
    # networkx wants demand = -supply; parallel arcs (two village tiers) need a middle node.
    graph.add_nodes_from((i, {"demand": -int(s)}) for i, s in enumerate(supplies.tolist()))
    extra = supplies.size
    mids: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    arcs: list[tuple[int, int]] = []
    for t, hd, c, w in zip(
        tails.tolist(), heads.tolist(), caps.tolist(), costs.tolist(), strict=True
    ):
        if (t, hd) in seen:
            graph.add_edge(t, extra, capacity=c, weight=w)
            graph.add_edge(extra, hd, capacity=c, weight=0)
            arcs.append((t, extra))
            mids.append((t, extra))
            extra += 1
        else:
            seen.add((t, hd))
            graph.add_edge(t, hd, capacity=c, weight=w)
            arcs.append((t, hd))
    flow_dict = nx.network_simplex(graph)[1]
    return np.array([flow_dict[t][hd] for t, hd in arcs], dtype=np.int64)


# --- what an official reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentStats:
    needs: int
    feasible: int  # needs with at least one candidate
    assigned: int
    coverage: float  # assigned / needs
    feasible_coverage: float  # assigned / feasible
    capacity_violations: int  # helpers assigned more than their remaining capacity: must be 0
    villages: int
    village_coverage_min: float
    village_coverage_p10: float
    village_coverage_median: float
    starved_villages: int  # villages with needs and coverage below half the median
    mean_score: float


def assignment_stats(problem: AssignmentProblem, result: AssignmentResult) -> AssignmentStats:
    n = problem.n_needs
    assigned_mask = result.helper_of_need >= 0
    load = np.bincount(result.helper_of_need[assigned_mask], minlength=problem.n_helpers)
    violations = int((load > problem.remaining).sum())
    has_edge = np.zeros(n, dtype=bool)
    has_edge[problem.need_idx] = True
    n_villages = int(problem.village.max()) + 1 if n else 0
    feasible = np.bincount(problem.village[has_edge], minlength=n_villages)
    got = np.bincount(problem.village[assigned_mask], minlength=n_villages)
    present = feasible > 0
    coverage = got[present] / feasible[present]
    median = float(np.median(coverage)) if coverage.size else 0.0
    return AssignmentStats(
        needs=n,
        feasible=int(has_edge.sum()),
        assigned=int(assigned_mask.sum()),
        coverage=float(assigned_mask.mean()) if n else 0.0,
        feasible_coverage=float(assigned_mask.sum() / max(has_edge.sum(), 1)),
        capacity_violations=violations,
        villages=int(present.sum()),
        village_coverage_min=float(coverage.min()) if coverage.size else 0.0,
        village_coverage_p10=float(np.quantile(coverage, 0.1)) if coverage.size else 0.0,
        village_coverage_median=median,
        starved_villages=int((coverage < 0.5 * median).sum()),
        mean_score=float(np.nanmean(result.score_of_need)) if assigned_mask.any() else 0.0,
    )

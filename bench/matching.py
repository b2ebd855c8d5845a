"""Benchmark: matching at province scale.

Pure part (no database; the province generated in-process, ~25 s):
  TF-IDF fit and embedding of every open need and helper, candidate enumeration and scoring,
  the whole-province assignment with OR-Tools (time and peak memory of this process), and
  networkx's network_simplex on the same problem cut to a county and to a city for the solver
  choice.
Database part (--db; needs a province graph in the configured Neo4j, e.g. `bangfu seed --scale
province` then `bangfu matching history` and `bangfu matching embed`):
  top-10 helpers for one open need and top-20 needs for one helper (p50/p95, warm), and the
  province assignment read from the graph.

    python bench/matching.py            # pure part
    python bench/matching.py --db       # both (uses BANGFU_ENV_FILE's instance)

Writes bench/results/matching.json (the parts run this time replace their old figures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "matching.json"
# Run as a script, this file's directory (bench/) comes first on sys.path, and bench/matching.py
# would shadow the `matching` package: the checkout's root goes first instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def reset_peak() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def timed(label: str, fn: Callable[[], Any], into: dict[str, Any]) -> Any:
    reset_peak()
    started = time.perf_counter()
    value = fn()
    into[label] = {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mib": peak_rss_mib(),
    }
    print(f"{label}: {into[label]}", flush=True)
    return value


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "n": len(samples),
        "p50_ms": round(float(np.median(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "max_ms": round(float(ms.max()), 1),
    }


def pure_part(seed: int, networkx: bool) -> dict[str, Any]:
    from graph.synthetic import Scale  # noqa: PLC0415
    from matching.assignment import AssignmentProblem, assignment_stats, solve  # noqa: PLC0415
    from matching.evaluation import fit_tfidf, load_data, with_embeddings  # noqa: PLC0415
    from matching.ranking import RankingWeights, eligible_pairs, pair_scores  # noqa: PLC0415

    stages: dict[str, Any] = {}
    raw = timed("generate_province", lambda: load_data(Scale.PROVINCE, seed), stages)
    encoder = timed("tfidf_fit_60k_sample", lambda: _fit_sample(raw, fit_tfidf), stages)
    data, _ = timed("embed_open_needs_and_helpers", lambda: with_embeddings(raw, encoder), stages)
    weights = RankingWeights()

    def score() -> tuple[Any, ...]:
        need_idx, helper_idx, paired = eligible_pairs(
            data.needs, data.helpers, data.service_regions, data.pairs
        )
        scores = pair_scores(
            data.needs,
            data.helpers,
            need_idx,
            helper_idx,
            paired,
            data.today,
            weights,
            data.text_range,
        )
        return need_idx, helper_idx, scores

    need_idx, helper_idx, scores = timed("candidates_and_scores", score, stages)
    _, village = np.unique(data.needs.village, return_inverse=True)
    problem = AssignmentProblem(
        need_idx=need_idx,
        helper_idx=helper_idx,
        scores=scores,
        remaining=data.helpers.remaining,
        village=village.astype(np.int64),
        best_score=float(weights.vector().sum()),
    )
    result = timed("assignment_ortools_top10", lambda: solve(problem, top_k=10), stages)
    stats = assignment_stats(problem, result)
    out: dict[str, Any] = {
        "open_needs": data.needs.size,
        "helpers": data.helpers.size,
        "candidate_pairs": int(need_idx.size),
        "assignment_edges_top10": result.edges,
        "assignment": {
            "assigned": stats.assigned,
            "coverage": round(stats.coverage, 4),
            "capacity_violations": stats.capacity_violations,
            "village_coverage_min": round(stats.village_coverage_min, 4),
            "village_coverage_median": round(stats.village_coverage_median, 4),
            "starved_villages": stats.starved_villages,
        },
        "stages": stages,
    }
    # The assignment proper: candidates, scores and the solve. Fitting the encoder and embedding
    # are the batch's work (`bangfu matching embed`), done before and stored on the nodes.
    out["province_assignment_s"] = round(
        stages["candidates_and_scores"]["seconds"] + stages["assignment_ortools_top10"]["seconds"],
        1,
    )
    out["assignment_peak_rss_mib"] = max(
        stages[s]["peak_rss_mib"] for s in ("candidates_and_scores", "assignment_ortools_top10")
    )
    out["peak_rss_mib"] = max(stage["peak_rss_mib"] for stage in stages.values())
    if networkx:
        out["solver_choice"] = _solver_choice(problem, data)
    return out


def _fit_sample(raw: Any, fit: Callable[[Any], Any]) -> Any:
    # Production fits on every n-th text up to 60k (matching/service.py); so does the benchmark.
    from dataclasses import replace  # noqa: PLC0415

    step = max(1, len(raw.need_texts) // 60_000)
    return fit(replace(raw, need_texts=raw.need_texts[::step]))


def _solver_choice(problem: Any, data: Any) -> dict[str, Any]:
    """OR-Tools against networkx on the province's problem cut to one county and one city."""
    from matching.assignment import AssignmentProblem, solve  # noqa: PLC0415

    rows: dict[str, Any] = {}
    codes = data.needs.village // 10**6  # county codes
    county = int(np.bincount(codes - codes.min()).argmax() + codes.min())
    city = county // 100
    for name, mask in (
        ("largest_county", codes == county),
        ("its_city", (codes // 100) == city),
    ):
        keep_needs = np.flatnonzero(mask)
        new_index = np.full(mask.size, -1)
        new_index[keep_needs] = np.arange(keep_needs.size)
        edge = mask[problem.need_idx]
        sub = AssignmentProblem(
            need_idx=new_index[problem.need_idx[edge]],
            helper_idx=problem.helper_idx[edge],
            scores=problem.scores[edge],
            remaining=problem.remaining,
            village=np.unique(problem.village[keep_needs], return_inverse=True)[1],
            best_score=problem.best_score,
        )
        entry: dict[str, Any] = {"needs": int(keep_needs.size)}
        a = solve(sub, top_k=10, solver="ortools")
        entry["edges"] = a.edges
        entry["ortools_s"] = round(a.seconds, 3)
        if rows and rows["largest_county"]["networkx_s"] > 30:
            entry["networkx_s"] = None  # a city would take many minutes: not attempted
            rows[name] = entry
            continue
        b = solve(sub, top_k=10, solver="networkx")
        entry["networkx_s"] = round(b.seconds, 3)
        entry["same_assigned"] = a.assigned == b.assigned
        # Costs are scores rounded to 1/1000: equal optima may differ by that much per edge.
        entry["same_total_score"] = bool(
            abs(float(np.nansum(a.score_of_need)) - float(np.nansum(b.score_of_need)))
            <= 0.0005 * max(a.assigned, 1)
        )
        rows[name] = entry
        print(f"solver choice {name}: {entry}", flush=True)
    return rows


def db_part(samples: int) -> dict[str, Any]:
    from bangfu.settings import get_settings  # noqa: PLC0415
    from graph.client import get_graph  # noqa: PLC0415
    from graph.repositories.matching import MatchingRepository  # noqa: PLC0415
    from matching.needs import SYSTEM_CALLER  # noqa: PLC0415
    from matching.service import MatchingService  # noqa: PLC0415

    graph = get_graph()
    service = MatchingService(MatchingRepository(graph), get_settings().matching)
    counts = graph.read_one(
        "MATCH (n:Need) WHERE n.status = 'open' RETURN count(n) AS open_needs"
    ) or {"open_needs": 0}
    out: dict[str, Any] = {"open_needs_in_graph": int(counts["open_needs"])}
    rng = random.Random(7)
    ids = [
        r["id"]
        for r in graph.read(
            "MATCH (n:Need) WHERE n.status = 'open' RETURN n.id AS id ORDER BY id SKIP $skip "
            "LIMIT 20000",
            skip=rng.randrange(0, max(1, out["open_needs_in_graph"] - 20_000)),
        )
    ]
    chosen = rng.sample(ids, min(len(ids), samples + 50))
    latencies: list[float] = []
    for i, need_id in enumerate(chosen):
        started = time.perf_counter()
        service.matches_for_need(SYSTEM_CALLER, need_id, 10)
        if i >= 50:  # the first 50 warm the caches
            latencies.append(time.perf_counter() - started)
    out["top10_helpers_for_need"] = percentiles(latencies)
    print(f"top-10 helpers for a need: {out['top10_helpers_for_need']}", flush=True)

    helpers = graph.read("MATCH (h:Helper) RETURN h.id AS id, h.service_regions AS regions")
    levels = {2: "province", 4: "city", 6: "county", 9: "town", 12: "village"}
    by_level: dict[str, list[str]] = {}
    for h in helpers:
        by_level.setdefault(levels[min(len(c) for c in h["regions"])], []).append(h["id"])
    out["top20_needs_for_helper"] = {}
    for level in levels.values():
        pool = by_level.get(level, [])
        picked = rng.sample(pool, min(len(pool), 30))
        for helper_id in picked[:3]:
            service.recommendations_for_helper(SYSTEM_CALLER, helper_id, 20)  # warm
        lat: list[float] = []
        for helper_id in picked:
            started = time.perf_counter()
            service.recommendations_for_helper(SYSTEM_CALLER, helper_id, 20)
            lat.append(time.perf_counter() - started)
        out["top20_needs_for_helper"][level] = {"helpers": len(pool), **percentiles(lat)}
        print(f"top-20 needs, {level} helpers: {out['top20_needs_for_helper'][level]}", flush=True)
    reset_peak()
    started = time.perf_counter()
    summary, _ = service.compute_assignment(
        "44", get_settings().matching.assignment_top_k, get_settings().matching.fairness_min_share
    )
    out["province_assignment_from_graph"] = {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mib": peak_rss_mib(),
        "solve_s": summary.seconds,
        "needs": summary.needs,
        "assigned": summary.assigned,
        "coverage": summary.coverage,
        "capacity_violations": summary.capacity_violations,
        "village_coverage_min": summary.village_coverage_min,
        "starved_villages": summary.starved_villages,
        "edges": summary.edges,
    }
    print(f"province assignment from the graph: {out['province_assignment_from_graph']}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", action="store_true", help="also the database part")
    parser.add_argument("--no-pure", action="store_true", help="skip the pure part")
    parser.add_argument("--no-networkx", action="store_true", help="skip the solver comparison")
    parser.add_argument("--samples", type=int, default=300, help="needs timed in the db part")
    args = parser.parse_args()
    result: dict[str, Any] = json.loads(OUT.read_text()) if OUT.exists() else {}
    result["machine"] = {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
    }
    if not args.no_pure:
        result["pure"] = pure_part(args.seed, networkx=not args.no_networkx)
    if args.db:
        result["db"] = db_part(args.samples)
    result["machine"]["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

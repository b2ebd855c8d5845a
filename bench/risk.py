"""Benchmark: the risk model at province scale.

    python bench/risk.py                          # train, load the province, score it
    python bench/risk.py --phases train           # no database: features, training, model alone
    python bench/risk.py --phases load,score      # load the province, score it end to end
    python bench/risk.py --scale county           # the same on one county (a minute)

Uses the Neo4j and Redis the BANGFU_* environment points at (like the app: BANGFU_STATE_DIR,
BANGFU_NEO4J_PORT ...; never the demo's). The load phase restarts that instance on an empty
store, like bench/load_province.py, and loads the generated scale through the bulk loader, so
its time includes the yearly panels. Models go to a registry under .local/bench-models unless
BANGFU_RISK_MODEL_DIR says otherwise; the score phase activates the one the train phase made.

Measures: feature building and training time (no database), the model's AUC on a later year
against the oracle and the rules, the model alone (households scored per second, calibrated),
and end to end (read features from Neo4j, score, explain, write alerts back). Results go to
bench/results/risk.json (risk_<scale>.json for smaller scales); each phase updates its part.
Phases run one after the other in this process; each frees its data before the next, so the
training matrices (~1.5 GB at province scale) are gone before Neo4j is loaded.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("train", "load", "score")


def services(command: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "ops" / "services.py"), command], check=True)


def machine() -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    """Other work on the machine slows every figure here; the load average says how much."""
    return [round(x, 2) for x in os.getloadavg()]


def train_phase(scale_name: str, seed: int) -> dict[str, Any]:
    from bangfu.settings import get_settings  # noqa: PLC0415 - after the environment is set
    from graph.synthetic import Scale  # noqa: PLC0415
    from ml import pipeline  # noqa: PLC0415
    from ml.explain import explain  # noqa: PLC0415
    from ml.registry import ModelRegistry  # noqa: PLC0415

    settings = get_settings().risk
    out: dict[str, Any] = {"load_average_at_start": load_average()}
    data = pipeline.synthetic_data(Scale(scale_name), seed, settings)
    out["features_s"] = data.seconds
    print(f"features for {data.households:,} households x 6 years in {data.seconds} s")
    started = time.perf_counter()
    trained = pipeline.train_synthetic(data, settings)
    train_total = time.perf_counter() - started
    report = pipeline.report_for(data, trained, None, None, settings, effects=False)
    overall = report.groups[0]
    out["training"] = {
        "rows": trained.train_rows,
        "calibration_rows": trained.calibration_rows,
        "rounds": trained.best_iteration,
        "boosting_s": trained.train_seconds,
        "total_s": round(train_total, 1),
    }
    out["quality"] = {
        "test_year": report.test_year,
        "model_auc": overall.model.auc,
        "oracle_auc": overall.oracle.auc if overall.oracle else None,
        "oracle_minus_model": report.oracle_gap,
        "rules_auc": overall.rules.auc,
        "model_pr_auc": overall.model.pr_auc,
        "oracle_pr_auc": overall.oracle.pr_auc if overall.oracle else None,
        "model_ece": overall.model.ece,
        "precision_at_capacity": overall.model.precision_at_capacity,
        "recall_at_capacity": overall.model.recall_at_capacity,
        "oracle_precision_at_capacity": (
            overall.oracle.precision_at_capacity if overall.oracle else None
        ),
        "capacity_alerts": report.capacity_alerts,
        "per_group_auc": {
            g.group: [g.model.auc, g.oracle.auc if g.oracle else None, g.rules.auc]
            for g in report.groups
        },
    }
    print(json.dumps(out["quality"], indent=2, ensure_ascii=False))
    registry = ModelRegistry(settings.model_dir)
    card = registry.register(
        trained, f"synthetic:{scale_name}:{seed}", pipeline.card_metrics(report)
    )
    out["model_version"] = card.version

    test = data.years[report.test_year]
    X = test.X.astype(np.float64)
    started = time.perf_counter()
    trained.model.predict(X)
    alone = time.perf_counter() - started
    sample = X[: min(20_000, X.shape[0])]
    started = time.perf_counter()
    explain(trained.model, sample, settings.top_factors)
    explained = time.perf_counter() - started
    out["model_alone"] = {
        "households": int(X.shape[0]),
        "seconds": round(alone, 3),
        "households_per_s": round(X.shape[0] / alone),
        "explanations_per_s": round(sample.shape[0] / explained),
    }
    print(f"model alone: {X.shape[0] / alone:,.0f} households/s")
    return out


def load_phase(scale_name: str, seed: int) -> dict[str, Any]:
    services("down")
    state = Path(os.environ.get("BANGFU_STATE_DIR", ROOT / ".local"))
    shutil.rmtree(state / "neo4j", ignore_errors=True)
    services("up")
    from graph.client import get_graph  # noqa: PLC0415
    from graph.pii import get_vault  # noqa: PLC0415
    from graph.seeding import graph_size, seed_graph  # noqa: PLC0415
    from graph.synthetic import Scale  # noqa: PLC0415

    out: dict[str, Any] = {"load_average_at_start": load_average()}
    graph = get_graph()
    started = time.perf_counter()
    stats = seed_graph(graph, get_vault(), Scale(scale_name), seed, progress=True)
    nodes, relationships = graph_size(graph)
    out.update(
        seconds=round(time.perf_counter() - started, 1),
        nodes=nodes,
        relationships=relationships,
        table_seconds=stats.table_seconds,
        household_years_rows=stats.rows.get("household_years", 0),
    )
    print(json.dumps(out, indent=2))
    return out


def score_phase(period: str, version: str | None) -> dict[str, Any]:
    from bangfu.settings import get_settings  # noqa: PLC0415
    from graph.client import get_graph  # noqa: PLC0415
    from graph.repositories.audit import AuditRepository  # noqa: PLC0415
    from ml import pipeline  # noqa: PLC0415
    from ml.registry import ModelRegistry  # noqa: PLC0415

    settings = get_settings().risk
    graph = get_graph()
    registry = ModelRegistry(settings.model_dir)
    chosen = version or registry.versions()[-1].version
    registry.activate(chosen, "bench", AuditRepository(graph))
    service = pipeline.scoring_service(graph, settings)
    out: dict[str, Any] = {"load_average_at_start": load_average(), "model_version": chosen}
    run = service.score(period)
    out["first_run"] = run.model_dump(mode="json", exclude={"drift"}) | {
        "drift_shifting": run.drift.shifting if run.drift else None
    }
    rate = f"{run.households_per_s:,.0f}/s"
    print(f"end to end: {run.households:,} households in {run.seconds} s ({rate})")
    # The same night again: caches are warm and every alert already exists.
    again = service.score(period)
    out["second_run"] = {
        "seconds": again.seconds,
        "households_per_s": again.households_per_s,
        "alerts": again.alerts,
        "no_new_alerts": again.alerts == run.alerts,
    }
    print(f"again: {again.seconds} s ({again.households_per_s:,.0f}/s)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="province", choices=["village", "county", "province"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--period", default="2026")
    parser.add_argument("--version", default=None, help="model to score with (default: newest)")
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    if not set(phases) <= set(PHASES):
        parser.error(f"phases are {', '.join(PHASES)}")
    os.environ.setdefault("BANGFU_RISK_MODEL_DIR", str(ROOT / ".local" / "bench-models"))

    name = "risk.json" if args.scale == "province" else f"risk_{args.scale}.json"
    path = ROOT / "bench" / "results" / name
    result: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    result.update(scale=args.scale, seed=args.seed, machine=machine())
    if "train" in phases:
        result["train"] = train_phase(args.scale, args.seed)
        gc.collect()
    if "load" in phases:
        result["load"] = load_phase(args.scale, args.seed)
    if "score" in phases:
        version = args.version or result.get("train", {}).get("model_version")
        result["end_to_end"] = score_phase(args.period, version)
    result["peak_rss_python_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()

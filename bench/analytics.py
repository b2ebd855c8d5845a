"""Benchmark: latency of every analytics dashboard query at province scale, through HTTP.

uvicorn (2 workers) serves the app against the benchmark store (Neo4j 7689 / Redis 6381, state
in .local/bench, as bench/api_load.py, whose store handling this reuses: it is seeded only when
it does not hold exactly the province's 664,000 households):

    python bench/analytics.py                 # refreshes the statistics first if missing
    python bench/analytics.py --refresh       # re-run the precompute job (timed) first

The precompute is the real chunked job (`bangfu.stats.plan` / `bangfu.stats.chunk`) under a
real Celery worker (concurrency 2); its wall time is taken from the job record (created to
finished). Then, for each caller (an admin at the province, an official of the biggest county,
an official of a town) and each table, a few warm-up requests and `--requests` timed ones, one
at a time, with httpx: p50/p95/max in ms. Exports (CSV and XLSX) are timed for the province.
The province's headline figures are checked against the seed document.

Writes bench/results/analytics.json with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This checkout's packages first (not whichever one the shared environment was installed from).
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from api_load import ENV, STATE, ensure_seeded, serve  # noqa: E402

API = "/api/v1"
WARMUP = 3
SEED_FIGURES = {
    "city_count": 14,
    "county_count": 97,
    "town_count": 1_112,
    "village_count": 16_483,
    "households": 664_000,
    "people": 1_731_000,
    "big_counties": 10,
    "big_towns": 30,
    "cause_illness_pct": 36.2,
    "cause_lack_of_labour_pct": 23.3,
    "cause_disability_pct": 19.9,
    "cause_schooling_pct": 4.9,
    "cause_lack_of_funds_pct": 4.5,
    "cause_other_pct": 11.2,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def run_precompute(graph: Any) -> dict[str, Any]:
    """The chunked statistics job over the whole province under a real worker; timed."""
    from graph.repositories.jobs import JobRepository  # noqa: PLC0415
    from workers.celery_app import app as celery_app  # noqa: PLC0415
    from workers.jobs import create_region_stats_job  # noqa: PLC0415

    log = (STATE / "logs" / "analytics_worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "-n",
            f"bench-analytics-{secrets.token_hex(3)}@%h",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        jobs = JobRepository(graph)
        job = create_region_stats_job(jobs, created_by="bench")
        celery_app.send_task("bangfu.stats.plan", args=[job.id])
        while True:
            state = jobs.get(job.id)
            if state.state.value in ("succeeded", "failed"):
                break
            time.sleep(2)
        if state.state.value != "succeeded":
            raise SystemExit(f"statistics job {job.id} {state.state.value}: {state.error}")
        assert state.finished_at is not None
        return {
            "job": job.id,
            "villages": state.rows_done,
            "chunks": state.chunks_total,
            "worker_concurrency": 2,
            "seconds": round((state.finished_at - state.created_at).total_seconds(), 1),
        }
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def stats_complete(graph: Any) -> bool:
    row = graph.read_one(
        "MATCH (s:RegionStats {code: '44'}) RETURN s.villages AS v, s.`income:wage` AS w"
    )
    return bool(row and row["v"] == 16_483 and row["w"] is not None)


def create_accounts(graph: Any, run: str) -> dict[str, tuple[str, str, str]]:
    """(username, password, region) for an admin, an official of the county with the most
    people and an official of that county's biggest town."""
    from pydantic import SecretStr  # noqa: PLC0415

    from api.audit import AuditTrail  # noqa: PLC0415
    from api.users import UserService  # noqa: PLC0415
    from bangfu.access import Role  # noqa: PLC0415
    from graph.repositories import AuditRepository  # noqa: PLC0415

    biggest = "MATCH (s:RegionStats) WHERE size(s.code) = $length AND s.code STARTS WITH $p RETURN s.code AS code ORDER BY s.people DESC LIMIT 1"  # noqa: E501
    county = str(graph.read_one(biggest, length=6, p="")["code"])
    town = str(graph.read_one(biggest, length=9, p=county)["code"])
    users = UserService(graph, AuditTrail.system(AuditRepository(graph), "bench"))
    accounts = {}
    for name, role, region in (
        ("admin", Role.ADMIN, "44"),
        ("county_official", Role.OFFICIAL, county),
        ("town_official", Role.OFFICIAL, town),
    ):
        password = "pw-" + secrets.token_urlsafe(16)
        username = f"bench-{name.replace('_', '-')}-{run}"
        users.create(username, SecretStr(password), role, None if role is Role.ADMIN else region)
        accounts[name] = (username, password, region)
    return accounts


def timed(client: httpx.Client, path: str, params: dict[str, str], n: int) -> dict[str, Any]:
    for _ in range(WARMUP):
        client.get(path, params=params).raise_for_status()
    samples = []
    size = 0
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "max_ms": round(max(samples), 1),
        "requests": n,
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refresh", action="store_true", help="re-run the precompute first")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per query")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "analytics.json")
    args = parser.parse_args()

    os.environ.update(ENV)
    load_before = [round(x, 2) for x in os.getloadavg()]
    store = ensure_seeded("province", seed=1, fresh=False)
    from api.analytics import TableName  # noqa: PLC0415 - after the environment is set
    from graph.client import get_graph  # noqa: PLC0415

    graph = get_graph()
    precompute = None
    if args.refresh or not stats_complete(graph):
        print("running the statistics job over the province ...")
        precompute = run_precompute(graph)
        print(json.dumps(precompute))
    accounts = create_accounts(graph, time.strftime("%m%d%H%M%S"))

    result: dict[str, Any] = {
        "scale": "province",
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": load_before,
        },
        "setup": {
            "uvicorn_workers": args.workers,
            "neo4j_heap": ENV["BANGFU_NEO4J_HEAP"],
            "neo4j_pagecache_mib": int(ENV["BANGFU_NEO4J_PAGECACHE_MIB"]),
            "store": store,
            "requests_per_query": args.requests,
            "warmup_per_query": WARMUP,
            "client": "httpx, one request at a time",
        },
        "precompute": precompute,
        "queries": {},
    }
    worst = 0.0
    with serve(args.workers, "api.app:app") as (url, _process):
        with httpx.Client(base_url=url, timeout=60) as anonymous:
            tokens = {}
            for name, (username, password, _region) in accounts.items():
                answer = anonymous.post(
                    f"{API}/auth/token", data={"username": username, "password": password}
                )
                answer.raise_for_status()
                tokens[name] = answer.json()["access_token"]
        for name, (_u, _p, region) in accounts.items():
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
                per_table = {}
                for table in TableName:
                    measured = timed(client, f"{API}/analytics/{table.value}", {}, args.requests)
                    per_table[table.value] = measured
                    worst = max(worst, measured["p95_ms"])
                    print(name, region, table.value, json.dumps(measured))
                result["queries"][f"{name} ({region})"] = per_table
                if name == "admin":
                    headline = client.get(f"{API}/analytics/headline").json()
                    result["seed_figures"] = {
                        key: {"seed": want, "api": headline["total"].get(key)}
                        for key, want in SEED_FIGURES.items()
                    }
                    result["computed_at"] = headline["computed_at"]
                    exports = {}
                    for table in ("households", "causes", "projects", "monthly"):
                        for fmt in ("csv", "xlsx"):
                            exports[f"{table}.{fmt}"] = timed(
                                client,
                                f"{API}/analytics/{table}/export",
                                {"format": fmt},
                                max(5, args.requests // 4),
                            )
                    result["exports"] = exports
    result["seed_figures_match"] = all(
        v["api"] == v["seed"] for v in result.get("seed_figures", {}).values()
    )
    result["worst_p95_ms"] = worst
    result["goal"] = "p95 < 300 ms per query"
    result["goal_met"] = worst < 300
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2, ensure_ascii=False))
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

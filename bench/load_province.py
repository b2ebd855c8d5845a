"""Benchmark: generate the synthetic province and load it into Neo4j through the driver.

Runs against its own Neo4j and Redis (ports 7689/6381, state in .local/bench), started on an
empty store, so it never touches the demo or test data:

    make bench                      # whole province
    python bench/load_province.py --scale county

Prints and stores (bench/results/load_<scale>.json) the generation-only time, the
generate-and-load time, nodes and relationships per second, and peak memory of this process and
of the Neo4j JVM.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".local" / "bench"
ENV = {
    "BANGFU_STATE_DIR": str(STATE),
    "BANGFU_NEO4J_PORT": "7689",
    "BANGFU_REDIS_PORT": "6381",
    "BANGFU_ENV_FILE": str(STATE / "secrets.env"),
    "BANGFU_NEO4J_HEAP": "4g",
    "BANGFU_NEO4J_PAGECACHE_MIB": "4096",
}


def services(command: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "ops" / "services.py"), command],
        env={**os.environ, **ENV},
        check=True,
    )


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="province", choices=["village", "county", "province"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-generate-only", action="store_true")
    args = parser.parse_args()

    os.environ.update(ENV)
    from graph.synthetic import Scale, generate  # noqa: PLC0415 - after the environment is set

    scale = Scale(args.scale)
    result: dict[str, object] = {
        "scale": scale.value,
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
            "python": platform.python_version(),
        },
    }
    if not args.skip_generate_only:
        started = time.perf_counter()
        rows = 0
        for batch in generate(scale, args.seed):
            rows += sum(len(t) for t in batch.tables.values())
        result["generate_only_s"] = round(time.perf_counter() - started, 1)
        result["generated_rows"] = rows
        print(f"generated {rows:,} rows in {result['generate_only_s']} s")

    # A fresh, empty store each run.
    services("down")
    shutil.rmtree(STATE / "neo4j", ignore_errors=True)
    services("up")
    from graph.client import get_graph  # noqa: PLC0415
    from graph.pii import get_vault  # noqa: PLC0415
    from graph.seeding import graph_size, seed_graph  # noqa: PLC0415

    graph = get_graph()
    started = time.perf_counter()
    stats = seed_graph(graph, get_vault(), scale, args.seed, progress=True)
    elapsed = time.perf_counter() - started
    nodes, relationships = graph_size(graph)
    neo4j_pid = int((STATE / "neo4j.pid").read_text())
    result.update(
        generate_and_load_s=round(elapsed, 1),
        rows=stats.rows,
        table_seconds=stats.table_seconds,
        nodes=nodes,
        relationships=relationships,
        nodes_per_s=round(nodes / elapsed),
        relationships_per_s=round(relationships / elapsed),
        peak_rss_python_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        peak_rss_neo4j_mib=round(peak_rss_mib(neo4j_pid)),
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out = ROOT / "bench" / "results" / f"load_{scale.value}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

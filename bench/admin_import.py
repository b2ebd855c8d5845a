"""Benchmark: generate the synthetic province and load it offline with neo4j-admin import.

The comparison to bench/load_province.py (the driver path). Runs against its own Neo4j and
Redis (ports 7698/6390, state in .local/adminbench), so it never touches anyone else's database:

    python bench/admin_import.py                  # whole province
    python bench/admin_import.py --scale county   # a quick run

Steps, each timed: write the CSV files (generation included, graph/admin_import.py), run the
import tool with Neo4j stopped, start Neo4j on the imported store, set the empty lists CSV cannot
hold, build constraints and indexes (graph.schema.apply_schema). Stores
bench/results/admin_import_<scale>.json with the times, nodes/s, the peak memory of this process,
its CSV workers, the import JVM and the Neo4j JVM, and the machine's load while it ran (the
machine is shared: a busy neighbour slows every figure).
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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".local" / "adminbench"
# Neo4j after the import gets what bench/load_province.py gives it (4 GiB heap, 4 GiB page
# cache), so index build times compare.
ENV = {
    "BANGFU_STATE_DIR": str(STATE),
    "BANGFU_NEO4J_PORT": "7698",
    "BANGFU_REDIS_PORT": "6390",
    "BANGFU_ENV_FILE": str(STATE / "secrets.env"),
    "BANGFU_NEO4J_HEAP": "4g",
    "BANGFU_NEO4J_PAGECACHE_MIB": "4096",
}
T = TypeVar("T")


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


def timed(items: Iterable[T], spent: list[float]) -> Iterator[T]:
    """Yield from `items`, adding the time spent producing them to spent[0]."""
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        spent[0] += time.perf_counter() - started
        yield item


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="province", choices=["village", "county", "province"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="CSV writer processes")
    parser.add_argument("--threads", type=int, default=2, help="import tool threads")
    parser.add_argument("--import-heap", default="1536m")
    parser.add_argument("--max-off-heap-memory", default="2g")
    parser.add_argument("--neo4j-heap", default=ENV["BANGFU_NEO4J_HEAP"])
    parser.add_argument("--neo4j-pagecache-mib", default=ENV["BANGFU_NEO4J_PAGECACHE_MIB"])
    parser.add_argument("--keep-running", action="store_true", help="leave Neo4j up afterwards")
    parser.add_argument("--keep-csv", action="store_true", help="keep the CSV (1.3 GiB province)")
    args = parser.parse_args()
    ENV.update(
        BANGFU_NEO4J_HEAP=args.neo4j_heap, BANGFU_NEO4J_PAGECACHE_MIB=args.neo4j_pagecache_mib
    )

    # Ours only, and stopped: the import needs the store closed. A first run creates the secrets
    # (the PII keys seal the CSV) and fetches the jars by starting once.
    services("down")
    if not (STATE / "secrets.env").exists():
        services("up")
        services("down")
    os.environ.update(ENV)
    # After the environment is set: settings read BANGFU_ENV_FILE on import.
    from graph.admin_import import (  # noqa: PLC0415
        ImportTool,
        default_neo4j_lib,
        finish_import,
        graph_counts,
        run_import,
        write_import_files,
    )
    from graph.client import get_graph  # noqa: PLC0415
    from graph.pii import get_vault  # noqa: PLC0415
    from graph.synthetic import Scale, generate  # noqa: PLC0415

    scale = Scale(args.scale)
    load_before = os.getloadavg()
    csv_dir = STATE / "import"
    shutil.rmtree(csv_dir, ignore_errors=True)

    def cpu_s(who: int) -> float:
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    cpu_before = cpu_s(resource.RUSAGE_SELF) + cpu_s(resource.RUSAGE_CHILDREN)
    generating = [0.0]
    files = write_import_files(
        timed(generate(scale, args.seed, progress=True), generating),
        csv_dir,
        get_vault(),
        workers=args.workers,
    )
    csv_mib = files.bytes / 2**20
    print(
        f"CSV: {files.nodes:,} nodes, {files.relationships:,} relationships, "
        f"{csv_mib:,.0f} MiB in {files.seconds:.1f} s"
    )
    # Read before the import: waiting for the import JVM adds it to the children's figure.
    peak_python = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    csv_cpu_s = cpu_s(resource.RUSAGE_SELF) + cpu_s(resource.RUSAGE_CHILDREN) - cpu_before

    home = STATE / "neo4j"
    tool = ImportTool(
        home=home,
        lib=default_neo4j_lib(),
        heap=args.import_heap,
        max_off_heap=args.max_off_heap_memory,
        threads=args.threads,
    )
    run = run_import(files, tool)
    print(f"import tool: {run.seconds:.1f} s, peak RSS {run.peak_rss_mib:,.0f} MiB")
    shutil.copy(run.log_path, STATE / "import.log")
    if not args.keep_csv:
        shutil.rmtree(csv_dir)

    started = time.perf_counter()
    services("up")
    start_s = time.perf_counter() - started
    graph = get_graph()
    finish = finish_import(graph, files)
    labels, types = graph_counts(graph)
    nodes, relationships = sum(labels.values()), sum(types.values())
    neo4j_peak = peak_rss_mib(int((STATE / "neo4j.pid").read_text()))
    load_after = os.getloadavg()

    # Without starting Neo4j: the driver path's figure does not include its start either.
    offline_s = files.seconds + run.seconds + finish.empty_lists_s + finish.schema_s
    total_s = offline_s + start_s
    result: dict[str, object] = {
        "scale": scale.value,
        "seed": args.seed,
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
            "python": platform.python_version(),
            "load_average_1m_before_after": [round(load_before[0], 1), round(load_after[0], 1)],
        },
        "settings": {
            "csv_workers": args.workers,
            "import_threads": args.threads,
            "import_heap": args.import_heap,
            "import_max_off_heap_memory": args.max_off_heap_memory,
            "neo4j_heap": ENV["BANGFU_NEO4J_HEAP"],
            "neo4j_pagecache_mib": int(ENV["BANGFU_NEO4J_PAGECACHE_MIB"]),
        },
        "csv_write_s": round(files.seconds, 1),
        "csv_generate_s_in_main": round(generating[0], 1),
        "csv_mib": round(csv_mib),
        # CPU seconds (all processes of the step): what the step costs whatever the neighbours do.
        "csv_write_cpu_s": round(csv_cpu_s, 1),
        "import_s": round(run.seconds, 1),
        "import_cpu_s": round(run.cpu_s, 1),
        "neo4j_start_s": round(start_s, 1),
        "empty_lists_s": round(finish.empty_lists_s, 1),
        "schema_s": round(finish.schema_s, 1),
        "offline_s": round(offline_s, 1),
        "total_s": round(total_s, 1),
        "nodes": nodes,
        "relationships": relationships,
        "nodes_per_label": labels,
        "relationships_per_type": types,
        "nodes_per_s": round(nodes / total_s),
        "nodes_per_s_offline": round(nodes / offline_s),
        "relationships_per_s": round(relationships / total_s),
        "imported_by_tool": run.imported,
        "empty_lists_set": dict(files.stats.empty_lists),
        "optional_relationships_skipped": dict(files.stats.skipped),
        "peak_rss_python_mib": round(peak_python),
        "peak_rss_csv_worker_mib": round(peak_workers),
        "peak_rss_import_jvm_mib": round(run.peak_rss_mib),
        "import_tool_peak_memory": run.tool_peak_memory,
        "peak_rss_neo4j_mib": round(neo4j_peak),
    }
    driver = ROOT / "bench" / "results" / f"load_{scale.value}.json"
    if driver.exists():
        figures = json.loads(driver.read_text())
        result["driver_path"] = {
            "generate_and_load_s": figures.get("generate_and_load_s"),
            "nodes": figures.get("nodes"),
            "relationships": figures.get("relationships"),
            "same_counts": (figures.get("nodes"), figures.get("relationships"))
            == (nodes, relationships),
        }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out = ROOT / "bench" / "results" / f"admin_import_{scale.value}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if not args.keep_running:
        services("down")


if __name__ == "__main__":
    main()

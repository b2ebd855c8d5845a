"""Benchmark: a 1-million-row department file validated and imported through a Celery worker.

Runs against the instance the environment names (BANGFU_ENV_FILE, BANGFU_STATE_DIR ...), which
it WIPES: use a benchmark instance, e.g.

    export BANGFU_STATE_DIR=$PWD/.local/bench BANGFU_NEO4J_PORT=7689 BANGFU_REDIS_PORT=6381 \\
           BANGFU_ENV_FILE=$PWD/.local/bench/secrets.env
    python3 ops/services.py up
    python bench/import.py --rows 1000000

Steps: seed a synthetic county (6,850 households, 17,858 people; the province needs a 4 GB heap,
see bench/load_province.py), write a civil-affairs 低保 file whose first rows are the county's
members (their records match a Person) and the rest format-valid synthetic people of the
county (unmatched, as most of a department's province-wide file would be against one county),
then time `bangfu import`'s path through a worker: store and probe the file, validate every
row, stage chunks, write them. Stores bench/results/import.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.imports import ImportService  # noqa: E402
from bangfu.settings import get_settings  # noqa: E402
from graph.client import get_graph  # noqa: E402
from graph.ingest.schemas import SOURCES  # noqa: E402
from graph.ingest.store import ImportStore  # noqa: E402
from graph.ingest.synthetic import (  # noqa: E402
    department_rows,
    synthetic_national_ids,
    write_rows,
)
from graph.models import JobState  # noqa: E402
from graph.pii import get_vault  # noqa: E402
from graph.repositories.audit import AuditRepository  # noqa: E402
from graph.repositories.dept_records import DeptRecordRepository  # noqa: E402
from graph.repositories.imports import ImportRepository  # noqa: E402
from graph.repositories.jobs import JobRepository  # noqa: E402
from graph.schema import apply_schema  # noqa: E402
from graph.seeding import seed_graph  # noqa: E402
from graph.synthetic import Scale  # noqa: E402
from workers.celery_app import app as celery_app  # noqa: E402
from workers.dispatch import start_job  # noqa: E402

WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
RESULT = ROOT / "bench" / "results" / "import.json"


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of /proc/<pid>/stat (1-based; 12, 13 after comm).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--source", default="civil_affairs.dibao")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--keep-graph", action="store_true", help="skip wiping and seeding")
    args = parser.parse_args()

    graph = get_graph()
    settings = get_settings()
    work = settings.imports.store_dir.parent / "bench-import"
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {
        "source": args.source,
        "rows": args.rows,
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
        },
        "neo4j_heap": os.environ.get("BANGFU_NEO4J_HEAP", "default"),
        "neo4j_pagecache_mib": os.environ.get("BANGFU_NEO4J_PAGECACHE_MIB", "default"),
        "chunk_rows": settings.imports.chunk_rows,
        "worker_concurrency": args.concurrency,
    }

    csv_dir = work / "county"
    if not args.keep_graph:
        with graph.driver.session(database=graph.database) as session:
            session.run(WIPE).consume()
        apply_schema(graph)
        started = time.perf_counter()
        seed_graph(graph, get_vault(), Scale.COUNTY, seed=1, csv_dir=csv_dir)
        result["seed_county_s"] = round(time.perf_counter() - started, 1)

    with (csv_dir / "persons.csv").open(encoding="utf-8") as f:
        members = [r["national_id"] for r in csv.DictReader(f)]
    with (csv_dir / "regions.csv").open(encoding="utf-8") as f:
        regions = [r["code"] for r in csv.DictReader(f) if len(r["code"]) >= 6]
    county = regions[0][:6]
    # Synthetic people of the same county (a member's ID drawn again is skipped).
    member_set = set(members)
    wanted = args.rows - len(members)
    extra = synthetic_national_ids(county, wanted + len(members))
    ids = [*members, *[i for i in extra if i not in member_set][:wanted]]
    path = work / f"{args.source}-{args.rows}.csv"
    started = time.perf_counter()
    schema = SOURCES[args.source]
    write_rows(path, schema, department_rows(args.source, ids[: args.rows], regions, seed=1))
    result["generate_file_s"] = round(time.perf_counter() - started, 1)
    result["file_mib"] = round(path.stat().st_size / 2**20, 1)
    result["matchable_rows"] = len(members)

    celery_app.control.purge()
    log = (work / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            "bench-import@%h",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(8)  # the worker connects and imports its modules before the clock starts
    jobs = JobRepository(graph)
    service = ImportService(
        jobs,
        ImportRepository(graph),
        AuditRepository(graph),
        ImportStore(settings.imports.store_dir),
        settings.imports,
    )
    neo4j_pid_file = Path(os.environ.get("BANGFU_STATE_DIR", ROOT / ".local")) / "neo4j.pid"
    neo4j_pid = int(neo4j_pid_file.read_text()) if neo4j_pid_file.is_file() else None
    neo4j_cpu_before = cpu_seconds(neo4j_pid) if neo4j_pid else 0.0
    worker_cpu: dict[int, float] = {}
    try:
        started = time.perf_counter()
        stored = service.store_path(path)
        service.probe(args.source, stored)
        job = service.create(
            created_by="bench",
            actor_role="system",
            scope=("",),
            source=args.source,
            stored=stored,
            file_name=path.name,
            good_rows_only=False,
        )
        start_job(job.id, job.kind)
        stored_s = time.perf_counter() - started
        validated_s = None
        cpu_at_validated = (0.0, 0.0)
        peaks: dict[int, float] = {}
        while True:
            current = jobs.get(job.id)
            for pid in [worker.pid, *children(worker.pid)]:
                rss = peak_rss_mib(pid)
                if rss is not None:
                    peaks[pid] = max(peaks.get(pid, 0.0), rss)
                worker_cpu[pid] = max(worker_cpu.get(pid, 0.0), cpu_seconds(pid))
            if validated_s is None and current.chunks_total is not None:
                validated_s = time.perf_counter() - started
                cpu_at_validated = (
                    sum(worker_cpu.values()),
                    (cpu_seconds(neo4j_pid) - neo4j_cpu_before) if neo4j_pid else 0.0,
                )
            if current.state in (JobState.SUCCEEDED, JobState.FAILED):
                break
            time.sleep(0.5)
        total_s = time.perf_counter() - started
        neo4j_cpu = (cpu_seconds(neo4j_pid) - neo4j_cpu_before) if neo4j_pid else None
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    _, summary = service.summary(None, job.id)
    assert summary is not None
    records, matched = DeptRecordRepository(graph).count_source(args.source)
    cpu_total = sum(worker_cpu.values()) + (neo4j_cpu or 0.0)
    result.update(
        {
            "outcome": summary.outcome.value,
            "job_state": current.state.value,
            "store_and_probe_s": round(stored_s, 1),
            "validate_and_stage_s": round((validated_s or total_s) - stored_s, 1),
            "write_s": round(total_s - (validated_s or total_s), 1),
            "total_s": round(total_s, 1),
            "rows_per_s": round(args.rows / total_s),
            "goal_s": 180,
            "goal_met": total_s < 180,
            "records_in_graph": records,
            "records_matched_to_a_person": matched,
            "created": summary.created,
            "chunks": summary.chunks,
            "peak_rss_worker_mib": max(peaks.values()) if peaks else None,
            "peak_rss_neo4j_mib": peak_rss_mib(neo4j_pid) if neo4j_pid else None,
            # The machine is shared: CPU time says what the import itself cost. Spread over two
            # idle cores it would take at least cpu / 2 seconds (a lower bound, not a run).
            "cpu_s": {
                "worker": round(sum(worker_cpu.values()), 1),
                "neo4j": round(neo4j_cpu, 1) if neo4j_cpu is not None else None,
                "worker_validating": round(cpu_at_validated[0], 1),
                "neo4j_validating": round(cpu_at_validated[1], 1),
            },
            "cpu_s_per_core_on_2_cores": round(cpu_total / 2, 1),
            "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        }
    )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

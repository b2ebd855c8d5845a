"""Benchmark: a whole scale cross-checked (数据比对) by Celery workers, with detection measured.

Runs against the instance the environment names (BANGFU_ENV_FILE, BANGFU_STATE_DIR ...), which
it WIPES unless --keep-graph: use an instance of its own, e.g.

    export BANGFU_STATE_DIR=$PWD/.local/bench-checks BANGFU_NEO4J_PORT=7695 \\
           BANGFU_REDIS_PORT=6387 BANGFU_ENV_FILE=$PWD/.local/bench-checks/secrets.env \\
           BANGFU_NEO4J_HEAP=4g BANGFU_NEO4J_PAGECACHE_MIB=4096
    python3 ops/services.py up
    python bench/crosscheck.py --scale province

Steps: seed the scale (seed 3), write every county's department files with planted
discrepancies (graph/synthetic/department.py) and import them in this process (the import is
measured by bench/import.py, not here), then time the cross-check job from the moment its task
is sent to the moment its last chunk commits, with `--concurrency` worker processes. Prints
precision and recall per rule against the planted truth and the error-rate report's rows, and
stores bench/results/crosscheck_<scale>.json with the machine's load average.

Goal: the province (664,000 households) in under 5 minutes.
"""

from __future__ import annotations

import argparse
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
from bangfu.vocabulary import CrossCheckRule  # noqa: E402
from graph.client import GraphClient, get_graph  # noqa: E402
from graph.ingest.pipeline import ImportPipeline  # noqa: E402
from graph.ingest.schemas import SOURCES  # noqa: E402
from graph.ingest.store import ImportStore  # noqa: E402
from graph.ingest.synthetic import append_rows  # noqa: E402
from graph.models import JobState  # noqa: E402
from graph.pii import get_vault  # noqa: E402
from graph.repositories.audit import AuditRepository  # noqa: E402
from graph.repositories.crosscheck import CrossCheckRepository  # noqa: E402
from graph.repositories.dept_records import DeptRecordRepository  # noqa: E402
from graph.repositories.imports import ImportRepository  # noqa: E402
from graph.repositories.jobs import JobRepository  # noqa: E402
from graph.schema import apply_schema  # noqa: E402
from graph.seeding import seed_graph  # noqa: E402
from graph.synthetic import Scale, generate  # noqa: E402
from graph.synthetic.department import department_files  # noqa: E402
from graph.synthetic.scales import AS_OF, CALIBRATION  # noqa: E402
from verification.jobs import create_cross_check_job  # noqa: E402
from verification.report import detection, error_rates, subjects_of  # noqa: E402
from workers.celery_app import app as celery_app  # noqa: E402
from workers.imports import ImportJob  # noqa: E402

WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
SEED = 3
MEDICAL = "medical_insurance.enrolment"
PROVINCE_HOUSEHOLDS = CALIBRATION[Scale.PROVINCE].households

Truth = set[tuple[CrossCheckRule, str]]


def machine() -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "neo4j_heap": os.environ.get("BANGFU_NEO4J_HEAP", "default"),
        "neo4j_pagecache_mib": os.environ.get("BANGFU_NEO4J_PAGECACHE_MIB", "default"),
    }


def write_department_files(
    scale: Scale, seed: int, directory: Path, with_medical: bool
) -> tuple[Truth, str]:
    """Every county's department files, appended per source county by county (one file per
    source for the scale, as a department would send it); returns the planted truth and the
    scale's region prefix (the county's code, or the province's). Medical-insurance enrolment
    (one row per person) is read by the exits, not by any cross-check rule: left out unless
    asked for."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.csv"):
        old.unlink()
    truth: Truth = set()
    counties: list[str] = []
    for batch in generate(scale, seed):
        households = batch.tables["households"]
        if not households:
            continue
        counties.append(str(households[0]["county_code"]))
        line = get_settings().risk.monitoring_line(counties[-1], AS_OF.year)
        files = department_files(households, batch.tables["persons"], line, seed=seed)
        truth |= files.planted
        for source, part in files.rows.items():
            if source == MEDICAL and not with_medical:
                continue
            append_rows(directory / f"{source}.csv", SOURCES[source], part)
    prefix = counties[0] if len(counties) == 1 else counties[0][:2]
    return truth, prefix


def planted_truth(scale: Scale, seed: int) -> tuple[Truth, str]:
    """The planted truth alone (deterministic: the same as the files written)."""
    truth: Truth = set()
    counties: list[str] = []
    for batch in generate(scale, seed):
        households = batch.tables["households"]
        if not households:
            continue
        counties.append(str(households[0]["county_code"]))
        line = get_settings().risk.monitoring_line(counties[-1], AS_OF.year)
        truth |= department_files(households, batch.tables["persons"], line, seed=seed).planted
    return truth, counties[0] if len(counties) == 1 else counties[0][:2]


def import_directory(graph: GraphClient, directory: Path) -> dict[str, int]:
    settings = get_settings().imports
    store = ImportStore(settings.store_dir)
    imports = ImportRepository(graph)
    pipeline = ImportPipeline(get_vault(), store, imports, DeptRecordRepository(graph), settings)
    jobs = JobRepository(graph)
    runner = ImportJob(jobs, imports, pipeline, store, get_settings().workers, settings)
    service = ImportService(jobs, imports, AuditRepository(graph), store, settings)
    created = {}
    for path in sorted(directory.glob("*.csv")):
        source = path.stem
        stored = service.store_path(path)
        job = service.create(
            created_by="bench",
            actor_role="system",
            scope=("",),
            source=source,
            stored=stored,
            file_name=path.name,
            good_rows_only=False,
        )
        runner.run_now(job.id)
        _, summary = service.summary(None, job.id)
        created[source] = int(summary.created or 0) if summary else 0
        print(f"  imported {source}: {created[source]:,} records", flush=True)
    return created


def start_workers(concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                "bench-checks@%h",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def print_detection(truth: Truth, graph: GraphClient, prefix: str) -> list[dict[str, object]]:
    rows = CrossCheckRepository(graph).finding_keys(prefix)
    table = detection(truth, subjects_of(rows))
    print(f"{'rule':24} {'planted':>8} {'found':>8} {'TP':>8} {'precision':>10} {'recall':>8}")
    for d in table:
        precision = "-" if d.precision is None else f"{d.precision:.4f}"
        recall = "-" if d.recall is None else f"{d.recall:.4f}"
        print(
            f"{d.rule.value:24} {d.planted:8d} {d.found:8d} {d.true_positives:8d} "
            f"{precision:>10} {recall:>8}"
        )
    return [d.model_dump(mode="json") for d in table]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=[s.value for s in Scale], default="county")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--villages-per-chunk", type=int, default=50)
    parser.add_argument("--keep-graph", action="store_true", help="skip wiping, seeding, import")
    parser.add_argument("--repeat", type=int, default=3, help="jobs run one after the other")
    parser.add_argument(
        "--with-medical", action="store_true", help="also import medical-insurance enrolment"
    )
    args = parser.parse_args()
    scale = Scale(args.scale)

    graph = get_graph()
    settings = get_settings()
    work = settings.imports.store_dir.parent / "bench-crosscheck"
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {
        "scale": scale.value,
        "machine": machine(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
        "worker_concurrency": args.concurrency,
        "villages_per_chunk": args.villages_per_chunk,
        "as_of": AS_OF.isoformat(),
    }
    if not args.keep_graph:
        with graph.driver.session(database=graph.database) as session:
            session.run(WIPE).consume()
        apply_schema(graph)
        started = time.perf_counter()
        seed_graph(graph, get_vault(), scale, SEED)
        result["seed_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        truth, prefix = write_department_files(scale, SEED, work / "files", args.with_medical)
        result["write_files_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        result["department_records"] = import_directory(graph, work / "files")
        result["import_s"] = round(time.perf_counter() - started, 1)
    else:
        truth, prefix = planted_truth(scale, SEED)

    celery_app.control.purge()
    worker = start_workers(args.concurrency, work / "worker.log")
    timings: list[float] = []
    try:
        # The clock starts when the workers answer, not while they import the code.
        deadline = time.monotonic() + 120
        while not celery_app.control.ping(timeout=1.0):
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
        jobs = JobRepository(graph)
        for _ in range(args.repeat):
            job = create_cross_check_job(
                jobs, "bench", prefix, as_of=AS_OF, villages_per_chunk=args.villages_per_chunk
            )
            started = time.perf_counter()
            celery_app.send_task("bangfu.checks.run", args=[job.id])
            while True:
                state = jobs.get(job.id)
                if state.state in (JobState.SUCCEEDED, JobState.FAILED):
                    break
                time.sleep(0.2)
            timings.append(round(time.perf_counter() - started, 2))
            print(f"  job {job.id}: {state.state.value} in {timings[-1]} s", flush=True)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    # The first run creates the findings; later runs find them again and merge (idempotent).
    # The slowest run is the figure (and the extrapolation's base): a short job on a shared
    # machine varies by 2-3x from run to run.
    elapsed = max(timings)
    result["runs_s"] = timings
    result["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    result["job_state"] = state.state.value
    result["chunks"] = state.chunks_total
    result["cross_check_s"] = round(elapsed, 1)
    stats = CrossCheckRepository(graph).county_stats(prefix)
    households = sum(s.households_checked for s in stats)
    result["households_checked"] = households
    result["findings"] = sum(s.findings for s in stats)
    result["households_per_s"] = round(households / elapsed) if elapsed else None
    if scale is not Scale.PROVINCE and households:
        # Linear in households: chunks are independent and read their villages by index.
        result["province_extrapolated_s"] = round(elapsed * PROVINCE_HOUSEHOLDS / households, 1)
    print(
        f"cross-check of {households:,} households: {elapsed:.1f} s "
        f"({result['households_per_s']}/s), {result['findings']} findings, "
        f"load {result['load_average_at_start']} -> {result['load_average_at_end']}"
    )
    if "province_extrapolated_s" in result:
        print(f"province extrapolated: {result['province_extrapolated_s']} s")
    result["detection"] = print_detection(truth, graph, prefix)
    report = error_rates(stats)
    result["error_rates"] = [c.model_dump(mode="json") for c in report.counties[:20]]
    out = ROOT / "bench" / "results" / f"crosscheck_{scale.value}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

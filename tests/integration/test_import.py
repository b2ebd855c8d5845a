"""Imports against the real Neo4j (and, for the worker tests, Redis and a real Celery worker):
the generator's CSVs, department files in GBK and XLSX, every bad-input case, all-or-nothing by
default and good rows only on request, idempotent re-import, conflicts with stored records, a
chunk that keeps dying rolling the import back, and a worker SIGKILLed mid-import that still
leaves every row written exactly once and never half a chunk."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from api.imports import ImportService
from bangfu.settings import ImportSettings, get_settings
from graph.client import GraphClient
from graph.ingest.pipeline import ImportPipeline, ImportRequest
from graph.ingest.schemas import SOURCES
from graph.ingest.store import ImportStore
from graph.ingest.synthetic import department_rows, synthetic_national_ids, write_rows
from graph.models import ImportSummary, JobState
from graph.pii import PiiVault
from graph.repositories import PersonRepository, RegionRepository
from graph.repositories.audit import AuditRepository
from graph.repositories.dept_records import DeptRecordRepository
from graph.repositories.imports import ImportRepository
from graph.repositories.jobs import JobRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale, generate, write_csv
from tests.integration.celery_worker import STALLED_AFTER_S, Worker
from workers.celery_app import app as celery_app
from workers.imports import ImportJob

ROOT = Path(__file__).resolve().parents[2]
DIBAO = SOURCES["civil_affairs.dibao"]
# Everything but the bookkeeping of jobs, imported files and the audit trail.
_BOOKKEEPING = ["Job", "JobChunk", "ImportFile", "AuditEvent", "AuditChain"]
COUNT = (
    "MATCH (n) WHERE none(l IN labels(n) WHERE l IN " + str(_BOOKKEEPING) + ") RETURN count(n) AS n"
)
RELS = (
    "MATCH (a)-[r]->(b) WHERE none(l IN labels(a) + labels(b) WHERE l IN "
    + str(_BOOKKEEPING)
    + ") RETURN count(r) AS n"
)
DEPT = "MATCH (d:DeptRecord) RETURN count(d) AS n"
ABOUT = "MATCH (:DeptRecord)-[a:ABOUT]->(:Person) RETURN count(a) AS n"


@dataclass
class Importer:
    """The in-process import path (what `bangfu import --now` runs)."""

    graph: GraphClient
    service: ImportService
    runner: ImportJob
    store: ImportStore

    def run(
        self,
        path: Path,
        source: str,
        good_rows_only: bool = False,
        scope: tuple[str, ...] = ("",),
    ) -> ImportSummary:
        job_id = self.start(path, source, good_rows_only, scope)
        self.runner.run_now(job_id)
        return self.summary(job_id)

    def start(
        self, path: Path, source: str, good_rows_only: bool = False, scope: tuple[str, ...] = ("",)
    ) -> str:
        stored = self.service.store_path(path)
        self.service.probe(source, stored)
        job = self.service.create(
            created_by="test",
            actor_role="system",
            scope=scope,
            source=source,
            stored=stored,
            file_name=path.name,
            good_rows_only=good_rows_only,
        )
        return job.id

    def summary(self, job_id: str) -> ImportSummary:
        _, summary = self.service.summary(None, job_id)
        assert summary is not None
        return summary

    def count(self, query: str) -> int:
        row = self.graph.read_one(query)
        return int(row["n"]) if row else 0


def make_importer(graph: GraphClient, vault: PiiVault, root: Path, chunk_rows: int) -> Importer:
    settings = ImportSettings(store_dir=root, chunk_rows=chunk_rows, lookup_rows=chunk_rows)
    store = ImportStore(root)
    imports = ImportRepository(graph)
    pipeline = ImportPipeline(vault, store, imports, DeptRecordRepository(graph), settings)
    jobs = JobRepository(graph)
    runner = ImportJob(jobs, imports, pipeline, store, get_settings().workers, settings)
    service = ImportService(jobs, imports, AuditRepository(graph), store, settings)
    return Importer(graph, service, runner, store)


@pytest.fixture
def village_csv(tmp_path: Path) -> Path:
    """The generator's CSVs of one village, written without loading anything."""
    out = tmp_path / "village"
    for _ in write_csv(generate(Scale.VILLAGE, seed=1), out):
        pass
    return out


@pytest.fixture
def village(empty_graph: GraphClient, vault: PiiVault, tmp_path: Path) -> Path:
    """A seeded village; returns its CSV directory (persons.csv holds the members' IDs)."""
    seed_graph(empty_graph, vault, Scale.VILLAGE, seed=1, csv_dir=tmp_path / "seeded")
    return tmp_path / "seeded"


@pytest.fixture
def importer(empty_graph: GraphClient, vault: PiiVault, tmp_path: Path) -> Importer:
    return make_importer(empty_graph, vault, tmp_path / "store", chunk_rows=50)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def member_ids(csv_dir: Path) -> list[str]:
    return [r["national_id"] for r in read_csv(csv_dir / "persons.csv")]


def region_codes(csv_dir: Path) -> list[str]:
    return [r["code"] for r in read_csv(csv_dir / "regions.csv")]


def report_lines(importer: Importer, job_id: str) -> list[list[object]]:
    text = importer.store.report_path(job_id).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


# --- the generator's format ---------------------------------------------------------------------


def test_generator_csvs_import_into_a_graph_and_again_changes_nothing(
    empty_graph: GraphClient, vault: PiiVault, village_csv: Path, importer: Importer
) -> None:
    regions = read_csv(village_csv / "regions.csv")
    RegionRepository(empty_graph).save_rows(
        [dict(r, parent_code=r["parent_code"] or None) for r in regions]
    )
    expected = {
        t: len(read_csv(village_csv / f"{t}.csv")) for t in ("households", "persons", "needs")
    }
    for table in ("households", "persons", "needs"):
        summary = importer.run(village_csv / f"{table}.csv", table)
        assert summary.outcome == "imported", summary
        assert summary.created == summary.rows == expected[table]
    counts = empty_graph.read_one(
        "MATCH (h:Household)-[:IN_VILLAGE]->(:Region) WITH count(h) AS h "
        "MATCH (p:Person)-[:MEMBER_OF]->(:Household) WITH h, count(p) AS p "
        "MATCH (:Household)-[:HAS_NEED]->(n:Need) RETURN h, p, count(n) AS n"
    )
    assert counts == {"h": expected["households"], "p": expected["persons"], "n": expected["needs"]}
    first = read_csv(village_csv / "persons.csv")[0]
    person = PersonRepository(empty_graph, vault).find_by_national_id(first["national_id"])
    assert person is not None and person.id == first["person_id"]

    nodes, rels = importer.count(COUNT), importer.count(RELS)
    for table in ("households", "persons", "needs"):
        again = importer.run(village_csv / f"{table}.csv", table)
        assert again.outcome == "already_imported"
        assert again.other_job_id is not None
    assert (importer.count(COUNT), importer.count(RELS)) == (nodes, rels)


def test_members_of_unknown_households_and_ids_held_by_others_are_refused(
    village: Path, importer: Importer, tmp_path: Path
) -> None:
    rows = read_csv(village / "persons.csv")
    new = dict(rows[0], person_id="P-NEW-1", household_id="H-NOPE")
    stolen = dict(rows[1], person_id="P-NEW-2")  # another member's ID number
    path = tmp_path / "members.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([new, stolen, rows[2]])
    summary = importer.run(path, "persons")
    assert summary.outcome == "rejected"
    assert summary.counts == {"conflict_with_existing": 2, "unknown_reference": 1}
    issues = {(r[0], r[1], r[2]) for r in report_lines(importer, summary.import_id)}
    assert (2, "household_id", "unknown_reference") in issues
    assert (2, "national_id", "conflict_with_existing") in issues  # rows[0]'s ID is taken too
    assert (3, "national_id", "conflict_with_existing") in issues


# --- department data ----------------------------------------------------------------------------


def dibao_rows(village: Path, extra: int = 20) -> list[dict[str, object]]:
    ids = member_ids(village) + list(synthetic_national_ids("441451", extra))
    return list(department_rows(DIBAO.name, ids, ["441451"], seed=5))


def test_a_gbk_file_with_bad_rows_imports_nothing_then_good_rows_only(
    village: Path, importer: Importer, tmp_path: Path
) -> None:
    rows = dibao_rows(village)
    good_matched = len(member_ids(village))
    bad = {  # spreadsheet row number (header = 1) -> (column, code)
        2: ("national_id", "scientific_notation"),
        3: ("national_id", "bad_check_digit"),
        4: ("region_code", "unknown_region"),
        5: ("start_date", "bad_date"),
        6: ("monthly_amount", "bad_number"),
        7: ("name", "missing_value"),
    }
    rows[0]["national_id"] = "4.41451E+17"
    nid = str(rows[1]["national_id"])
    rows[1]["national_id"] = nid[:-1] + ("0" if nid[-1] != "0" else "1")
    rows[2]["region_code"] = "449999"
    rows[3]["start_date"] = "2024-13-01"
    rows[4]["monthly_amount"] = "四百"
    rows[5]["name"] = ""
    rows.append(dict(rows[10]))  # an identical repeat of spreadsheet row 12
    path = tmp_path / "低保.csv"
    write_rows(path, DIBAO, rows, encoding="gbk", chinese_headers=True)

    summary = importer.run(path, DIBAO.name)
    assert summary.outcome == "rejected"
    assert summary.encoding == "gb18030"
    assert summary.rows == len(rows) and summary.bad_rows == 7
    assert importer.count(DEPT) == 0
    issues = report_lines(importer, summary.import_id)
    found = {int(str(r[0])): (r[1], r[2]) for r in issues}
    assert found == {**bad, len(rows) + 1: ("", "duplicate_row")}
    assert summary.counts["duplicate_row"] == 1
    assert summary.sha256 and len(summary.sha256) == 64
    text = importer.store.report_path(summary.import_id).read_text(encoding="utf-8")
    assert nid not in text and str(rows[2]["national_id"]) not in text
    assert all(r[3] and r[4] for r in issues)  # both languages

    partial = importer.run(path, DIBAO.name, good_rows_only=True)
    assert partial.outcome == "imported_good_rows"
    assert partial.created == partial.good_rows == len(rows) - 7
    assert importer.count(DEPT) == partial.created
    # Members of the village (the first rows, minus the bad ones) are linked by their ID hash.
    assert partial.matched == importer.count(ABOUT) == good_matched - 6
    assert importer.run(path, DIBAO.name, good_rows_only=True).outcome == "already_imported"
    assert importer.run(path, DIBAO.name).outcome == "already_imported"
    assert importer.count(DEPT) == partial.created


def test_an_xlsx_file_with_excel_mangled_ids_and_formulas(
    village: Path, importer: Importer, tmp_path: Path
) -> None:
    schema = SOURCES["disabled_federation.certificates"]
    rows = list(department_rows(schema.name, member_ids(village)[:5], ["441451"], seed=3))
    book = Workbook()
    sheet = book.active
    sheet.append([c.zh for c in schema.columns])
    for row in rows:
        sheet.append(
            [v.isoformat() if isinstance(v, date) else v for v in (row[c] for c in schema.names)]
        )
    sheet.cell(row=3, column=1, value=float(str(rows[1]["national_id"])[:17]) * 10)  # a number
    sheet.cell(row=5, column=2, value='=CONCATENATE("王","五")')
    path = tmp_path / "certificates.xlsx"
    book.save(path)
    summary = importer.run(path, schema.name)
    assert summary.format == "xlsx" and summary.outcome == "rejected"
    found = {(r[0], r[1], r[2]) for r in report_lines(importer, summary.import_id)}
    assert found == {(3, "national_id", "scientific_notation"), (5, "name", "formula")}

    sheet.cell(row=3, column=1, value=str(rows[1]["national_id"]))
    sheet.cell(row=5, column=2, value="王五")
    book.save(path)
    fixed = importer.run(path, schema.name)
    assert fixed.outcome == "imported" and fixed.created == 5 and fixed.matched == 5


def test_conflicts_with_stored_records_and_overlapping_files(
    village: Path, importer: Importer, tmp_path: Path
) -> None:
    rows = dibao_rows(village, extra=5)
    first = tmp_path / "first.csv"
    write_rows(first, DIBAO, rows[:60])
    assert importer.run(first, DIBAO.name).created == 60
    changed = dict(rows[3], monthly_amount=float(str(rows[3]["monthly_amount"])) + 100)
    second = tmp_path / "second.csv"
    write_rows(second, DIBAO, [*rows[:3], changed, *rows[60:]])
    summary = importer.run(second, DIBAO.name)
    assert summary.outcome == "rejected"
    found = [(r[0], r[1], r[2]) for r in report_lines(importer, summary.import_id)]
    assert found == [(5, "monthly_amount", "conflict_with_existing")]
    fixed = tmp_path / "third.csv"
    write_rows(fixed, DIBAO, [*rows[:3], *rows[60:]])
    overlap = importer.run(fixed, DIBAO.name)
    assert overlap.outcome == "imported"
    assert (overlap.created, overlap.already_present) == (len(rows) - 60, 3)
    assert importer.count(DEPT) == len(rows)


def test_wrong_headers_empty_files_and_unknown_sources_are_refused_at_once(
    importer: Importer, tmp_path: Path
) -> None:
    from graph.ingest.errors import ImportFileError, UnknownSourceError  # noqa: PLC0415

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("身份证号,姓名,金额\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as info:
        importer.start(wrong, DIBAO.name)
    assert info.value.code == "wrong_headers"
    assert "region_code" in info.value.message and "行政区划代码" in info.value.message_zh
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ImportFileError):
        importer.start(empty, DIBAO.name)
    header_only = tmp_path / "header.csv"
    write_rows(header_only, DIBAO, [])
    summary = importer.run(header_only, DIBAO.name)
    assert summary.outcome == "file_error"
    assert summary.file_error is not None and summary.file_error.code == "empty_file"
    with pytest.raises(UnknownSourceError):
        importer.start(header_only, "tax.income")


def test_a_chunk_that_keeps_dying_rolls_the_whole_import_back(
    village: Path, importer: Importer, tmp_path: Path
) -> None:
    rows = dibao_rows(village, extra=200)  # 304 rows, 7 chunks of 50
    path = tmp_path / "dibao.csv"
    write_rows(path, DIBAO, rows)
    before = (importer.count(COUNT), importer.count(RELS))
    job_id = importer.start(path, DIBAO.name)
    planned: list[int] = []
    importer.runner.validate(job_id, lambda _job, no: planned.append(no))
    assert planned == list(range(7))
    for no in planned[:3]:
        assert importer.runner.run_chunk(job_id, no) == "applied"
    assert DeptRecordRepository(importer.graph).count_of_job(job_id) == 150
    jobs = JobRepository(importer.graph)
    limit = get_settings().workers.max_deliveries
    for _ in range(limit):  # deliveries whose worker died before finishing
        jobs.count_delivery(job_id, 3, limit)
    assert importer.runner.run_chunk(job_id, 3) == "set aside"
    assert importer.runner.run_chunk(job_id, 4) == "abandoned"
    assert DeptRecordRepository(importer.graph).count_of_job(job_id) == 0
    assert importer.count(DEPT) == 0 and importer.count(ABOUT) == 0
    summary = importer.summary(job_id)
    assert summary.outcome == "rolled_back"
    assert jobs.get(job_id).state is JobState.FAILED
    # Only bookkeeping is left: the job, its chunks, the file's record and the audit trail.
    assert (importer.count(COUNT), importer.count(RELS)) == before
    rolled = importer.graph.read_one(
        "MATCH (e:AuditEvent {action: 'import.rolled_back', subject_id: $id}) RETURN count(e) AS n",
        id=job_id,
    )
    assert rolled == {"n": 1}
    assert importer.run(path, DIBAO.name).outcome == "imported"  # a new attempt succeeds
    assert importer.count(DEPT) == len(rows)


def test_a_failed_members_import_removes_exactly_the_members_it_created(
    empty_graph: GraphClient, village_csv: Path, importer: Importer
) -> None:
    regions = read_csv(village_csv / "regions.csv")
    RegionRepository(empty_graph).save_rows(
        [dict(r, parent_code=r["parent_code"] or None) for r in regions]
    )
    assert importer.run(village_csv / "households.csv", "households").outcome == "imported"
    before = (importer.count(COUNT), importer.count(RELS))
    job_id = importer.start(village_csv / "persons.csv", "persons")
    planned: list[int] = []
    importer.runner.validate(job_id, lambda _job, no: planned.append(no))
    assert len(planned) == 3  # 104 members, 50 a chunk
    assert importer.runner.run_chunk(job_id, 0) == "applied"
    assert importer.runner.run_chunk(job_id, 1) == "applied"
    assert importer.count("MATCH (p:Person) RETURN count(p) AS n") == 100
    assert importer.runner.abandon(job_id, "test") == 100
    assert (importer.count(COUNT), importer.count(RELS)) == before
    assert importer.runner.run_chunk(job_id, 2) == "abandoned"
    assert importer.summary(job_id).outcome == "rolled_back"


def test_two_runs_of_one_validation_stage_apart_and_the_first_plan_wins(
    village: Path, importer: Importer, tmp_path: Path
) -> None:
    # A validation message delivered again (visibility timeout) while the first run is still
    # going: both runs stage chunks; only the run that planned first is written.
    rows = dibao_rows(village, extra=100)
    path = tmp_path / "dibao.csv"
    write_rows(path, DIBAO, rows)
    job_id = importer.start(path, DIBAO.name)
    request = ImportRequest.of(job_id, JobRepository(importer.graph).get(job_id).params)
    first = importer.runner.pipeline.validate(request)
    second = importer.runner.pipeline.validate(request)
    assert first.attempt != second.attempt and first.chunk_sizes == second.chunk_sizes
    imports = importer.runner.imports
    result = first.summary.model_dump(mode="json")
    assert imports.plan_chunks(job_id, first.chunk_sizes, result, first.attempt) == first.attempt
    assert imports.plan_chunks(job_id, second.chunk_sizes, result, second.attempt) == first.attempt
    for no in range(len(first.chunk_sizes)):
        assert importer.runner.run_chunk(job_id, no) == "applied"
    assert importer.summary(job_id).outcome == "imported"
    assert importer.count(DEPT) == len(rows)


# --- a real worker ------------------------------------------------------------------------------


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Worker]:
    # The worker plans the chunks: 500 rows each, so a 30,000-row file takes 60 of them.
    monkeypatch.setenv("BANGFU_IMPORT_CHUNK_ROWS", "500")
    celery_app.control.purge()
    w = Worker(tmp_path, resend_after_s=STALLED_AFTER_S)  # the test kills it
    yield w
    w.stop()
    celery_app.control.purge()


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_import_leaves_no_half_chunk_and_finishes_on_redelivery(
    empty_graph: GraphClient, vault: PiiVault, worker: Worker, tmp_path: Path
) -> None:
    RegionRepository(empty_graph).save_rows(
        [{"code": "44", "name": "广东省", "level": "province", "parent_code": None}]
    )
    settings = get_settings().imports
    importer = make_importer(empty_graph, vault, settings.store_dir, settings.chunk_rows)
    ids = list(synthetic_national_ids("440223", 30_000))
    path = tmp_path / "dibao.csv"
    write_rows(path, DIBAO, department_rows(DIBAO.name, ids, ["44"], seed=9))
    job_id = importer.start(path, DIBAO.name)
    jobs = JobRepository(empty_graph)
    records = DeptRecordRepository(empty_graph)

    worker.start()
    celery_app.send_task("bangfu.imports.validate", args=[job_id])
    rng = random.Random(11)
    kills = 0
    while kills < 3:
        target = 2 * (kills + 1)

        def progressed(target: int = target) -> bool:
            job = jobs.get(job_id)
            return (job.chunks_done or 0) >= target or job.state is JobState.SUCCEEDED

        wait_until(progressed, 240, "chunks to be written")
        time.sleep(rng.uniform(0.0, 1.0))
        job = jobs.get(job_id)
        if job.state is JobState.SUCCEEDED:
            break
        worker.kill()
        kills += 1
        # Killed: every chunk is in the graph whole or not at all.
        done_rows = sum(c.rows for c in jobs.chunks(job_id) if c.state == "done")
        assert records.count_of_job(job_id) == done_rows
        assert importer.summary(job_id).outcome == "importing"
        worker.start()
    assert kills >= 2, "the import finished before the worker could be killed"
    wait_until(lambda: jobs.get(job_id).state is not JobState.RUNNING, 300, "the import to end")
    job = jobs.get(job_id)
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.chunks_done == job.chunks_total == 60
    assert job.rows_done == 30_000
    assert records.count_of_job(job_id) == importer.count(DEPT) == 30_000
    summary = importer.summary(job_id)
    assert summary.outcome == "imported" and summary.created == 30_000
    completed = empty_graph.read_one(
        "MATCH (e:AuditEvent {action: 'import.completed', subject_id: $id}) RETURN count(e) AS n",
        id=job_id,
    )
    assert completed == {"n": 1}
    assert not importer.store.staging_dir(job_id).exists()
    # And once more through the worker: the same bytes change nothing.
    again = importer.start(path, DIBAO.name)
    celery_app.send_task("bangfu.imports.validate", args=[again])
    wait_until(lambda: jobs.get(again).state is JobState.SUCCEEDED, 60, "the re-import")
    assert importer.summary(again).outcome == "already_imported"
    assert importer.count(DEPT) == 30_000


def test_the_cli_prints_the_report_and_fails_when_nothing_was_imported(
    village: Path, tmp_path: Path
) -> None:
    rows = dibao_rows(village, extra=3)
    nid = str(rows[0]["national_id"])
    rows[0]["national_id"] = nid[:-1] + ("0" if nid[-1] != "0" else "1")
    path = tmp_path / "dibao.csv"
    write_rows(path, DIBAO, rows)
    command = [sys.executable, "-m", "api.cli", "import", "--source", DIBAO.name, str(path)]
    report = tmp_path / "report.csv"
    refused = subprocess.run(
        [*command, "--now", "--report", str(report)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "rejected" in refused.stdout and "bad_check_digit" in refused.stdout
    assert "校验位不正确" in refused.stdout and "row 2 national_id" in refused.stdout
    assert nid[:-1] not in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert "bad_check_digit" in report.read_text(encoding="utf-8-sig")
    imported = subprocess.run(
        [*command, "--now", "--good-rows-only"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "imported_good_rows" in imported.stdout
    assert f"created {len(rows) - 1:,}" in imported.stdout

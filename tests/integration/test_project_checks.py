"""The project checks on a generated county: each rule finds exactly the anomalies the generator
planted (its truth table), live through the service and stored by the `bangfu.projects.scan`
Celery task run by a real worker process, and a second scan leaves the same flags."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bangfu.access import Principal, Role
from bangfu.errors import BangfuError
from bangfu.settings import get_settings
from bangfu.vocabulary import ProjectAnomaly, ProjectStage
from graph.client import GraphClient
from graph.models import JobState
from graph.pii import PiiVault
from graph.project_records import AnomalyFlag, ProjectQuery
from graph.repositories import AuditRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.projects import ProjectRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale, generate
from graph.synthetic.scales import AS_OF
from matching.project_lifecycle import Actor, BeneficiariesIn
from matching.projects import ProjectService
from tests.integration.celery_worker import Worker, wait_for_job
from workers.celery_app import app as celery_app
from workers.jobs import ProjectScanJob, create_project_scan_job

SEED = 5
FLAGS = "MATCH (f:ProjectFlag) RETURN count(f) AS n"
BEAT_JOB = "MATCH (j:Job {kind: 'project_scan', created_by: 'beat'}) RETURN j.id AS id"


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    celery_app.control.purge()  # nothing left over from another test
    w = Worker(tmp_path)
    yield w
    w.stop()
    celery_app.control.purge()


@pytest.fixture
def county(empty_graph: GraphClient, vault: PiiVault) -> Iterator[GraphClient]:
    seed_graph(empty_graph, vault, Scale.COUNTY, seed=SEED)
    yield empty_graph


def planted() -> set[tuple[str, str, str]]:
    truth = [r for b in generate(Scale.COUNTY, SEED) for r in b.tables["project_anomaly_truth"]]
    return {(str(t["rule"]), str(t["project_id"]), str(t["household_id"])) for t in truth}


def found(flags: list[AnomalyFlag]) -> set[tuple[str, str, str]]:
    return {(f.rule.value, f.project_id or "", f.household_id or "") for f in flags}


def test_each_check_finds_exactly_the_planted_anomalies(
    county: GraphClient, worker: Worker
) -> None:
    truth = planted()
    assert {rule for rule, _, _ in truth} == {r.value for r in ProjectAnomaly}
    repo = ProjectRepository(county)
    settings = get_settings().projects
    service = ProjectService(repo, AuditRepository(county), settings)
    admin = Principal(user_id="admin", username="admin", role=Role.ADMIN)
    live = service.anomalies(Actor(principal=admin, prefixes=("",)), as_of=AS_OF)
    for rule in ProjectAnomaly:
        assert {f for f in found(live) if f[0] == rule} == {t for t in truth if t[0] == rule}, rule
    # Evidence carries the numbers that made each finding.
    by_rule = {f.rule: f for f in live}
    assert by_rule[ProjectAnomaly.STALLED].evidence["idle_days"] > settings.stall_days
    money = by_rule[ProjectAnomaly.DISBURSED_WITHOUT_PROGRESS].evidence
    assert money["disbursed_share"] - money["progress_pct"] / 100 > settings.advance_share
    crowded = by_rule[ProjectAnomaly.TOO_MANY_PROJECTS].evidence
    assert crowded["projects"] == len(crowded["project_ids"]) > settings.max_projects_per_household
    # A narrower scope sees the findings of its own villages only.
    village = next(f.region_code for f in live if len(f.region_code) == 12)
    narrow = service.anomalies(Actor(principal=admin, prefixes=(village,)), as_of=AS_OF)
    assert narrow and all(f.region_code.startswith(village) for f in narrow)

    # The nightly task: a real worker, chunks of one county (the county scale has one).
    jobs = JobRepository(county)
    job = create_project_scan_job(jobs, "test", AS_OF, counties_per_chunk=1)
    worker.start()
    celery_app.send_task("bangfu.projects.scan", args=[job.id])
    wait_for_job(jobs, job.id, timeout_s=180)
    done = jobs.get(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert done.chunks_done == done.chunks_total == 1
    stored = repo.stored_flags(("",))
    assert found(stored) == truth
    assert {f.id for f in stored} == {f.id for f in live}

    # Again: a re-delivered chunk does nothing, a second scan replaces the flags with the same.
    runner = ProjectScanJob(jobs, repo, settings, get_settings().workers)
    assert runner.run_chunk(job.id, 0) == "already done"
    again = create_project_scan_job(jobs, "test", AS_OF)
    celery_app.send_task("bangfu.projects.scan", args=[again.id])
    wait_for_job(jobs, again.id, timeout_s=180)
    assert jobs.get(again.id).state is JobState.SUCCEEDED
    assert found(repo.stored_flags(("",))) == truth
    row = county.read_one(FLAGS)
    assert row is not None and row["n"] == len(truth)

    # The nightly schedule sends the task without a job: it creates one for today and runs it.
    celery_app.send_task("bangfu.projects.scan")
    deadline = time.monotonic() + 60
    while (nightly := county.read_one(BEAT_JOB)) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert nightly is not None, "the nightly scan created no job"
    wait_for_job(jobs, nightly["id"], timeout_s=180)
    assert jobs.get(nightly["id"]).state is JobState.SUCCEEDED


ADDABLE = """
MATCH (h:Household) WHERE h.village_code STARTS WITH $county
  AND NOT EXISTS { (:Project {id: $project_id})-[:BENEFITS]->(h) }
RETURN h.id AS id ORDER BY id LIMIT $n
"""


def test_concurrent_changes_to_one_project_all_land_without_deadlocks(county: GraphClient) -> None:
    """Many sessions adding beneficiaries to one project at once: each change queues on the
    project's lock node, none is lost and none fails (locking the project node itself, which
    BENEFITS is created on, deadlocked)."""
    contenders = 24
    repo = ProjectRepository(county)
    service = ProjectService(repo, AuditRepository(county), get_settings().projects)
    official = Principal(user_id="o", username="o", role=Role.OFFICIAL, region_code="44")
    actor = Actor(principal=official, prefixes=("44",))
    page = service.browse(actor, ProjectQuery(stage=ProjectStage.OPERATION, limit=100))
    project = next(s.project for s in page.items if s.project.village_code is None)
    before = service.get(actor, project.id)
    households = [
        r["id"]
        for r in county.read(
            ADDABLE, county=project.county_code, project_id=project.id, n=contenders
        )
    ]
    barrier = threading.Barrier(contenders)

    def add(household_id: str) -> str:
        barrier.wait()
        try:
            service.add_beneficiaries(
                actor, project.id, BeneficiariesIn(household_ids=(household_id,))
            )
        except BangfuError as exc:
            return type(exc).__name__
        return "ok"

    with ThreadPoolExecutor(max_workers=contenders) as pool:
        assert Counter(pool.map(add, households)) == {"ok": contenders}
    after = service.get(actor, project.id)
    assert len(after.beneficiaries) == len(before.beneficiaries) + contenders
    assert after.version == before.version + contenders

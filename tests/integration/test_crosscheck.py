"""Cross-checks end to end on a generated county (6,850 households, 17,858 people) with its
department files imported: a real Celery worker runs the job started over HTTP, every planted
discrepancy is found and nothing else (precision and recall 1.0 per rule), a second run adds no
finding, field workers see and resolve their village's tasks (the record and the audit trail
change together), other regions see nothing, and the error rate follows the resolutions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bangfu.access import Role
from bangfu.vocabulary import CrossCheckRule
from graph.client import GraphClient
from graph.models import JobState
from graph.pii import PiiVault
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from graph.synthetic.scales import AS_OF
from tests.integration.celery_worker import STALLED_AFTER_S, Worker
from tests.integration.conftest import VILLAGE_A, Login, MakeUser, bearer
from tests.integration.crosscheck_data import CountyData, seed_county_with_departments
from verification.jobs import create_cross_check_job
from verification.report import detection, subjects_of
from workers.celery_app import app as celery_app

R = CrossCheckRule


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    celery_app.control.purge()
    w = Worker(tmp_path)
    w.start()
    yield w
    w.stop()
    celery_app.control.purge()


@pytest.fixture
def county(auth_graph: GraphClient, vault: PiiVault, tmp_path: Path) -> CountyData:
    return seed_county_with_departments(auth_graph, vault, tmp_path)


def wait_for(jobs: JobRepository, job_id: str, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if jobs.get(job_id).state in (JobState.SUCCEEDED, JobState.FAILED):
            break
        time.sleep(1)
    job = jobs.get(job_id)
    assert job.state is JobState.SUCCEEDED, (job.state, job.error, job.chunks_done)


def run_check(http: httpx.Client, token: str, graph: GraphClient, region: str) -> str:
    response = http.post(
        "/api/v1/verification/cross-checks",
        json={"region": region, "as_of": AS_OF.isoformat(), "villages_per_chunk": 25},
        headers=bearer(token),
    )
    assert response.status_code == 202, response.text
    job_id = str(response.json()["id"])
    wait_for(JobRepository(graph), job_id)
    return job_id


AUDIT_OF = "MATCH (e:AuditEvent {subject_id: $id}) RETURN e.action AS action, e.after AS after"
PERSON = "MATCH (p:Person {id: $id}) RETURN p.deceased AS deceased, p.death_date AS death_date"
HOUSEHOLD = "MATCH (h:Household {id: $id}) RETURN h.flags AS flags"


def test_a_county_cross_check_finds_every_planted_discrepancy_and_nothing_else(
    county: CountyData,
    auth_graph: GraphClient,
    worker: Worker,
    http: httpx.Client,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
) -> None:
    graph = auth_graph
    code = county.county_code
    official = token_of(make_user(Role.OFFICIAL, code))
    run_check(http, official, graph, code)

    repo = CrossCheckRepository(graph)
    rows = repo.finding_keys(code)
    report = {d.rule: d for d in detection(county.files.planted, subjects_of(rows))}
    for rule in CrossCheckRule:
        d = report[rule]
        assert d.planted > 0, f"nothing planted for {rule}"
        assert d.recall == 1.0 and d.precision == 1.0, d

    # Idempotent: a second job finds the same findings and adds none.
    run_check(http, official, graph, code)
    assert len(repo.finding_keys(code)) == len(rows)

    # A field worker of one village sees that village's tasks only.
    deceased = sorted(s for r, s in county.files.planted if r is R.DECEASED_LISTED)[0]
    village = next(
        str(h["village_code"])
        for h in county.households
        if str(h["household_id"]) == deceased.rsplit("-", 1)[0]
    )
    worker_token = token_of(make_user(Role.FIELD_WORKER, village))
    listed = http.get(
        "/api/v1/verification/tasks",
        params={"page_size": 100},
        headers=bearer(worker_token),
    )
    assert listed.status_code == 200, listed.text
    tasks = listed.json()["items"]
    assert tasks and all(t["village_code"] == village for t in tasks)
    assert listed.json()["total"] == sum(1 for r in rows if r[1].startswith("H" + village))
    task = next(t for t in tasks if t["person_id"] == deceased and t["rule"] == "deceased_listed")
    assert task["status"] == "open" and task["next_steps"] == ["confirm", "dismiss"]
    assert task["evidence"][0]["source"].endswith(".deaths")
    assert "national_id" not in str(task) and deceased[:1] == "H"

    # Someone else's region: not found, and absent from their list.
    stranger = token_of(make_user(Role.FIELD_WORKER, VILLAGE_A))
    assert (
        http.get(f"/api/v1/verification/tasks/{task['id']}", headers=bearer(stranger)).status_code
        == 404
    )
    other = http.get("/api/v1/verification/tasks", headers=bearer(stranger))
    assert other.json()["total"] == 0

    # Confirm: the member is marked deceased, the household counts the living, and the audit
    # event is there.
    size_of = "MATCH (h:Household {id: $id}) RETURN h.size AS size"
    size_before = graph.read_one(size_of, id=deceased.rsplit("-", 1)[0])
    assert size_before is not None
    resolved = http.post(
        f"/api/v1/verification/tasks/{task['id']}/resolve",
        json={"outcome": "confirm", "note": "入户核实：已于去年去世"},
        headers=bearer(worker_token),
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "confirmed"
    person = graph.read_one(PERSON, id=deceased)
    assert person is not None and person["deceased"] is True and person["death_date"] is not None
    size_after = graph.read_one(size_of, id=deceased.rsplit("-", 1)[0])
    assert size_after == {"size": max(1, size_before["size"] - 1)}
    events = graph.read(AUDIT_OF, id=task["id"])
    assert [e["action"] for e in events] == ["finding.confirm"]

    # Twice: refused, nothing changes.
    again = http.post(
        f"/api/v1/verification/tasks/{task['id']}/resolve",
        json={"outcome": "dismiss", "note": "重复"},
        headers=bearer(worker_token),
    )
    assert again.status_code == 409
    assert len(graph.read(AUDIT_OF, id=task["id"])) == 1

    # Confirming an eligibility finding makes an identification error in the county's rate.
    vehicle_owner = sorted(s for r, s in county.files.planted if r is R.VEHICLE_OWNER)[0]
    household_id = vehicle_owner.rsplit("-", 1)[0]
    found = http.get(
        "/api/v1/verification/tasks",
        params={"rule": "vehicle_owner", "household_id": household_id},
        headers=bearer(official),
    ).json()["items"]
    assert len(found) == 1
    before = http.get("/api/v1/verification/error-rates", headers=bearer(official)).json()
    assert (
        http.post(
            f"/api/v1/verification/tasks/{found[0]['id']}/resolve",
            json={"outcome": "confirm", "note": "核实名下有小汽车"},
            headers=bearer(official),
        ).status_code
        == 200
    )
    flags = graph.read_one(HOUSEHOLD, id=household_id)
    assert flags is not None and "vehicle_owner" in flags["flags"]
    after = http.get("/api/v1/verification/error-rates", headers=bearer(official)).json()
    (row,) = [c for c in after["counties"] if c["county_code"] == code]
    (old,) = [c for c in before["counties"] if c["county_code"] == code]
    assert row["households_checked"] == len(county.households)
    assert row["households_misidentified"] == old["households_misidentified"] + 1
    assert row["identification_error_rate"] == pytest.approx(
        row["households_misidentified"] / row["subject_households_checked"], abs=1e-6
    )
    assert "÷" in after["definition_zh"]

    # Roles: a field worker may not start a check; an official of another county sees nothing.
    assert (
        http.post(
            "/api/v1/verification/cross-checks", json={}, headers=bearer(worker_token)
        ).status_code
        == 403
    )
    outsider = token_of(make_user(Role.OFFICIAL, "440223"))
    assert (
        http.post(
            "/api/v1/verification/cross-checks", json={"region": code}, headers=bearer(outsider)
        ).status_code
        == 404
    )
    assert (
        http.get("/api/v1/verification/error-rates", headers=bearer(outsider)).json()["counties"]
        == []
    )


APPLIED = """
MATCH (v:Region {level: 'village'}) WHERE v.code STARTS WITH $prefix
RETURN v.crosscheck_job AS job, v.crosscheck_applied AS applied
"""


def test_a_cross_check_whose_worker_is_killed_applies_every_chunk_exactly_once(
    county: CountyData, auth_graph: GraphClient, tmp_path: Path
) -> None:
    graph = auth_graph
    jobs = JobRepository(graph)
    # 170 villages in 34 chunks, so that kills land between and inside chunks.
    job = create_cross_check_job(
        jobs, "test", county.county_code, as_of=AS_OF, villages_per_chunk=5
    )
    celery_app.control.purge()
    w = Worker(tmp_path, resend_after_s=STALLED_AFTER_S)
    w.start()
    try:
        celery_app.send_task("bangfu.checks.run", args=[job.id])
        for target in (6, 14):
            deadline = time.monotonic() + 300
            while (jobs.get(job.id).chunks_done or 0) < target:
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.2)
            w.kill()  # SIGKILL: the chunk in flight is neither acknowledged nor committed
            w.start()
        wait_for(jobs, job.id)
    finally:
        w.stop()
        celery_app.control.purge()
    assert all(c.state == "done" for c in jobs.chunks(job.id))
    marks = graph.read(APPLIED, prefix=county.county_code)
    assert len(marks) == 170
    assert all(m["job"] == job.id and m["applied"] == 1 for m in marks)
    rows = CrossCheckRepository(graph).finding_keys(county.county_code)
    assert len(rows) == len(county.files.planted)

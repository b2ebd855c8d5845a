"""Workers against the real Redis and Neo4j with a real Celery worker process: a chunked job
runs to the end, a worker killed with SIGKILL again and again still leaves every chunk applied
exactly once, a chunk that keeps dying is set aside instead of looping, and a job recorded
while the broker was down is sent by the sweep once it is back."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from bangfu.settings import get_settings
from graph.client import GraphClient
from graph.models import JobState
from graph.pii import PiiVault
from graph.repositories.analytics import AnalyticsRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.region_stats import RegionStatsRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale
from tests.integration.celery_worker import STALLED_AFTER_S, Worker, wait_for_job
from workers.celery_app import app as celery_app
from workers.dispatch import start_job, start_proposal
from workers.jobs import RegionStatsJob, create_region_stats_job
from workers.tasks import resend_jobs


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    celery_app.control.purge()  # nothing left over from another test
    w = Worker(tmp_path)
    yield w
    w.stop()
    celery_app.control.purge()


@pytest.fixture
def county(empty_graph: GraphClient, vault: PiiVault) -> GraphClient:
    seed_graph(empty_graph, vault, Scale.COUNTY, seed=3)
    return empty_graph


HOUSEHOLDS = "MATCH (h:Household) RETURN count(h) AS n"


def test_chunked_job_runs_to_the_end(county: GraphClient, worker: Worker) -> None:
    jobs = JobRepository(county)
    job = create_region_stats_job(jobs, created_by="test", villages_per_chunk=20)
    worker.start()
    celery_app.send_task("bangfu.stats.plan", args=[job.id])
    wait_for_job(jobs, job.id, timeout_s=120)
    done = jobs.get(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    villages = RegionStatsRepository(county).village_codes()
    assert done.chunks_total == done.chunks_done == -(-len(villages) // 20)
    assert done.rows_done == done.rows_total == len(villages)
    summary = RegionStatsRepository(county).summary(villages[0][:6])
    assert summary.households == county.read_one(HOUSEHOLDS)["n"]
    assert set(RegionStatsRepository(county).updates().values()) == {1}


@pytest.fixture
def killed_worker(tmp_path: Path) -> Iterator[Worker]:
    """A worker the test kills, with the sweep beat would send for it."""
    celery_app.control.purge()
    w = Worker(tmp_path, resend_after_s=STALLED_AFTER_S)
    yield w
    w.stop()
    celery_app.control.purge()


def test_worker_killed_again_and_again_leaves_every_chunk_done_exactly_once(
    county: GraphClient, killed_worker: Worker
) -> None:
    worker = killed_worker
    jobs = JobRepository(county)
    job = create_region_stats_job(jobs, created_by="test", villages_per_chunk=1)
    worker.start()
    celery_app.send_task("bangfu.stats.plan", args=[job.id])
    rng = random.Random(7)
    kills = 0
    while kills < 5:
        time.sleep(rng.uniform(0.8, 2.0))
        state = jobs.get(job.id)
        if state.state is JobState.SUCCEEDED:
            break
        worker.kill()
        kills += 1
        worker.start()
    wait_for_job(jobs, job.id, timeout_s=240)
    done = jobs.get(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert kills >= 3, "the job finished before the worker could be killed: make chunks smaller"
    villages = RegionStatsRepository(county).village_codes()
    assert done.chunks_done == done.chunks_total == len(villages)
    updates = RegionStatsRepository(county).updates()
    assert len(updates) == len(villages)
    assert set(updates.values()) == {1}, "a chunk was applied twice or not at all"
    assert all(c.state == "done" for c in jobs.chunks(job.id))
    # The levels above hold each village's figures exactly once, however the chunks went.
    households = county.read_one(HOUSEHOLDS)["n"]
    analytics = AnalyticsRepository(county)
    for code in ("44", villages[0][:4], villages[0][:6], villages[0][:9]):
        rolled = analytics.region(code)
        assert rolled is not None
        below = [v for v in villages if v.startswith(code)]
        if len(code) < 9:
            assert rolled.figures["households"] == households, code
        assert rolled.figures["villages"] == len(below), code


def test_a_chunk_that_keeps_dying_is_set_aside(county: GraphClient) -> None:
    jobs = JobRepository(county)
    settings = get_settings().workers
    runner = RegionStatsJob(jobs, RegionStatsRepository(county), settings)
    job = create_region_stats_job(jobs, created_by="test", villages_per_chunk=50)
    runner.plan(job.id, enqueue=lambda job_id, no: None)
    # Deliveries that killed their worker before finishing: counted, never completed.
    for _ in range(settings.max_deliveries):
        jobs.count_delivery(job.id, 0, settings.max_deliveries)
    assert runner.run_chunk(job.id, 0) == "set aside"
    failed = jobs.get(job.id)
    assert failed.state is JobState.FAILED
    assert failed.error is not None and "chunk 0 set aside" in failed.error
    # The other chunks still run, once.
    assert runner.run_chunk(job.id, 1) == "applied"
    assert runner.run_chunk(job.id, 1) == "already done"


def test_a_job_recorded_while_the_broker_was_down_is_sent_by_the_sweep(
    empty_graph: GraphClient, vault: PiiVault, worker: Worker
) -> None:
    seed_graph(empty_graph, vault, Scale.VILLAGE, seed=3)
    jobs = JobRepository(empty_graph)
    with socket.socket() as probe:  # a port nothing listens on: the broker is down
        probe.bind(("127.0.0.1", 0))
        down = Celery("down", broker=f"redis://127.0.0.1:{probe.getsockname()[1]}/0")
    job = create_region_stats_job(jobs, created_by="test")
    assert start_job(job.id, job.kind, app=down) is False  # not sent, and no error raised
    assert start_proposal("AP-0", app=down) is False  # the same for a queued proposal
    assert jobs.get(job.id).state is JobState.QUEUED
    # Too young to be taken for lost: the sweep with its default age leaves it alone.
    assert resend_jobs.run() == []

    worker.start()
    celery_app.send_task("bangfu.jobs.resend", kwargs={"older_than_s": 0})
    wait_for_job(jobs, job.id, timeout_s=120)
    done = jobs.get(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert done.rows_done == len(RegionStatsRepository(empty_graph).village_codes())
    assert resend_jobs.run(older_than_s=0) == []  # nothing queued is left to send


def test_a_running_job_that_lost_a_chunk_message_is_sent_again_by_the_sweep(
    county: GraphClient, worker: Worker
) -> None:
    jobs = JobRepository(county)
    stats = RegionStatsRepository(county)
    villages = stats.village_codes()
    chunks = -(-len(villages) // 20)
    job = create_region_stats_job(jobs, created_by="test", villages_per_chunk=20)
    runner = RegionStatsJob(jobs, stats, get_settings().workers)

    # Planned and enqueued, but chunk 1's message is lost on the way (a worker SIGKILLed
    # between taking it off the queue and recording it: workers/dispatch.py).
    def enqueue_all_but_one(job_id: str, no: int) -> None:
        if no != 1:
            celery_app.send_task("bangfu.stats.chunk", args=[job_id, no])

    assert runner.plan(job.id, enqueue_all_but_one) == chunks
    worker.start()
    deadline = time.monotonic() + 120
    while (jobs.get(job.id).chunks_done or 0) < chunks - 1:
        assert time.monotonic() < deadline, "the chunks sent were not applied"
        time.sleep(0.3)
    time.sleep(2)
    stalled = jobs.get(job.id)
    assert stalled.state is JobState.RUNNING
    assert [c.no for c in jobs.chunks(job.id) if c.state == "pending"] == [1]
    # Idle for seconds only: the sweep with its default age (15 min) leaves it alone.
    assert resend_jobs.run() == []

    celery_app.send_task("bangfu.jobs.resend", kwargs={"older_than_s": 1})
    wait_for_job(jobs, job.id, timeout_s=120)
    done = jobs.get(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert done.chunks_done == done.chunks_total == chunks
    updates = stats.updates()
    assert len(updates) == len(villages)
    assert set(updates.values()) == {1}, "a chunk was applied twice or not at all"
    assert resend_jobs.run(older_than_s=0) == []  # nothing running or queued is left

"""Nightly risk scoring as Celery tasks with a real worker process: the job scores every
village in chunks and writes exactly the alerts a direct run writes; running the night again adds
none; the sweep that follows finds nothing left unscored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bangfu.settings import RiskSettings
from graph.client import GraphClient
from graph.models import AlertQuery, JobState
from graph.pii import PiiVault
from graph.repositories import AuditRepository, RiskRepository
from graph.repositories.jobs import JobRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale
from ml.registry import ModelRegistry
from ml.scoring import ScoringService
from tests.conftest import wipe
from tests.integration.celery_worker import Worker, wait_for_job
from tests.integration.risk_model import register_small_model
from workers.celery_app import app as celery_app
from workers.jobs import create_risk_scoring_job

pytestmark = pytest.mark.services
SEED = 3
SETTINGS = RiskSettings()
PERIOD = "2026"


@pytest.fixture(scope="module")
def village_graph(graph: GraphClient, vault: PiiVault) -> GraphClient:
    wipe(graph)
    seed_graph(graph, vault, Scale.VILLAGE, SEED)
    return graph


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, village_graph: GraphClient) -> Path:
    """A small model trained on the generated village and activated (audited), as an operator
    would before the first night."""
    root = tmp_path_factory.mktemp("models")
    card = register_small_model(root, SEED, SETTINGS)
    registry = ModelRegistry(root)
    registry.activate(card.version, "test-operator", AuditRepository(village_graph))
    return root


@pytest.fixture
def worker(tmp_path: Path, model_dir: Path) -> Iterator[Worker]:
    celery_app.control.purge()
    w = Worker(tmp_path, env={"BANGFU_RISK_MODEL_DIR": str(model_dir)})
    w.start()
    yield w
    w.stop()
    celery_app.control.purge()


def run_night(graph: GraphClient, only_unscored: bool = False) -> str:
    jobs = JobRepository(graph)
    job = create_risk_scoring_job(jobs, "test", PERIOD, only_unscored=only_unscored)
    celery_app.send_task("bangfu.risk.plan", args=[job.id])
    wait_for_job(jobs, job.id, timeout_s=180)
    return job.id


def test_a_night_of_scoring_through_the_worker(
    village_graph: GraphClient, model_dir: Path, worker: Worker
) -> None:
    repo = RiskRepository(village_graph)
    jobs = JobRepository(village_graph)
    assert repo.unscored_villages(PERIOD) != []

    first = jobs.get(run_night(village_graph))
    assert first.state is JobState.SUCCEEDED, first.error
    assert first.chunks_total == first.chunks_done >= 1
    # The night's drift check ran once the chunks were done, over households of the graph.
    assert first.result is not None and first.result["drift"]["rows"] > 0
    assert repo.unscored_villages(PERIOD) == []
    alerts = repo.list_alerts(AlertQuery(limit=200), ("",), ()).total
    assert alerts > 0

    # The same night again: every alert is merged on its id, none is added.
    again = jobs.get(run_night(village_graph))
    assert again.state is JobState.SUCCEEDED, again.error
    assert repo.list_alerts(AlertQuery(limit=200), ("",), ()).total == alerts

    # The worker wrote what scoring in this process writes with the same active model.
    registry = ModelRegistry(model_dir)
    direct = ScoringService(repo, registry.load(registry.resolve(None)), SETTINGS).score(PERIOD)
    assert direct.alerts == alerts

    # The sweep after the night has nothing left to score.
    sweep = jobs.get(run_night(village_graph, only_unscored=True))
    assert sweep.state is JobState.SUCCEEDED and sweep.rows_total == 0

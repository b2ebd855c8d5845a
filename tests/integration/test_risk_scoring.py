"""Scoring against the real Neo4j: the generator's village loaded through the bulk loader, its
features read back from the graph equal the ones computed from the generator's rows, a night's
scoring writes alerts once however often it runs, and switching model versions is audited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bangfu.settings import RiskSettings
from graph.client import GraphClient
from graph.models import AlertQuery, AuditQuery
from graph.pii import PiiVault
from graph.repositories import AuditRepository, RiskRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale, generate
from ml.dataset import records_from_tables
from ml.features import chunk_from_records, features_for_year
from ml.registry import ModelRegistry
from ml.scoring import ScoringService
from tests.conftest import wipe
from tests.integration.risk_model import register_small_model

pytestmark = pytest.mark.services
SEED = 3
SETTINGS = RiskSettings()


@pytest.fixture(scope="module")
def village_graph(graph: GraphClient, vault: PiiVault) -> GraphClient:
    wipe(graph)
    seed_graph(graph, vault, Scale.VILLAGE, SEED)
    return graph


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    """A small model trained on the generated village (fast settings: the model's quality is
    tested in tests/unit/test_risk_model.py; here it only has to score)."""
    root = tmp_path_factory.mktemp("models")
    register_small_model(root, SEED, SETTINGS)
    return ModelRegistry(root)


def test_features_from_the_graph_equal_features_from_the_generator(
    village_graph: GraphClient,
) -> None:
    batch = list(generate(Scale.VILLAGE, SEED))[1]
    expected = features_for_year(
        chunk_from_records(records_from_tables(batch.tables)), 2025, SETTINGS.monitoring_line
    )
    repo = RiskRepository(village_graph)
    villages = [code for code, _ in repo.village_households()]
    columns = repo.panel_columns(villages)
    got = features_for_year(columns, 2025, SETTINGS.monitoring_line)
    assert got.household_ids == expected.household_ids
    np.testing.assert_allclose(got.X, expected.X, rtol=1e-9, equal_nan=True)
    # The graph holds complete years only: 2026, the label year, stays with the generator.
    assert max(columns.years) == 2025 and np.isnan(got.label).all()


def test_scoring_twice_writes_each_alert_once(
    village_graph: GraphClient, registry: ModelRegistry
) -> None:
    version = registry.versions()[0].version
    repo = RiskRepository(village_graph)
    service = ScoringService(repo, registry.load(version), SETTINGS)
    first = service.score("2026")
    assert first.households == first.scored == 40
    assert first.alerts > 0 and repo.unscored_villages("2026") == []
    assert repo.unscored_villages("2027") != []
    page = repo.list_alerts(AlertQuery(limit=100), ("44",), ())
    assert page.total == first.alerts
    alert = page.items[0]
    assert alert.id == f"RA-{alert.household_id}-2026" and alert.status == "new"
    assert alert.reasons and len(alert.factors_zh) == len(alert.factors_en) >= 1
    assert alert.due_at is not None and (alert.due_at - alert.created_at).days == 2

    again = service.score("2026")
    assert again.alerts == first.alerts
    assert repo.list_alerts(AlertQuery(limit=100), ("44",), ()).total == first.alerts
    rescored = repo.get_in_scope(alert.id, ("",))
    assert rescored.created_at == alert.created_at and rescored.rescored_at is not None
    # A chunk is the unit a task runs; one village on its own gives the same alerts.
    one = service.score_chunk([alert.village_code], "2026")
    assert one.households == 40 and one.alerts == first.alerts


def test_switching_the_active_model_is_audited(
    village_graph: GraphClient, registry: ModelRegistry, tmp_path: Path
) -> None:
    version = registry.versions()[0].version
    audit = AuditRepository(village_graph)
    record = registry.activate(version, "test-operator", audit)
    assert registry.resolve(None) == version and record.activated_by == "test-operator"
    events = audit.search(AuditQuery(subject_id=version))
    assert [e.action for e in events] == ["risk_model.activate"]
    assert events[0].after is not None and events[0].after["version"] == version
    # An explicit version wins over the active record.
    assert registry.resolve(version) == version

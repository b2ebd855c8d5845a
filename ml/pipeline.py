"""End-to-end risk jobs the CLI and the benchmark call: train on generated data (or a mapped
table), register, report, and build the scoring service from the chosen model version."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bangfu.settings import RiskSettings
from graph.client import GraphClient
from graph.repositories.risk import RiskRepository
from graph.synthetic import Scale
from graph.synthetic.layout import CITIES
from graph.synthetic.panels import PANEL_YEARS
from ml.dataset import synthetic_chunks
from ml.effects import help_effects
from ml.mapping import TableMapping, TableResult, read_table, train_table
from ml.registry import ModelCard, ModelRegistry
from ml.report import RiskReport, build_report
from ml.rules import RuleThresholds
from ml.scoring import ScoringService
from ml.training import Split, TrainedRisk, YearData, train_on_years, year_data

# Feature years with a known next year: 2020-2025 (2026 is the label year).
FEATURE_YEARS = tuple(PANEL_YEARS[:-1])
CITY_NAMES = {code: name for code, name, _ in CITIES}


@dataclass
class SyntheticData:
    years: dict[int, YearData]
    towns: int
    households: int
    seconds: float


def synthetic_data(scale: Scale, seed: int, settings: RiskSettings) -> SyntheticData:
    started = time.perf_counter()
    data = year_data(synthetic_chunks(scale, seed), FEATURE_YEARS, settings.monitoring_line)
    last = data[FEATURE_YEARS[-1]]
    towns = len({v[:9] for v in last.village_codes})
    return SyntheticData(
        years=data,
        towns=towns,
        households=len(last.household_ids),
        seconds=round(time.perf_counter() - started, 2),
    )


def capacity_alerts(towns: int, settings: RiskSettings) -> int:
    """Alerts officials can review in one window: towns x officials x alerts a week x weeks."""
    return round(
        towns
        * settings.officials_per_town
        * settings.alerts_per_official_per_week
        * settings.review_window_weeks
    )


def train_synthetic(data: SyntheticData, settings: RiskSettings) -> TrainedRisk:
    return train_on_years(
        data.years,
        Split.latest(FEATURE_YEARS),
        towns=data.towns,
        officials_per_town=settings.officials_per_town,
        alerts_per_official_per_week=settings.alerts_per_official_per_week,
        review_window_weeks=settings.review_window_weeks,
    )


def report_for(
    data: SyntheticData,
    model_trained: TrainedRisk | None,
    registry: ModelRegistry | None,
    version: str | None,
    settings: RiskSettings,
    effects: bool = True,
) -> RiskReport:
    """The report on the test year: of a model just trained, or of a registered version."""
    if model_trained is not None:
        model = model_trained.model
    elif registry is not None:
        model = registry.load(registry.resolve(version))
    else:  # pragma: no cover - callers pass one or the other
        raise ValueError("a trained model or a registry is needed")
    split = Split.latest(FEATURE_YEARS)
    test = data.years[split.test_year]
    effects_rows = help_effects(data.years, FEATURE_YEARS[1:]) if effects else []
    return build_report(
        test,
        model,
        RuleThresholds.of(settings),
        capacity_alerts(data.towns, settings),
        CITY_NAMES,
        effects_rows,
    )


def card_metrics(report: RiskReport) -> dict[str, Any]:
    overall = report.groups[0]
    return {
        "test_year": report.test_year,
        "households": report.households,
        "capacity_alerts": report.capacity_alerts,
        "model": overall.model.model_dump(),
        "oracle": overall.oracle.model_dump() if overall.oracle else None,
        "rules": overall.rules.model_dump(),
        "oracle_gap": report.oracle_gap,
    }


def train_and_register(
    scale: Scale, seed: int, settings: RiskSettings, registry: ModelRegistry
) -> tuple[ModelCard, RiskReport]:
    data = synthetic_data(scale, seed, settings)
    trained = train_synthetic(data, settings)
    report = report_for(data, trained, None, None, settings, effects=False)
    card = registry.register(trained, f"synthetic:{scale.value}:{seed}", card_metrics(report))
    return card, report


def train_table_and_register(
    table: Path, mapping_file: Path, alert_share: float, registry: ModelRegistry
) -> tuple[ModelCard, TableResult]:
    mapping = TableMapping.load(mapping_file)
    result = train_table(read_table(table, mapping), alert_share)
    metrics: dict[str, Any] = {
        "split": result.split,
        "test_rows": result.test_rows,
        **{k: (v.model_dump() if v else None) for k, v in result.metrics.items()},
    }
    card = registry.register(result.trained, f"table:{table.name}", metrics)
    return card, result


def scoring_service(graph: GraphClient, settings: RiskSettings) -> ScoringService:
    """Scoring with the explicitly chosen model version (setting, else the active record)."""
    registry = ModelRegistry(settings.model_dir)
    version = registry.resolve(settings.model_version)
    card = registry.card(version)
    return ScoringService(
        RiskRepository(graph),
        registry.load(version),
        settings,
        drift_bins=card.feature_quantiles,
    )

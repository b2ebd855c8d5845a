"""A small risk model trained on the generated village, for the tests that only need something
to score with (the model's quality is tested in tests/unit/test_risk_model.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bangfu.settings import RiskSettings
from graph.synthetic import Scale
from ml import pipeline
from ml.registry import ModelCard, ModelRegistry
from ml.training import Split, train_temporal


def register_small_model(root: Path, seed: int, settings: RiskSettings) -> ModelCard:
    """Train on the village of `seed` with fast settings and register it under `root`."""
    data = pipeline.synthetic_data(Scale.VILLAGE, seed, settings)
    split = Split.latest(pipeline.FEATURE_YEARS)
    train = [data.years[y] for y in split.train_years]
    cal = data.years[split.calibration_year]
    X = np.vstack([d.X for d in train])
    y = np.concatenate([d.label for d in train])
    ok = ~np.isnan(y)
    trained = train_temporal(
        X[ok],
        y[ok],
        cal.X[~np.isnan(cal.label)],
        cal.label[~np.isnan(cal.label)],
        split=split,
        share=0.2,
        params={"min_data_in_leaf": 5, "learning_rate": 0.3},
    )
    return ModelRegistry(root).register(trained, f"synthetic:village:{seed}", {})

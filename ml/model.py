"""The risk model: gradient boosting (LightGBM) on a temporal split, Platt calibration on a
held-out later year, and an alert threshold from officials' review capacity.

Pure: numpy arrays in, numpy arrays out; no database. The trained model is a LightGBM text
model (no pickle: loading a model file runs no code) plus the calibration's two numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from ml.features import FloatArray

# Shallow trees with many rows per leaf and L2: the signal is smooth (income headroom, shares,
# counts) and labels are ~6% positive, so deep trees only learn noise. Early stopping on the
# held-out year picks the number of rounds: at a learning rate of 0.1, ~60 for a county and
# ~250 for the province (0.05 gained under 0.001 AUC there for twice the time).
DEFAULT_PARAMS: dict[str, object] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
    "num_threads": 2,
}
MAX_ROUNDS = 2_000
EARLY_STOPPING_ROUNDS = 100


@dataclass(frozen=True)
class Calibration:
    """Platt scaling on the log-odds: p = sigmoid(a * logit(raw) + b), fitted on a held-out
    later year. Strictly monotone, so it keeps the booster's ranking (AUC) and never ties
    households at a threshold the way isotonic steps would; boosting on log-loss is nearly
    calibrated already, so two parameters are enough to correct a shift between years.
    a = 1, b = 0 is the identity."""

    a: float = 1.0
    b: float = 0.0

    def __call__(self, raw: FloatArray) -> FloatArray:
        out: FloatArray = 1.0 / (1.0 + np.exp(-(self.a * _logit(raw) + self.b)))
        return out

    @classmethod
    def fit(cls, raw: FloatArray, label: FloatArray) -> Calibration:
        # C large: an unpenalised fit; there are thousands of rows for two parameters.
        model = LogisticRegression(C=1e6, max_iter=1_000)
        model.fit(_logit(raw).reshape(-1, 1), label)
        return cls(a=float(model.coef_[0, 0]), b=float(model.intercept_[0]))


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, 1e-7, 1 - 1e-7)
    out: FloatArray = np.log(q / (1 - q))
    return out


@dataclass(frozen=True)
class RiskModel:
    """A trained booster with its calibration and alert threshold (on calibrated scores)."""

    booster: lgb.Booster
    features: tuple[str, ...]
    calibration: Calibration
    threshold: float
    version: str = "unregistered"
    num_threads: int = 2

    def raw(self, X: FloatArray) -> FloatArray:
        self._check(X)
        out: FloatArray = np.asarray(
            self.booster.predict(X, num_threads=self.num_threads), dtype=np.float64
        )
        return out

    def predict(self, X: FloatArray) -> FloatArray:
        """Calibrated probability of falling under the monitoring line next year."""
        return self.calibration(self.raw(X))

    def contributions(self, X: FloatArray) -> FloatArray:
        """Per-feature contributions to the raw log-odds (last column: the base value);
        LightGBM's TreeSHAP, so each row sums to the row's raw margin."""
        self._check(X)
        out: FloatArray = np.asarray(
            self.booster.predict(X, pred_contrib=True, num_threads=self.num_threads),
            dtype=np.float64,
        )
        return out

    def _check(self, X: FloatArray) -> None:
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise ValueError(f"expected {len(self.features)} feature columns, got {X.shape}")


@dataclass(frozen=True)
class FitResult:
    booster: lgb.Booster
    best_iteration: int
    seconds: float
    params: dict[str, object] = field(default_factory=dict)


def fit_booster(
    X: FloatArray,
    y: FloatArray,
    X_valid: FloatArray,
    y_valid: FloatArray,
    features: Sequence[str],
    categorical: Sequence[str] = (),
    params: dict[str, object] | None = None,
) -> FitResult:
    """Gradient boosting with early stopping on the validation slice (a later year)."""
    import time  # noqa: PLC0415 - timing only

    chosen = {**DEFAULT_PARAMS, **(params or {})}
    cats = [list(features).index(c) for c in categorical]
    train = lgb.Dataset(
        X, y, feature_name=list(features), categorical_feature=cats or "auto", free_raw_data=True
    )
    valid = lgb.Dataset(X_valid, y_valid, reference=train)
    started = time.perf_counter()
    booster = lgb.train(
        chosen,
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    seconds = time.perf_counter() - started
    best = int(booster.best_iteration or booster.current_iteration())
    # Keep only the rounds early stopping chose, so the saved model is what was validated.
    trimmed = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return FitResult(booster=trimmed, best_iteration=best, seconds=seconds, params=chosen)


def capacity_share(
    towns: int,
    households: int,
    officials_per_town: int,
    alerts_per_official_per_week: float,
    review_window_weeks: int,
) -> float:
    """Share of households officials can review in one review window:
    towns x officials per town x alerts per official per week x weeks / households."""
    if households <= 0:
        return 0.0
    capacity = towns * officials_per_town * alerts_per_official_per_week * review_window_weeks
    return float(min(1.0, capacity / households))


def threshold_for_share(scores: FloatArray, share: float) -> float:
    """The score above which `share` of these households fall: alerting at it fills the
    review capacity exactly on data like these."""
    if scores.size == 0 or share <= 0:
        return 1.0
    if share >= 1:
        return 0.0
    return float(np.quantile(scores, 1.0 - share))

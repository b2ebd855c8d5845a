"""Training pipeline: features per year, temporal split, boosting, calibration, threshold.

The split is by year, never by household: the model learns from feature years up to T-2
(labels up to T-1), early-stops and is calibrated on year T-1 (labels T), and is tested on
year T (labels T+1), a year it never saw. With the generator's panel that is: train on
2020-2023, calibrate on 2024, test on 2025 (did the household fall under the line in 2026?).

Only households above the line in the feature year are modelled: those below it already meet
the income rule, and "falling under" is only defined for the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ml.dataset import LabelledChunk
from ml.features import (
    CATEGORICAL,
    FEATURES,
    BoolArray,
    FloatArray,
    LineOf,
    features_for_year,
)
from ml.model import (
    Calibration,
    RiskModel,
    capacity_share,
    fit_booster,
    threshold_for_share,
)

# Quantiles of every feature kept with a model, to compare later data against (drift check).
DRIFT_QUANTILES = tuple(q / 10 for q in range(1, 10))
_DRIFT_SAMPLE = 100_000


@dataclass
class YearData:
    """Every household's features of one year, and what is known about its next year."""

    year: int
    X: FloatArray  # float32 to halve memory at province scale (664,000 x 63 per year)
    label: FloatArray
    below_now: BoolArray
    disabled: BoolArray
    household_ids: list[str]
    village_codes: list[str]
    p_true: FloatArray | None = None
    p_unaided: FloatArray | None = None

    @property
    def population(self) -> BoolArray:
        """Households whose fall can be predicted: above the line now, next year known."""
        out: BoolArray = ~self.below_now & ~np.isnan(self.label)
        return out


def year_data(
    chunks: Iterable[LabelledChunk], years: Sequence[int], line_of: LineOf
) -> dict[int, YearData]:
    """Features of `years` for every chunk, stacked per year (one pass over the chunks)."""
    parts: dict[int, list[tuple[object, ...]]] = {y: [] for y in years}
    for lc in chunks:
        for y in years:
            f = features_for_year(lc.chunk, y, line_of)
            j = lc.chunk.years.index(y)
            parts[y].append(
                (
                    f.X.astype(np.float32),
                    f.label,
                    f.below_now,
                    f.disabled,
                    f.household_ids,
                    f.village_codes,
                    lc.p_true[:, j],
                    lc.p_unaided[:, j],
                )
            )
    out: dict[int, YearData] = {}
    for y, items in parts.items():
        cols = list(zip(*items, strict=True))
        out[y] = YearData(
            year=y,
            X=np.vstack(cols[0]),
            label=np.concatenate(cols[1]),
            below_now=np.concatenate(cols[2]),
            disabled=np.concatenate(cols[3]),
            household_ids=[h for part in cols[4] for h in part],
            village_codes=[v for part in cols[5] for v in part],
            p_true=np.concatenate(cols[6]),
            p_unaided=np.concatenate(cols[7]),
        )
    return out


@dataclass(frozen=True)
class Split:
    train_years: tuple[int, ...]
    calibration_year: int
    test_year: int

    @classmethod
    def latest(cls, years_with_labels: Sequence[int], history: int = 4) -> Split:
        """Test on the last year with labels, calibrate on the one before, train on up to
        `history` years before that."""
        ys = sorted(years_with_labels)
        if len(ys) < 3:
            raise ValueError("a temporal split needs at least three years with labels")
        return cls(
            train_years=tuple(ys[-2 - history : -2]), calibration_year=ys[-2], test_year=ys[-1]
        )


@dataclass
class TrainedRisk:
    model: RiskModel
    split: Split
    data_hash: str
    train_rows: int
    calibration_rows: int
    best_iteration: int
    train_seconds: float
    params: dict[str, object]
    capacity_share: float
    threshold: float
    feature_quantiles: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    features: tuple[str, ...] = FEATURES
    categorical: tuple[str, ...] = CATEGORICAL


def data_hash(*arrays: np.ndarray) -> str:
    """sha256 over the exact training inputs: same data, same hash."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(str(a.dtype).encode())
        digest.update(str(a.shape).encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def feature_quantiles(X: FloatArray, features: Sequence[str]) -> dict[str, dict[str, list[float]]]:
    """Per feature, the training deciles as bin edges (repeated edges of discrete features
    merged) and the share of training rows in each bin: what the drift check expects."""
    rng = np.random.default_rng(0)
    sample = X if X.shape[0] <= _DRIFT_SAMPLE else X[rng.choice(X.shape[0], _DRIFT_SAMPLE, False)]
    out: dict[str, dict[str, list[float]]] = {}
    for j, name in enumerate(features):
        col = sample[:, j].astype(np.float64)
        col = col[~np.isnan(col)]
        if not col.size:
            out[name] = {"edges": [], "shares": []}
            continue
        edges = np.unique(np.round(np.quantile(col, DRIFT_QUANTILES), 6))
        counts = np.bincount(np.searchsorted(edges, col, side="right"), minlength=edges.size + 1)
        out[name] = {
            "edges": [float(v) for v in edges],
            "shares": [round(float(c) / col.size, 6) for c in counts],
        }
    return out


def train_temporal(
    X_train: FloatArray,
    y_train: FloatArray,
    X_cal: FloatArray,
    y_cal: FloatArray,
    *,
    split: Split,
    share: float,
    features: Sequence[str] = FEATURES,
    categorical: Sequence[str] = CATEGORICAL,
    params: dict[str, object] | None = None,
) -> TrainedRisk:
    """Boost on the training years, early-stop and calibrate on the calibration year, and set
    the alert threshold where `share` of the calibration year's households score above it."""
    fit = fit_booster(X_train, y_train, X_cal, y_cal, features, categorical, params)
    uncalibrated = RiskModel(
        booster=fit.booster,
        features=tuple(features),
        calibration=Calibration(),
        threshold=1.0,
    )
    raw_cal = uncalibrated.raw(X_cal)
    calibration = Calibration.fit(raw_cal, y_cal)
    threshold = threshold_for_share(calibration(raw_cal), share)
    model = RiskModel(
        booster=fit.booster,
        features=tuple(features),
        calibration=calibration,
        threshold=threshold,
    )
    return TrainedRisk(
        model=model,
        split=split,
        data_hash=data_hash(X_train, y_train, X_cal, y_cal),
        train_rows=int(X_train.shape[0]),
        calibration_rows=int(X_cal.shape[0]),
        best_iteration=fit.best_iteration,
        train_seconds=round(fit.seconds, 2),
        params=fit.params,
        capacity_share=share,
        threshold=threshold,
        # The drift check compares scored data with the latest year the model saw.
        feature_quantiles=feature_quantiles(X_cal, features),
        features=tuple(features),
        categorical=tuple(categorical),
    )


def train_on_years(
    data: dict[int, YearData],
    split: Split,
    *,
    towns: int,
    officials_per_town: int,
    alerts_per_official_per_week: float,
    review_window_weeks: int,
    params: dict[str, object] | None = None,
) -> TrainedRisk:
    """Train on stacked year data. The review capacity (towns x officials x alerts a week x
    weeks) is turned into the share of the calibration year's modelled households to alert."""
    train_parts = [
        (data[y].X[data[y].population], data[y].label[data[y].population])
        for y in split.train_years
    ]
    X_train = np.vstack([x for x, _ in train_parts])
    y_train = np.concatenate([y for _, y in train_parts])
    cal = data[split.calibration_year]
    X_cal, y_cal = cal.X[cal.population], cal.label[cal.population]
    households = int(cal.X.shape[0])
    capacity = capacity_share(
        towns, households, officials_per_town, alerts_per_official_per_week, review_window_weeks
    )
    # Capacity is counted over all households; alerts from the model go to the modelled ones.
    share = min(1.0, capacity * households / max(1, X_cal.shape[0]))
    return train_temporal(X_train, y_train, X_cal, y_cal, split=split, share=share, params=params)

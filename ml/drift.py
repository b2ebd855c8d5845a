"""Drift check: are the features being scored distributed like the training data's?

Each model keeps, per feature, its training deciles as bin edges and the training share in each
bin (ModelCard.feature_quantiles). Scoring counts how current values fall into those bins,
chunk by chunk, and the population stability index PSI = sum((a - e) * ln(a / e)) compares the
current shares a with the training shares e. The usual reading: under 0.1 stable, 0.1-0.25
shifting, over 0.25 retrain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from ml.features import FloatArray

PSI_WARN = 0.1
PSI_RETRAIN = 0.25
# Empty bins would make PSI infinite: half a count (current) and 0.01% (training) floor them.
_FLOOR = 0.5


class FeatureDrift(BaseModel):
    model_config = ConfigDict(frozen=True)

    feature: str
    psi: float
    missing_share: float


class DriftReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    rows: int
    worst: list[FeatureDrift]
    shifting: list[str]
    retrain: bool


class DriftCounter:
    """Accumulates bin counts over chunks; `report()` at the end of a run."""

    def __init__(
        self, features: Sequence[str], bins: Mapping[str, Mapping[str, Sequence[float]]]
    ) -> None:
        self.features = list(features)
        empty: Mapping[str, Sequence[float]] = {"edges": (), "shares": ()}
        self.edges = [np.asarray(bins.get(f, empty)["edges"], dtype=np.float64) for f in features]
        self.expected = [
            np.asarray(bins.get(f, empty)["shares"], dtype=np.float64) for f in features
        ]
        self.counts = [np.zeros(len(e) + 1) for e in self.edges]
        self.missing = np.zeros(len(self.features))
        self.rows = 0

    def add(self, X: FloatArray) -> None:
        self.rows += X.shape[0]
        for j, edges in enumerate(self.edges):
            col = X[:, j]
            ok = ~np.isnan(col)
            self.missing[j] += float((~ok).sum())
            if edges.size:
                bins = np.searchsorted(edges, col[ok], side="right")
                self.counts[j] += np.bincount(bins, minlength=edges.size + 1)

    def report(self, top: int = 5) -> DriftReport:
        drifts: list[FeatureDrift] = []
        for j, name in enumerate(self.features):
            counts = self.counts[j]
            if counts.size <= 1 or counts.sum() == 0 or self.expected[j].size != counts.size:
                continue
            actual = np.maximum(counts, _FLOOR) / max(counts.sum(), 1.0)
            expected = np.maximum(self.expected[j], 1e-4)
            psi = float(np.sum((actual - expected) * np.log(actual / expected)))
            drifts.append(
                FeatureDrift(
                    feature=name,
                    psi=round(psi, 4),
                    missing_share=round(self.missing[j] / max(1, self.rows), 4),
                )
            )
        drifts.sort(key=lambda d: -d.psi)
        return DriftReport(
            rows=self.rows,
            worst=drifts[:top],
            shifting=[d.feature for d in drifts if d.psi >= PSI_WARN],
            retrain=any(d.psi >= PSI_RETRAIN for d in drifts),
        )

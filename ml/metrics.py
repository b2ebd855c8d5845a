"""Evaluation metrics of a risk score against outcomes: ranking (AUC, PR-AUC), what officials
get at their review capacity (precision and recall of the top k), and calibration (ECE)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict
from sklearn.metrics import (  # type: ignore[import-untyped]
    average_precision_score,
    roc_auc_score,
)

from ml.features import FloatArray

# Expected calibration error over 10 bins of equal count: with ~6% positives, equal-width bins
# would put almost every household in the first bin and hide miscalibration where alerts are.
ECE_BINS = 10


class ScoreMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    households: int
    positives: int
    auc: float | None
    pr_auc: float | None
    alerts: int
    precision_at_capacity: float | None
    recall_at_capacity: float | None
    ece: float | None


def ece(score: FloatArray, label: FloatArray, bins: int = ECE_BINS) -> float:
    """Mean |observed rate - mean score| over equal-count bins, weighted by bin size."""
    order = np.argsort(score, kind="stable")
    parts = np.array_split(order, min(bins, max(1, score.size)))
    total = 0.0
    for part in parts:
        if part.size:
            total += part.size * abs(float(label[part].mean()) - float(score[part].mean()))
    return total / max(1, score.size)


def score_metrics(
    score: FloatArray, label: FloatArray, alerts: int, calibrated: bool = True
) -> ScoreMetrics:
    """Metrics of `score` (higher = riskier) on `label` (1 fell, 0 did not); the top `alerts`
    households are the ones officials review. Ties at the cut are broken by position, so a
    binary score (the rules) alerts exactly its flagged households when `alerts` is their count.
    `calibrated=False` skips ECE (a rule flag is not a probability)."""
    n = score.size
    positives = int(label.sum())
    both = 0 < positives < n
    k = int(min(max(alerts, 0), n))
    top = np.argsort(-score, kind="stable")[:k]
    hits = float(label[top].sum()) if k else 0.0
    return ScoreMetrics(
        households=n,
        positives=positives,
        auc=round(float(roc_auc_score(label, score)), 4) if both else None,
        pr_auc=round(float(average_precision_score(label, score)), 4) if both else None,
        alerts=k,
        precision_at_capacity=round(hits / k, 4) if k else None,
        recall_at_capacity=round(hits / positives, 4) if positives else None,
        ece=round(ece(score, label), 4) if calibrated and n else None,
    )

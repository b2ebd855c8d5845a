"""The risk report: how well the model, the official rules alone and the oracle rank and
calibrate next year's falls, overall, per city and for households with and without disabled
members, at the review capacity officials have; and which kinds of help reduced falls.

Everything is measured on the test year (features of T, outcomes of T+1) among households
above the line in T. At capacity, the model alerts its top K households (K from the settings'
review capacity); the oracle gets the same number of alerts in each group, so their precision
and recall compare like with like; the rules alert every household one of them flags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from ml.effects import HelpEffect
from ml.features import BoolArray, FloatArray
from ml.metrics import ScoreMetrics, score_metrics
from ml.model import RiskModel
from ml.rules import RULES, RuleThresholds, evaluate_rules
from ml.training import YearData


class GroupReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    group: str
    model: ScoreMetrics
    oracle: ScoreMetrics | None
    rules: ScoreMetrics


class RiskReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    model_version: str
    test_year: int
    label_year: int
    households: int
    capacity_alerts: int
    threshold: float
    groups: list[GroupReport]
    help_effects: list[HelpEffect] = []
    oracle_gap: float | None = None  # oracle AUC - model AUC, overall


def _rule_frame_flags(data: YearData, thresholds: RuleThresholds) -> BoolArray:
    """Rules other than the income rule, on the test year (the population is above the line,
    where the income rule cannot fire)."""
    from ml.features import FeatureFrame  # noqa: PLC0415 - a view of the stacked year

    frame = FeatureFrame(
        year=data.year,
        household_ids=data.household_ids,
        village_codes=data.village_codes,
        X=data.X.astype(np.float64),
        label=data.label,
        below_now=data.below_now,
        disabled=data.disabled,
        per_capita=np.full(data.label.size, np.nan),
        line=np.full(data.label.size, np.nan),
    )
    flags = evaluate_rules(frame, thresholds)
    keep = [i for i, r in enumerate(RULES) if r.value != "income_below_line"]
    out: BoolArray = flags[:, keep]
    return out


def build_report(
    data: YearData,
    model: RiskModel,
    thresholds: RuleThresholds,
    capacity_alerts: int,
    city_names: Mapping[str, str],
    help_effects: Sequence[HelpEffect] = (),
) -> RiskReport:
    pop = data.population
    X = data.X[pop].astype(np.float64)
    label = data.label[pop]
    score = model.predict(X)
    oracle = data.p_true[pop] if data.p_true is not None else None
    rule_flags = _rule_frame_flags(data, thresholds)[pop]
    rule_count = rule_flags.sum(axis=1).astype(np.float64)
    rule_alert: BoolArray = np.asarray(rule_flags.any(axis=1), dtype=bool)
    k = int(min(capacity_alerts, score.size))
    top = np.zeros(score.size, dtype=bool)
    top[np.argsort(-score, kind="stable")[:k]] = True
    cities = np.array([v[:4] for v in np.asarray(data.village_codes)[pop]])
    disabled = data.disabled[pop]

    groups: list[tuple[str, BoolArray]] = [("overall", np.ones(score.size, dtype=bool))]
    groups += [
        (f"city {c} {city_names.get(c, '')}".rstrip(), cities == c) for c in sorted(set(cities))
    ]
    groups += [("with disabled members", disabled), ("without disabled members", ~disabled)]

    reports: list[GroupReport] = []
    for name, mask in groups:
        alerts = int(top[mask].sum())
        reports.append(
            GroupReport(
                group=name,
                model=score_metrics(score[mask], label[mask], alerts),
                oracle=(
                    score_metrics(oracle[mask], label[mask], alerts) if oracle is not None else None
                ),
                rules=_rules_metrics(rule_count[mask], rule_alert[mask], label[mask]),
            )
        )
    overall = reports[0]
    gap = (
        round(overall.oracle.auc - overall.model.auc, 4)
        if overall.oracle and overall.oracle.auc is not None and overall.model.auc is not None
        else None
    )
    return RiskReport(
        model_version=model.version,
        test_year=data.year,
        label_year=data.year + 1,
        households=int(score.size),
        capacity_alerts=k,
        threshold=round(model.threshold, 5),
        groups=reports,
        help_effects=list(help_effects),
        oracle_gap=gap,
    )


def _rules_metrics(count: FloatArray, flagged: BoolArray, label: FloatArray) -> ScoreMetrics:
    """Rules rank by how many of them fire; they alert every flagged household."""
    base = score_metrics(count, label, int(flagged.sum()), calibrated=False)
    return base


def render(report: RiskReport) -> str:
    """The report as text, headings in Chinese and English."""

    def f(v: float | None) -> str:
        return "  -  " if v is None else f"{v:.3f}"

    lines = [
        f"返贫风险模型报告 / Risk report — model {report.model_version}",
        f"测试年 test year {report.test_year} → 结果年 outcome year {report.label_year}; "
        f"{report.households:,} households above the line; review capacity "
        f"{report.capacity_alerts:,} alerts (threshold {report.threshold:.4f})",
        "",
        f"{'group 分组':34s} {'who':7s} {'AUC':>6s} {'PR-AUC':>7s} {'prec@K':>7s} "
        f"{'recall@K':>8s} {'ECE':>6s} {'alerts':>7s} {'falls':>6s}",
    ]
    for g in report.groups:
        for who, m in (("model", g.model), ("oracle", g.oracle), ("rules", g.rules)):
            if m is None:
                continue
            lines.append(
                f"{g.group[:34]:34s} {who:7s} {f(m.auc):>6s} {f(m.pr_auc):>7s} "
                f"{f(m.precision_at_capacity):>7s} {f(m.recall_at_capacity):>8s} "
                f"{f(m.ece):>6s} {m.alerts:>7,} {m.positives:>6,}"
            )
    if report.oracle_gap is not None:
        lines.append(f"\noracle AUC - model AUC = {report.oracle_gap:+.4f}")
    if report.help_effects:
        lines += [
            "",
            "帮扶成效 / Did the help work? (share under the line next year; matched = against "
            "comparable unhelped households)",
            f"{'kind':12s} {'treated':>8s} {'matched':>8s} {'helped':>7s} {'compar.':>7s} "
            f"{'effect':>7s} {'naive':>7s} {'true':>7s}",
        ]
        for e in report.help_effects:
            lines.append(
                f"{e.kind:12s} {e.treated:>8,} {e.matched:>8,} {f(e.outcome_treated):>7s} "
                f"{f(e.outcome_matched):>7s} {f(e.effect_matched):>7s} {f(e.effect_naive):>7s} "
                f"{f(e.effect_true):>7s}"
            )
    return "\n".join(lines)


def report_json(report: RiskReport) -> dict[str, Any]:
    return report.model_dump(mode="json")

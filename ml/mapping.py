"""Training on a province's own household table: any CSV plus a small YAML mapping file.

    key: hh_no                 # household key column
    label: fell_next_year      # 1 if the household fell under the line the following year
    period: survey_year        # optional: the year of the row, for the temporal split
    group: district            # optional: report metrics per value of this column too
    oracle: true_probability   # optional: a known probability to compare with (simulations)
    features:                  # column: kind (numeric | boolean | categorical)
      income_per_person: numeric
      sick_members: numeric
      disabled: boolean
      main_reason: categorical

The same pipeline as ours: temporal split (train up to T-2, calibrate on T-1, test on T) when a
period column is named, else a split by a hash of the key (70/15/15, stable across runs);
gradient boosting, Platt calibration, a capacity threshold and the same metrics.
"""

from __future__ import annotations

import csv
import hashlib
import math
from enum import StrEnum
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bangfu.errors import InvalidInputError
from ml.features import FloatArray
from ml.metrics import ScoreMetrics, score_metrics
from ml.training import Split, TrainedRisk, train_temporal

_TRUE = {"1", "true", "yes", "y", "t", "是", "有"}
_FALSE = {"0", "false", "no", "n", "f", "否", "无", ""}
# Without a period column: 70% of keys train, 15% calibrate, 15% test, by a hash of the key.
_HASH_SPLIT = (0.70, 0.85)


class Kind(StrEnum):
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    CATEGORICAL = "categorical"


class TableMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    label: str
    period: str | None = None
    group: str | None = None
    oracle: str | None = None
    features: dict[str, Kind] = Field(min_length=1)

    @field_validator("features")
    @classmethod
    def _names(cls, v: dict[str, Kind]) -> dict[str, Kind]:
        if any(not name.strip() for name in v):
            raise ValueError("feature column names must not be empty")
        return v

    @classmethod
    def load(cls, path: Path) -> TableMapping:
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (ValidationError, yaml.YAMLError) as exc:
            raise InvalidInputError(
                f"mapping file {path.name} is invalid: {exc}", message_zh="映射文件格式无效"
            ) from None


class TableData(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    features: tuple[str, ...]
    categorical: tuple[str, ...]
    categories: dict[str, list[str]]
    keys: list[str]
    X: FloatArray
    label: FloatArray
    period: FloatArray | None
    group: list[str] | None
    oracle: FloatArray | None


def _number(text: str, column: str, line: int) -> float:
    text = text.strip().replace(",", "")
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(
            f"line {line}: column {column} should be a number, got {text[:20]!r}",
            message_zh=f"第{line}行：{column}列应为数字",
        ) from None


def _boolean(text: str, column: str, line: int) -> float:
    t = text.strip().lower()
    if t in _TRUE:
        return 1.0
    if t in _FALSE:
        return 0.0
    raise InvalidInputError(
        f"line {line}: column {column} should be yes/no, got {text[:20]!r}",
        message_zh=f"第{line}行：{column}列应为是/否",
    )


def read_table(path: Path, mapping: TableMapping) -> TableData:
    """Read the CSV (UTF-8, with or without BOM) into a feature matrix as the mapping says."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = set(reader.fieldnames or ())
        wanted = {mapping.key, mapping.label, *mapping.features}
        wanted |= {c for c in (mapping.period, mapping.group, mapping.oracle) if c}
        missing = sorted(wanted - header)
        if missing:
            raise InvalidInputError(
                f"{path.name} lacks the mapped columns {missing}",
                message_zh=f"表格缺少映射的列：{'、'.join(missing)}",
            )
        rows = list(reader)
    names = tuple(mapping.features)
    categorical = tuple(n for n, k in mapping.features.items() if k is Kind.CATEGORICAL)
    categories = {n: sorted({r[n].strip() for r in rows if r[n].strip()}) for n in categorical}
    codes = {n: {v: float(i) for i, v in enumerate(categories[n])} for n in categorical}
    X = np.full((len(rows), len(names)), np.nan)
    label = np.empty(len(rows))
    for i, r in enumerate(rows):
        line = i + 2
        for j, name in enumerate(names):
            kind = mapping.features[name]
            if kind is Kind.NUMERIC:
                X[i, j] = _number(r[name], name, line)
            elif kind is Kind.BOOLEAN:
                X[i, j] = _boolean(r[name], name, line)
            else:
                X[i, j] = codes[name].get(r[name].strip(), math.nan)
        label[i] = _boolean(r[mapping.label], mapping.label, line)
    period = (
        np.array([_number(r[mapping.period], mapping.period, i + 2) for i, r in enumerate(rows)])
        if mapping.period
        else None
    )
    oracle = (
        np.array([_number(r[mapping.oracle], mapping.oracle, i + 2) for i, r in enumerate(rows)])
        if mapping.oracle
        else None
    )
    return TableData(
        features=names,
        categorical=categorical,
        categories=categories,
        keys=[r[mapping.key] for r in rows],
        X=X,
        label=label,
        period=period,
        group=[r[mapping.group] for r in rows] if mapping.group else None,
        oracle=oracle,
    )


def _hash_part(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


class TableResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    trained: TrainedRisk
    split: str
    test_rows: int
    metrics: dict[str, ScoreMetrics | None]
    groups: dict[str, dict[str, ScoreMetrics | None]]


def train_table(data: TableData, alert_share: float) -> TableResult:
    """Split, train, calibrate and evaluate on a mapped table."""
    if data.period is not None:
        years = sorted({int(p) for p in data.period[~np.isnan(data.period)]})
        split = Split.latest(years)
        part = np.where(
            np.isin(data.period, split.train_years),
            0,
            np.where(
                data.period == split.calibration_year,
                1,
                np.where(data.period == split.test_year, 2, -1),
            ),
        )
        described = (
            f"temporal: train {list(split.train_years)}, calibrate {split.calibration_year}, "
            f"test {split.test_year}"
        )
    else:
        u = np.array([_hash_part(k) for k in data.keys])
        part = np.where(u < _HASH_SPLIT[0], 0, np.where(u < _HASH_SPLIT[1], 1, 2))
        split = Split(train_years=(0,), calibration_year=1, test_year=2)
        described = "by household key hash (no period column): 70/15/15"
    masks = [part == i for i in range(3)]
    if any(int(m.sum()) == 0 for m in masks):
        raise InvalidInputError(
            "the table is too small to split into train, calibration and test parts",
            message_zh="数据量不足，无法划分训练、校准和测试集",
        )
    trained = train_temporal(
        data.X[masks[0]],
        data.label[masks[0]],
        data.X[masks[1]],
        data.label[masks[1]],
        split=split,
        share=alert_share,
        features=data.features,
        categorical=data.categorical,
    )
    test = masks[2]
    score = trained.model.predict(data.X[test])
    label = data.label[test]
    alerts = round(alert_share * int(test.sum()))
    metrics: dict[str, ScoreMetrics | None] = {
        "model": score_metrics(score, label, alerts),
        "oracle": (
            score_metrics(data.oracle[test], label, alerts) if data.oracle is not None else None
        ),
    }
    groups: dict[str, dict[str, ScoreMetrics | None]] = {}
    if data.group is not None:
        group = np.array(data.group)[test]
        top = np.zeros(score.size, dtype=bool)
        top[np.argsort(-score, kind="stable")[:alerts]] = True
        for g in sorted(set(group.tolist())):
            m = group == g
            groups[g] = {
                "model": score_metrics(score[m], label[m], int(top[m].sum())),
                "oracle": (
                    score_metrics(data.oracle[test][m], label[m], int(top[m].sum()))
                    if data.oracle is not None
                    else None
                ),
            }
    return TableResult(
        trained=trained, split=described, test_rows=int(test.sum()), metrics=metrics, groups=groups
    )

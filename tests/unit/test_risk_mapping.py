"""A province's own household table, with its own column names, through the same pipeline:
mapping file, temporal split, model, calibration, metrics, registry, and the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from bangfu.errors import InvalidInputError
from bangfu.settings import get_settings
from ml.mapping import Kind, TableMapping, read_table, train_table
from ml.registry import ModelRegistry

MAPPING = """
key: 户编号
label: 次年返贫
period: 年度
group: 地区
oracle: 真实概率
features:
  人均纯收入: numeric
  家庭人口: numeric
  有大病患者: boolean
  地区: categorical
"""


def write_table(path: Path, households: int = 3_000, seed: int = 5) -> None:
    """Four survey years of a made-up province whose risk we know exactly."""
    rng = np.random.default_rng(seed)
    regions = np.array(["北区", "南区", "山区"])
    region = rng.integers(0, 3, households)
    size = rng.integers(1, 7, households)
    level = rng.lognormal(np.log(11_000), 0.4, households)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "户编号",
                "年度",
                "人均纯收入",
                "家庭人口",
                "有大病患者",
                "地区",
                "次年返贫",
                "真实概率",
                "备注",
            ]
        )
        for year in (2021, 2022, 2023, 2024):
            income = level * rng.lognormal(0.0, 0.15, households)
            sick = rng.random(households) < 0.15
            logit = -2.0 - 3.5 * np.log(income / 8_000) + 1.2 * sick + 0.6 * (region == 2)
            p = 1 / (1 + np.exp(-logit))
            fell = rng.random(households) < p
            for i in range(households):
                w.writerow(
                    [
                        f"HH{i:05d}",
                        year,
                        f"{income[i]:,.0f}",
                        size[i],
                        "是" if sick[i] else "否",
                        regions[region[i]],
                        int(fell[i]),
                        f"{p[i]:.5f}",
                        "",
                    ]
                )


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("table")
    write_table(root / "households.csv")
    (root / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return root / "households.csv", root / "mapping.yaml"


def test_a_mapped_table_trains_with_a_temporal_split(table: tuple[Path, Path]) -> None:
    csv_path, mapping_path = table
    mapping = TableMapping.load(mapping_path)
    assert mapping.features["有大病患者"] is Kind.BOOLEAN
    data = read_table(csv_path, mapping)
    assert data.X.shape == (12_000, 4)
    assert data.categories["地区"] == ["北区", "南区", "山区"]
    result = train_table(data, alert_share=0.1)
    assert result.split.startswith("temporal: train [2021, 2022], calibrate 2023, test 2024")
    model, oracle = result.metrics["model"], result.metrics["oracle"]
    assert model is not None and oracle is not None
    assert model.auc is not None and oracle.auc is not None
    assert oracle.auc - model.auc < 0.03 and model.ece is not None and model.ece < 0.05
    assert model.alerts == 300 and set(result.groups) == {"北区", "南区", "山区"}


def test_wrong_mappings_are_refused_with_the_column_named(
    table: tuple[Path, Path], tmp_path: Path
) -> None:
    csv_path, _ = table
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: 户编号\nlabel: 次年返贫\nfeatures:\n  收入: numeric\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        read_table(csv_path, TableMapping.load(bad))
    assert "收入" in info.value.message
    bad.write_text(
        "key: 户编号\nlabel: 次年返贫\nfeatures:\n  人均纯收入: money\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInputError):
        TableMapping.load(bad)


def test_without_a_period_the_split_is_by_household_key(
    table: tuple[Path, Path], tmp_path: Path
) -> None:
    csv_path, _ = table
    mapping = TableMapping(key="户编号", label="次年返贫", features={"人均纯收入": Kind.NUMERIC})
    result = train_table(read_table(csv_path, mapping), alert_share=0.1)
    assert result.split.startswith("by household key hash")
    assert result.metrics["model"] is not None and result.metrics["model"].auc is not None


def test_the_cli_trains_and_registers_a_mapped_table(
    table: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().risk, "model_dir", tmp_path / "models")
    csv_path, mapping_path = table
    result = CliRunner().invoke(
        app, ["risk", "train", "--table", str(csv_path), "--mapping", str(mapping_path)]
    )
    assert result.exit_code == 0, result.output
    assert "temporal: train [2021, 2022]" in result.output and "registered" in result.output
    cards = ModelRegistry(tmp_path / "models").versions()
    assert len(cards) == 1 and cards[0].source == "table:households.csv"
    assert cards[0].features == ["人均纯收入", "家庭人口", "有大病患者", "地区"]

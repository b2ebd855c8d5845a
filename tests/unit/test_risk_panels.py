"""The generator's yearly panels: shape, determinism, coherence with the monitoring line, and
a label drawn from the probability it stores (so the oracle is what it claims to be)."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from bangfu.settings import DEFAULT_MONITORING_LINES
from graph.synthetic import TABLE_COLUMNS, Scale, generate
from graph.synthetic.panels import PANEL_YEARS
from graph.synthetic.tables import Row

LINES = DEFAULT_MONITORING_LINES["44"]


@pytest.fixture(scope="module")
def panels() -> list[Row]:
    return [r for b in generate(Scale.COUNTY, 4) for r in b.tables["household_years"]]


def test_every_household_has_each_year_once_in_order(panels: list[Row]) -> None:
    years: dict[object, list[object]] = defaultdict(list)
    for r in panels:
        assert tuple(r) == TABLE_COLUMNS["household_years"]
        years[r["household_id"]].append(r["year"])
    assert len(years) == 6_850
    assert all(ys == list(PANEL_YEARS) for ys in years.values())
    assert PANEL_YEARS == (2020, 2021, 2022, 2023, 2024, 2025, 2026)


def test_same_seed_same_panels_other_seed_other_panels(panels: list[Row]) -> None:
    again = [r for b in generate(Scale.VILLAGE, 8) for r in b.tables["household_years"]]
    assert again == [r for b in generate(Scale.VILLAGE, 8) for r in b.tables["household_years"]]
    other = [r for b in generate(Scale.VILLAGE, 9) for r in b.tables["household_years"]]
    assert again != other


def test_incomes_add_up_and_agree_with_the_line(panels: list[Row]) -> None:
    for r in panels[:20_000]:
        total = sum(
            int(str(r[c]))
            for c in (
                "income_wage",
                "income_farm",
                "income_business",
                "income_transfer",
                "income_property",
            )
        )
        pc = float(str(r["income_per_capita"]))
        assert total > 0
        assert r["below_line"] == (pc < LINES[int(str(r["year"]))])
        assert 0.0 < float(str(r["p_fall_next"])) < 1.0
        # Help only ever lowers the risk.
        assert float(str(r["p_fall_next"])) <= float(str(r["p_fall_next_unaided"])) + 1e-9


def test_falls_are_drawn_from_the_stored_probability(panels: list[Row]) -> None:
    by_household: dict[object, list[Row]] = defaultdict(list)
    for r in panels:
        by_household[r["household_id"]].append(r)
    p: list[float] = []
    fell: list[bool] = []
    shocked: list[bool] = []
    for rows in by_household.values():
        for now, nxt in itertools.pairwise(rows):
            if not now["below_line"]:
                p.append(float(str(now["p_fall_next"])))
                fell.append(bool(nxt["below_line"]))
                shocked.append(bool(nxt["shock_illness"] or nxt["shock_job_loss"]))
    p_arr, fell_arr, shock_arr = np.array(p), np.array(fell), np.array(shocked)
    # ~6% of households above the line fall under it each year, as often as p says.
    assert 0.04 < fell_arr.mean() < 0.08
    assert fell_arr.mean() == pytest.approx(p_arr.mean(), abs=0.005)
    assert 0.82 < roc_auc_score(fell_arr, p_arr) < 0.92  # informative, not perfect
    # A fall usually shows its cause in the year it happens.
    assert shock_arr[fell_arr].mean() > 2 * shock_arr[~fell_arr].mean()

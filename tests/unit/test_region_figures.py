"""A village's figures from its aggregated query row, and the analytics column arithmetic: pure,
no database."""

from __future__ import annotations

from typing import Any

from api.analytics import _pct, _ratio, _sum
from graph.repositories.region_stats import ancestors_of, figures_of, village_figures

ROW: dict[str, Any] = {
    "code": "445126101200",
    "households": 5,
    "people": 13,
    "housing_unsafe": 0,
    "water_unsafe": 0,
    "income_wage": 1000,
    "income_farm": 200,
    "income_business": 0,
    "income_transfer": 300,
    "income_property": None,
    "below_line": 1,
    "spend_medical": 50,
    "spend_education": 0,
    "returned": 1,
    # status, monitor type, main cause, exit year, households, people
    "household_groups": [
        ["exited", None, "illness", 2018, 3, 8],
        ["monitored", "unstable", "illness", 2019, 1, 3],
        ["poor", None, "disability", None, 1, 2],
    ],
    "person_groups": [["farming", "normal", 6], ["none", "none", 7]],
    # status, category, claimed, month created, needs, amount
    "need_groups": [
        ["open", "job", False, "2025-03", 2, 0],
        ["closed", "medical_aid", True, "2025-04", 1, 5000],
    ],
    # month fulfilled, needs, days, <=7, 8-30, 31-90
    "fulfilment_groups": [["2025-05", 1, 40, 0, 0, 1]],
}


def test_a_village_row_becomes_flat_figures() -> None:
    f = village_figures(ROW)
    assert f["villages"] == 1 and f["villages_safe"] == 1
    assert (f["households:exited"], f["households:monitored"], f["households:poor"]) == (3, 1, 1)
    assert (f["people:exited"], f["people:monitored"], f["people:poor"]) == (8, 3, 2)
    assert f["cause:illness"] == 4 and f["cause:disability"] == 1
    assert f["monitored:unstable"] == 1
    assert f["exits:2018"] == 3 and f["exits:2019"] == 1 and "exits:None" not in f
    assert f["income:property"] == 0 and f["income:wage"] == 1000
    assert f["persons"] == 13 and f["employment:farming"] == 6 and f["labour:none"] == 7
    assert f["needs"] == 3 and f["needs:open"] == 2 and f["needs_claimed"] == 1
    assert f["need_category:job"] == 2 and f["needs_amount"] == 5000
    assert f["needs_created:2025-03"] == 2 and f["needs_fulfilled:2025-05"] == 1
    assert (f["fulfilled"], f["fulfil_days"], f["fulfil_le90"], f["fulfil_gt90"]) == (1, 40, 1, 0)
    # The figures GET /stats/{region} always had.
    assert (f["poor"], f["exited"], f["monitored"]) == (1, 3, 1)
    assert f["open_needs"] == 2 and f["fulfilled_needs"] == 1


def test_an_unsafe_house_makes_the_village_not_safe() -> None:
    assert village_figures({**ROW, "housing_unsafe": 1})["villages_safe"] == 0
    empty = {**ROW, "households": 0, "household_groups": [], "people": 0}
    assert village_figures(empty)["villages_safe"] == 0


def test_stored_properties_split_into_figures_and_metadata() -> None:
    props = {"code": "44", "level": "province", "households": 7, "updates": 3, "rolled_up": 1}
    assert figures_of(props) == {"households": 7}
    assert ancestors_of("445126101200") == ["44", "4451", "445126", "445126101"]
    assert ancestors_of("445126") == ["44", "4451"]


def test_shares_and_means_never_divide_by_zero() -> None:
    f = {"a": 1, "b": 3, "zero": 0}
    assert _pct(_sum("a"), _sum("a", "b"))(f) == 25.0
    assert _pct(_sum("a"), _sum("zero"))(f) is None
    assert _ratio(_sum("b"), _sum("a", "a"), 1)(f) == 1.5
    assert _ratio(_sum("b"), _sum("zero"))(f) is None

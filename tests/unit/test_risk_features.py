"""Risk features and official rules on hand-made households: every number checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bangfu.errors import InvalidInputError
from bangfu.settings import DEFAULT_MONITORING_LINES, monitoring_line
from bangfu.vocabulary import HouseholdStatus, PovertyCause
from graph.models import PANEL_FIELDS, HouseholdRiskRecord
from ml.features import FEATURES, chunk_from_records, features_for_year
from ml.rules import RULES, RuleThresholds, evaluate_rules, reasons, rule_words
from ml.scoring import feature_year, plan_chunks

V1, V2 = "440223101001", "440223101002"


def line_of(code: str, year: int) -> float:
    return monitoring_line(DEFAULT_MONITORING_LINES, code, year)


def year(
    wage: float = 0,
    farm: float = 0,
    transfer: float = 0,
    medical: float = 0,
    education: float = 0,
    labour: int = 1,
    illness: bool = False,
    disaster: bool = False,
    job_loss: bool = False,
    assist_medical: float = 0,
) -> tuple[float, ...]:
    values = dict.fromkeys(PANEL_FIELDS, 0.0)
    values.update(
        income_wage=wage,
        income_farm=farm,
        income_transfer=transfer,
        spend_medical=medical,
        spend_education=education,
        labour_units=labour,
        shock_illness=float(illness),
        shock_disaster=float(disaster),
        shock_job_loss=float(job_loss),
        assist_medical=assist_medical,
    )
    return tuple(values[f] for f in PANEL_FIELDS)


def household(
    hid: str,
    village: str,
    panel: dict[int, tuple[float, ...]],
    cause: PovertyCause = PovertyCause.ILLNESS,
    size: int = 2,
    births: tuple[int, ...] = (1960, 1990),
    health: tuple[str, ...] = ("serious", "healthy"),
    disability: tuple[int, ...] = (0, 2),
    labour: tuple[str, ...] = ("none", "normal"),
) -> HouseholdRiskRecord:
    return HouseholdRiskRecord(
        id=hid,
        village_code=village,
        status=HouseholdStatus.EXITED,
        main_cause=cause,
        size=size,
        member_birth_years=births,
        member_health=health,
        member_disability=disability,
        member_labour=labour,
        member_schooling=("junior", "senior")[: len(births)],
        member_employment=("none", "migrant")[: len(births)],
        panel=panel,
        need_created_years=(2024, 2025),
        need_fulfilled_years=(2024, 0),
        need_categories=("medical_aid", "job"),
        paired_helpers=1,
        paired_cadres=1,
        cadre_households=3,
        claiming_helpers=1,
    )


@pytest.fixture
def frame_2025():  # type: ignore[no-untyped-def]
    records = [
        # Income 16,000 for 2 people in 2025 (8,000 pc vs the 6,800 line), falling from 20,000.
        household(
            "H1",
            V1,
            {
                2023: year(wage=18_000, transfer=2_000),
                2024: year(wage=18_000, transfer=2_000),
                2025: year(wage=14_000, transfer=2_000, medical=20_000, illness=True, labour=0),
            },
        ),
        # Under the line in 2025 and 2026 (label 1), same village and cause as H1.
        household(
            "H2",
            V1,
            {2024: year(farm=14_000), 2025: year(farm=12_000), 2026: year(farm=10_000)},
        ),
        # Another village, one member, no history before 2025, above the line in 2026.
        household(
            "H3",
            V2,
            {2025: year(wage=30_000, disaster=True), 2026: year(wage=31_000)},
            cause=PovertyCause.DISASTER,
            size=1,
            births=(1980,),
            health=("healthy",),
            disability=(0,),
            labour=("normal",),
        ),
    ]
    return features_for_year(chunk_from_records(records), 2025, line_of)


def test_income_history_features(frame_2025) -> None:  # type: ignore[no-untyped-def]
    f = frame_2025
    assert f.col("pc_ratio")[0] == pytest.approx(8_000 / 6_800)
    assert f.col("headroom_next")[0] == pytest.approx(math.log(8_000 / 7_000))
    assert f.col("growth_1y")[0] == pytest.approx(math.log(8_000 / 10_000))
    # Slope of log income over 2023-2025 (x = 0, 1, 2).
    logs = np.log([10_000, 10_000, 8_000])
    assert f.col("trend_3y")[0] == pytest.approx(np.polyfit([0, 1, 2], logs, 1)[0])
    assert f.col("wage_share")[0] == pytest.approx(14 / 16)
    assert f.col("medical_share")[0] == pytest.approx(20_000 / 16_000)
    assert f.col("labour_change")[0] == -1 and f.col("shock_illness")[0] == 1
    # No history before 2025: NaN, never zero.
    assert math.isnan(f.col("growth_1y")[2]) and math.isnan(f.col("volatility_4y")[2])
    assert f.below_now.tolist() == [False, True, False]
    assert f.label[1] == 1.0 and f.label[2] == 0.0 and math.isnan(f.label[0])


def test_member_need_and_graph_features(frame_2025) -> None:  # type: ignore[no-untyped-def]
    f = frame_2025
    assert f.col("head_age")[0] == 65 and f.col("n_elderly")[0] == 1
    assert f.col("dependency_ratio")[0] == pytest.approx(0.5)
    assert f.col("n_serious")[0] == 1 and f.col("severe_disabled")[0] == 1
    assert f.col("n_able")[0] == 1 and f.col("n_migrant")[0] == 1
    assert f.col("fulfilled_needs")[0] == 1 and f.col("open_needs")[0] == 1
    assert f.col("cadre_households")[0] == 3
    assert f.disabled.tolist() == [True, True, False]


def test_village_rates_leave_the_household_itself_out(frame_2025) -> None:  # type: ignore[no-untyped-def]
    f = frame_2025
    assert f.col("village_households").tolist() == [2, 2, 1]
    assert f.col("village_below_rate").tolist()[:2] == [0.5, 0.5]
    # H1's only similar neighbour (same village and cause) is H2, who is below the line.
    assert f.col("similar_below_rate")[0] == 1.0 and f.col("similar_below_rate")[1] == 0.0
    assert math.isnan(f.col("similar_below_rate")[2])  # nobody similar nearby


def test_the_feature_matrix_has_every_column_and_refuses_unknown_years(frame_2025) -> None:  # type: ignore[no-untyped-def]
    assert frame_2025.X.shape == (3, len(FEATURES))
    chunk = chunk_from_records([household("H9", V1, {2025: year(wage=1)})])
    with pytest.raises(ValueError):
        features_for_year(chunk, 2019, line_of)


def test_rules_raise_alerts_with_reason_codes_and_words(frame_2025) -> None:  # type: ignore[no-untyped-def]
    flags = evaluate_rules(frame_2025, RuleThresholds())
    got = reasons(flags)
    assert got[0] == ("medical_burden", "labour_loss")
    assert got[1] == ("income_below_line",)
    assert got[2] == ("disaster",)
    assert len(RULES) == flags.shape[1]
    zh, en = rule_words(frame_2025, 1, got[1])
    assert zh == ("人均纯收入6,000元，低于监测线6,800元",)
    assert "under the monitoring line of 6,800" in en[0]
    zh, _ = rule_words(frame_2025, 0, got[0])
    assert zh == ("医疗支出相当于家庭收入的125%", "劳动力由1人减至0人")
    stricter = evaluate_rules(frame_2025, RuleThresholds(medical_burden_share=1.5))
    assert "medical_burden" not in reasons(stricter)[0]


def test_monitoring_line_is_a_table_per_province_and_year() -> None:
    assert line_of("44", 2021) == 6_000
    assert line_of("440223101001", 2030) == 7_000  # past the table: its last line
    with pytest.raises(ValueError):
        monitoring_line(DEFAULT_MONITORING_LINES, "45", 2021)


def test_scoring_chunks_hold_whole_villages_up_to_a_size() -> None:
    villages = [("v1", 3_000), ("v2", 1_500), ("v3", 900), ("v4", 7_000), ("v5", 10)]
    assert plan_chunks(villages, 5_000) == [["v1", "v2"], ["v3"], ["v4"], ["v5"]]
    assert plan_chunks([], 5_000) == []
    assert feature_year("2026") == 2025
    with pytest.raises(InvalidInputError):
        feature_year("26")

"""Why a household was flagged, in plain words, Chinese and English.

The model's own contributions (LightGBM TreeSHAP, `RiskModel.contributions`) are summed over
groups of related features (every income-level feature is one "income is close to the line"
factor, and so on), and the groups pushing the risk up most are worded with the household's own
numbers. These texts go to officials of the household's region, never to public notices.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from bangfu.vocabulary import label_zh
from ml.features import CAUSES, FEATURES, FloatArray, column
from ml.model import RiskModel

Values = Mapping[str, float]


def _ok(v: float) -> bool:
    return not math.isnan(v)


def _pct(v: float) -> str:
    return f"{v:.0%}"


def _income_level(v: Values) -> tuple[str, str]:
    ratio = v["pc_ratio"]
    if not _ok(ratio):
        return "收入接近监测线", "income close to the monitoring line"
    if ratio < 1:
        return (
            f"人均纯收入仅为监测线的{_pct(ratio)}",
            f"per-capita income only {_pct(ratio)} of the monitoring line",
        )
    return (
        f"人均纯收入仅高出监测线{_pct(ratio - 1)}",
        f"per-capita income only {_pct(ratio - 1)} above the monitoring line",
    )


def _income_trend(v: Values) -> tuple[str, str]:
    g = v["growth_1y"]
    if not _ok(g):
        return "收入增长乏力", "income not growing"
    change = math.exp(g) - 1
    if change < 0:
        return f"收入比上年下降{_pct(-change)}", f"income fell {_pct(-change)} on the year before"
    return f"收入增长放缓（比上年增长{_pct(change)}）", f"income growth slowed ({_pct(change)})"


def _volatility(v: Values) -> tuple[str, str]:
    return "近年收入波动大", "income swung widely in recent years"


_SOURCES = (
    ("wage_share", "工资性收入", "wages"),
    ("farm_share", "种养殖收入", "farming"),
    ("business_share", "经营性收入", "a small business"),
    ("transfer_share", "转移性收入", "transfers and subsidies"),
)


def _income_mix(v: Values) -> tuple[str, str]:
    shares = [(v[k], zh, en) for k, zh, en in _SOURCES if _ok(v[k])]
    if not shares:
        return "收入来源单一", "a single source of income"
    share, zh, en = max(shares)
    return f"收入主要依赖{zh}（占{_pct(share)}）", f"income depends on {en} ({_pct(share)})"


def _labour(v: Values) -> tuple[str, str]:
    units, change = v["labour_units"], v["labour_change"]
    if _ok(units) and units <= 0:
        return "家中无劳动力", "no able worker in the household"
    if _ok(change) and change < 0:
        n = int(-change)
        return f"劳动力比上年减少{n}人", f"{n} fewer able worker(s) than the year before"
    n = int(units) if _ok(units) else 0
    return f"劳动力仅{n}人", f"only {n} able worker(s)"


def _dependency(v: Values) -> tuple[str, str]:
    e, c, s = int(v["n_elderly"]), int(v["n_children"]), int(v["size"])
    return (
        f"赡养抚养负担重（{s}口人中老人{e}名、儿童{c}名）",
        f"many dependants ({e} elderly and {c} children of {s})",
    )


def _illness(v: Values) -> tuple[str, str]:
    if v["shock_illness"] >= 1:
        return "当年有家庭成员新患重病", "a member fell seriously ill this year"
    return "家中有大病或慢性病患者", "a member lives with a serious or chronic illness"


def _medical(v: Values) -> tuple[str, str]:
    share = v["medical_share"]
    if not _ok(share):
        return "医疗支出较大", "high medical spending"
    return f"医疗支出占收入的{_pct(share)}", f"medical spending {_pct(share)} of income"


def _disability(v: Values) -> tuple[str, str]:
    n = int(v["n_disabled"])
    if v["severe_disabled"] >= 1:
        return f"家中有{n}名残疾人（含重度）", f"{n} disabled member(s), severely"
    return f"家中有{n}名残疾人", f"{n} disabled member(s)"


def _schooling(v: Values) -> tuple[str, str]:
    share, n = v["education_share"], int(v["n_students"])
    if _ok(share) and share > 0:
        return (
            f"教育支出占收入的{_pct(share)}（{n}名在校生）",
            f"schooling costs {_pct(share)} of income ({n} in school)",
        )
    return f"{n}名在校生", f"{n} member(s) in school"


def _disaster(v: Values) -> tuple[str, str]:
    if v["shock_disaster"] >= 1:
        return "当年遭受自然灾害", "hit by a natural disaster this year"
    return "所在村近期受灾较多", "the village was hit by disasters recently"


def _job_loss(v: Values) -> tuple[str, str]:
    if v["shock_job_loss"] >= 1:
        return "当年有家庭成员失业", "a member lost their job this year"
    return "务工收入不稳定", "unsteady wage work"


def _recent_shocks(v: Values) -> tuple[str, str]:
    n = int(v["shocks_prev"]) if _ok(v["shocks_prev"]) else 0
    return f"上一年遭遇{n}项冲击（疾病、灾害或失业）", f"{n} shock(s) the year before"


def _assistance(v: Values) -> tuple[str, str]:
    total = sum(
        v[k]
        for k in (
            "assist_medical_pc",
            "assist_education_pc",
            "assist_employment_pc",
            "assist_industry_pc",
            "assist_subsistence_pc",
        )
        if _ok(v[k])
    )
    if total > 0:
        return (
            f"依赖帮扶救助（当年人均{total:.0f}元）",
            f"relies on assistance ({total:.0f} yuan per person this year)",
        )
    return "当年未获帮扶救助", "no assistance received this year"


def _support(v: Values) -> tuple[str, str]:
    load = int(v["cadre_households"]) if _ok(v["cadre_households"]) else 0
    return (
        f"结对帮扶力量较弱（帮扶责任人联系{load}户）",
        f"thin support from paired helpers and cadres (the cadre covers {load} households)",
    )


def _village(v: Values) -> tuple[str, str]:
    similar = v["similar_fall_rate"]
    if _ok(similar) and similar > 0:
        return (
            f"本村同类农户去年返贫率{_pct(similar)}",
            f"{_pct(similar)} of similar households in the village fell back last year",
        )
    rate = v["village_below_rate"]
    rate = rate if _ok(rate) else 0.0
    return (
        f"本村{_pct(rate)}的农户低于监测线",
        f"{_pct(rate)} of the village's households are under the line",
    )


def _living(v: Values) -> tuple[str, str]:
    return "住房或饮水安全未保障", "unsafe housing or drinking water"


def _cause(v: Values) -> tuple[str, str]:
    code = int(v["main_cause"]) if _ok(v["main_cause"]) else -1
    cause = CAUSES[code].value if 0 <= code < len(CAUSES) else ""
    return f"主要致贫原因：{label_zh(cause)}", f"main cause of poverty: {cause.replace('_', ' ')}"


@dataclass(frozen=True)
class Factor:
    key: str
    features: tuple[str, ...]
    words: Callable[[Values], tuple[str, str]]


FACTORS: tuple[Factor, ...] = (
    Factor(
        "income_level",
        (
            "pc_ratio",
            "log_pc",
            "headroom_next",
            "below_now",
            "below_last_year",
            "years_below_3y",
            "mean_log_ratio_3y",
            "min_ratio_3y",
        ),
        _income_level,
    ),
    Factor("income_trend", ("growth_1y", "trend_3y"), _income_trend),
    Factor("income_volatility", ("volatility_4y",), _volatility),
    Factor(
        "income_mix", ("wage_share", "farm_share", "business_share", "transfer_share"), _income_mix
    ),
    Factor(
        "labour",
        ("labour_units", "labour_units_prev", "labour_change", "n_able", "n_weak"),
        _labour,
    ),
    Factor(
        "dependency",
        ("dependency_ratio", "n_elderly", "n_children", "size", "head_age", "n_no_labour_adults"),
        _dependency,
    ),
    Factor("illness", ("n_serious", "n_chronic", "shock_illness"), _illness),
    Factor("medical_burden", ("medical_share", "medical_growth"), _medical),
    Factor("disability", ("n_disabled", "severe_disabled"), _disability),
    Factor("schooling", ("n_students", "education_share"), _schooling),
    Factor("disaster", ("shock_disaster", "village_disaster_rate"), _disaster),
    Factor("job_loss", ("shock_job_loss", "n_migrant", "n_public_job"), _job_loss),
    Factor("recent_shocks", ("shocks_prev",), _recent_shocks),
    Factor(
        "assistance",
        (
            "assist_medical_pc",
            "assist_education_pc",
            "assist_employment_pc",
            "assist_industry_pc",
            "assist_subsistence_pc",
            "assist_prev_pc",
            "fulfilled_needs",
            "open_needs",
        ),
        _assistance,
    ),
    Factor(
        "support",
        ("paired_helpers", "paired_cadres", "cadre_households", "claiming_helpers"),
        _support,
    ),
    Factor(
        "village",
        (
            "village_households",
            "village_below_rate",
            "village_fall_rate",
            "village_mean_log_ratio",
            "similar_below_rate",
            "similar_fall_rate",
        ),
        _village,
    ),
    Factor("living_conditions", ("housing_safe", "water_safe"), _living),
    Factor("cause", ("main_cause", "n_other_causes"), _cause),
)

# Every feature belongs to exactly one factor (checked by tests/unit/test_risk_model.py).
_GROUP = np.zeros((len(FEATURES), len(FACTORS)))
for _j, _factor in enumerate(FACTORS):
    for _name in _factor.features:
        _GROUP[column(_name), _j] = 1.0


@dataclass(frozen=True)
class Explanation:
    keys: tuple[str, ...]
    zh: tuple[str, ...]
    en: tuple[str, ...]
    contributions: tuple[float, ...]  # log-odds pushed up by each named factor


def explain(model: RiskModel, X: FloatArray, top: int = 3) -> list[Explanation]:
    """The `top` factors raising each row's risk most, worded with the row's own values."""
    if X.shape[0] == 0:
        return []
    contrib = model.contributions(X)[:, : len(FEATURES)]
    by_factor = np.nan_to_num(contrib) @ _GROUP
    order = np.argsort(-by_factor, axis=1, kind="stable")[:, :top]
    out: list[Explanation] = []
    for i in range(X.shape[0]):
        values = dict(zip(FEATURES, X[i].tolist(), strict=True))
        # Factors pushing the risk up; if none does (a rule-only alert), the strongest ones.
        picked = [j for j in order[i] if by_factor[i, j] > 0] or list(order[i][:1])
        words = [FACTORS[j].words(values) for j in picked]
        out.append(
            Explanation(
                keys=tuple(FACTORS[j].key for j in picked),
                zh=tuple(w[0] for w in words),
                en=tuple(w[1] for w in words),
                contributions=tuple(round(float(by_factor[i, j]), 4) for j in picked),
            )
        )
    return out

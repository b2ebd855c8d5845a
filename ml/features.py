"""Risk features of one household-year, computed column-wise for a chunk of households.

Input is `RiskColumns` (graph/models.py): read from the graph by `RiskRepository.panel_columns`
when scoring, or built from generator batches (ml/dataset.py, through `HouseholdRiskRecord`s)
when training and benchmarking without a database; both give the same numbers
(tests/integration/test_risk_scoring.py). A chunk holds whole villages, because village-level
rates and "similar households nearby" are computed across the chunk's households of the same
village.

Everything a feature of year t reads is known at the end of year t: that year's and earlier
panel years, members' ages in t, needs created or fulfilled by t. Missing history is NaN
(gradient boosting routes it), never zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bangfu.vocabulary import Employment, LabourAbility, PovertyCause, Schooling
from graph.models import (
    CAUSE_CODES,
    EMPLOYMENT_CODES,
    HEALTH_CODES,
    LABOUR_CODES,
    PANEL_FIELDS,
    HouseholdRiskRecord,
    RiskColumns,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
LineOf = Callable[[str, int], float]

P = {name: i for i, name in enumerate(PANEL_FIELDS)}
INCOME_FIELDS = (
    "income_wage",
    "income_farm",
    "income_business",
    "income_transfer",
    "income_property",
)
ASSIST_FIELDS = (
    "assist_medical",
    "assist_education",
    "assist_employment",
    "assist_industry",
    "assist_subsistence",
)
CAUSES = tuple(PovertyCause)
_NO_LABOUR = LABOUR_CODES[LabourAbility.NONE.value]
_MIGRANT = EMPLOYMENT_CODES[Employment.MIGRANT.value]
_PUBLIC_JOB = EMPLOYMENT_CODES[Employment.PUBLIC_WELFARE_JOB.value]
# Years of history the trend, level and volatility features look back over (t-2 .. t, and
# t-3 .. t for volatility): long enough to separate a bad year from a falling level.
_TREND_YEARS = 3
_VOLATILITY_YEARS = 4

FEATURES: tuple[str, ...] = (
    # income and its history
    "pc_ratio",
    "log_pc",
    "headroom_next",
    "below_now",
    "below_last_year",
    "years_below_3y",
    "growth_1y",
    "trend_3y",
    "mean_log_ratio_3y",
    "min_ratio_3y",
    "volatility_4y",
    "wage_share",
    "farm_share",
    "business_share",
    "transfer_share",
    # labour, members, health
    "labour_units",
    "labour_units_prev",
    "labour_change",
    "size",
    "n_elderly",
    "n_children",
    "dependency_ratio",
    "n_able",
    "n_weak",
    "n_no_labour_adults",
    "n_serious",
    "n_chronic",
    "n_disabled",
    "severe_disabled",
    "n_students",
    "head_age",
    "n_migrant",
    "n_public_job",
    # spending
    "medical_share",
    "education_share",
    "medical_growth",
    # shocks
    "shock_illness",
    "shock_disaster",
    "shock_job_loss",
    "shocks_prev",
    # assistance and fulfilled needs
    "assist_medical_pc",
    "assist_education_pc",
    "assist_employment_pc",
    "assist_industry_pc",
    "assist_subsistence_pc",
    "assist_prev_pc",
    "fulfilled_needs",
    "open_needs",
    # the household
    "main_cause",
    "n_other_causes",
    "housing_safe",
    "water_safe",
    # who reaches it through the graph
    "paired_helpers",
    "paired_cadres",
    "cadre_households",
    "claiming_helpers",
    # the village, and similar households nearby (same village, same main cause, not itself)
    "village_households",
    "village_below_rate",
    "village_fall_rate",
    "village_disaster_rate",
    "village_mean_log_ratio",
    "similar_below_rate",
    "similar_fall_rate",
)
CATEGORICAL = ("main_cause",)
_COL = {name: i for i, name in enumerate(FEATURES)}


def column(name: str) -> int:
    """Position of a feature in FEATURES (and in every FeatureFrame.X)."""
    return _COL[name]


def chunk_from_records(records: Sequence[HouseholdRiskRecord]) -> RiskColumns:
    """Records (the generator's path) as the columns features are computed from."""
    n_h = len(records)
    years = tuple(sorted({y for r in records for y in r.panel}))
    year_index = {y: i for i, y in enumerate(years)}
    panel = np.full((n_h, len(years), len(PANEL_FIELDS)), np.nan)
    rows: list[tuple[float, ...]] = []
    at_h: list[int] = []
    at_y: list[int] = []
    m_h: list[int] = []
    for i, r in enumerate(records):
        for y, values in r.panel.items():
            rows.append(values)
            at_h.append(i)
            at_y.append(year_index[y])
        m_h.extend([i] * len(r.member_birth_years))
    if rows:
        panel[np.array(at_h), np.array(at_y)] = np.array(rows, dtype=np.float64)

    def flat_int(values: Sequence[Sequence[int]]) -> IntArray:
        return np.fromiter((v for vs in values for v in vs), dtype=np.int64)

    def coded(values: Sequence[Sequence[str]], codes: dict[str, int], default: int) -> IntArray:
        return np.fromiter((codes.get(v, default) for vs in values for v in vs), dtype=np.int64)

    need_h = [i for i, r in enumerate(records) for _ in r.need_created_years]
    in_school = Schooling.IN_SCHOOL.value
    return RiskColumns.model_construct(
        household_ids=[r.id for r in records],
        village_codes=[r.village_code for r in records],
        statuses=[str(r.status) for r in records],
        years=years,
        panel=panel,
        size=np.array([r.size for r in records], dtype=np.float64),
        main_cause=np.array([CAUSE_CODES[str(r.main_cause)] for r in records], dtype=np.float64),
        n_other_causes=np.array([len(r.other_causes) for r in records], dtype=np.float64),
        housing_safe=np.array([r.housing_safe for r in records], dtype=np.float64),
        water_safe=np.array([r.water_safe for r in records], dtype=np.float64),
        member_household=np.array(m_h, dtype=np.int64),
        member_birth_year=flat_int([r.member_birth_years for r in records]),
        member_health=coded([r.member_health for r in records], HEALTH_CODES, 0),
        member_disability=flat_int([r.member_disability for r in records]),
        member_labour=coded([r.member_labour for r in records], LABOUR_CODES, _NO_LABOUR),
        member_in_school=np.fromiter(
            (s == in_school for r in records for s in r.member_schooling), dtype=bool
        ),
        member_employment=coded(
            [r.member_employment for r in records], EMPLOYMENT_CODES, len(EMPLOYMENT_CODES)
        ),
        need_household=np.array(need_h, dtype=np.int64),
        need_created=flat_int([r.need_created_years for r in records]),
        need_fulfilled=flat_int([r.need_fulfilled_years for r in records]),
        paired_helpers=np.array([r.paired_helpers for r in records], dtype=np.float64),
        paired_cadres=np.array([r.paired_cadres for r in records], dtype=np.float64),
        cadre_households=np.array([r.cadre_households for r in records], dtype=np.float64),
        claiming_helpers=np.array([r.claiming_helpers for r in records], dtype=np.float64),
    )


@dataclass(frozen=True)
class FeatureFrame:
    """Features of one year for a chunk: X has one row per household, columns FEATURES.
    `label` is 1.0 when the household was under the line the next year, 0.0 when not, NaN
    when that year is not (yet) in the panel."""

    year: int
    household_ids: list[str]
    village_codes: list[str]
    X: FloatArray
    label: FloatArray
    below_now: BoolArray
    disabled: BoolArray
    per_capita: FloatArray
    line: FloatArray

    @property
    def names(self) -> tuple[str, ...]:
        return FEATURES

    def col(self, name: str) -> FloatArray:
        values: FloatArray = self.X[:, _COL[name]]
        return values

    def select(self, mask: BoolArray) -> FeatureFrame:
        keep = np.flatnonzero(mask)
        return FeatureFrame(
            year=self.year,
            household_ids=[self.household_ids[i] for i in keep],
            village_codes=[self.village_codes[i] for i in keep],
            X=self.X[keep],
            label=self.label[keep],
            below_now=self.below_now[keep],
            disabled=self.disabled[keep],
            per_capita=self.per_capita[keep],
            line=self.line[keep],
        )


def _lines(village_codes: Sequence[str], year: int, line_of: LineOf) -> FloatArray:
    cache: dict[str, float] = {}
    out = np.empty(len(village_codes))
    for i, code in enumerate(village_codes):
        province = code[:2]
        if province not in cache:
            cache[province] = line_of(province, year)
        out[i] = cache[province]
    return out


def _nan_div(a: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(b > 0, a / b, np.nan)
    return out


def _slope(values: FloatArray) -> FloatArray:
    """Least-squares slope per row over the columns (years), ignoring NaN; NaN below 2 points."""
    x = np.arange(values.shape[1], dtype=np.float64)
    ok = ~np.isnan(values)
    n = ok.sum(axis=1)
    xs = np.where(ok, x, 0.0)
    ys = np.where(ok, values, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = xs.sum(axis=1) / n
        y_mean = ys.sum(axis=1) / n
        dx = np.where(ok, x - x_mean[:, None], 0.0)
        dy = np.where(ok, values - y_mean[:, None], 0.0)
        out: FloatArray = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    return np.where(n >= 2, out, np.nan)


def _window(series: FloatArray, t: int, length: int) -> FloatArray:
    """Columns t-length+1 .. t of a H x years array, NaN-padded before the first year."""
    start = t - length + 1
    if start >= 0:
        return series[:, start : t + 1]
    pad = np.full((series.shape[0], -start), np.nan)
    return np.hstack([pad, series[:, : t + 1]])


def _nan_reduce(fn: Callable[..., FloatArray], values: FloatArray, min_count: int) -> FloatArray:
    ok = (~np.isnan(values)).sum(axis=1)
    # All-NaN rows warn ("mean of empty slice") and come out NaN, which is what they should be.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        out = fn(values, axis=1)
    return np.where(ok >= min_count, out, np.nan)


def features_for_year(chunk: RiskColumns, year: int, line_of: LineOf) -> FeatureFrame:
    """Features of `year` for every household of the chunk (rows in the chunk's order)."""
    if year not in chunk.years:
        raise ValueError(f"year {year} is not in the panel ({chunk.years})")
    n_h = chunk.households
    t = chunk.years.index(year)
    pan = chunk.panel
    size = chunk.size
    lines_by_year = {y: _lines(chunk.village_codes, y, line_of) for y in chunk.years}
    line_matrix = np.stack([lines_by_year[y] for y in chunk.years], axis=1)
    income = np.stack([pan[:, :, P[f]] for f in INCOME_FIELDS], axis=2).sum(axis=2)
    income = np.where(np.isnan(pan[:, :, P["income_wage"]]), np.nan, income)
    pc = income / size[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pc = np.log(np.maximum(pc, 1.0))
        log_ratio = np.log(np.maximum(pc, 1.0) / line_matrix)
    below = np.where(np.isnan(pc), np.nan, (pc < line_matrix).astype(np.float64))

    line_now = line_matrix[:, t]
    next_line = _lines(chunk.village_codes, year + 1, line_of)
    pc_t = pc[:, t]
    income_t = income[:, t]
    f = np.full((n_h, len(FEATURES)), np.nan)

    def put(name: str, values: FloatArray | float) -> None:
        f[:, _COL[name]] = values

    put("pc_ratio", pc_t / line_now)
    put("log_pc", log_pc[:, t])
    put("headroom_next", np.log(np.maximum(pc_t, 1.0) / next_line))
    put("below_now", below[:, t])
    put("below_last_year", below[:, t - 1] if t >= 1 else np.nan)
    put("years_below_3y", _nan_reduce(np.nansum, _window(below, t, _TREND_YEARS), 1))
    put("growth_1y", log_pc[:, t] - log_pc[:, t - 1] if t >= 1 else np.nan)
    put("trend_3y", _slope(_window(log_pc, t, _TREND_YEARS)))
    put("mean_log_ratio_3y", _nan_reduce(np.nanmean, _window(log_ratio, t, _TREND_YEARS), 1))
    put("min_ratio_3y", np.exp(_nan_reduce(np.nanmin, _window(log_ratio, t, _TREND_YEARS), 1)))
    put("volatility_4y", _nan_reduce(np.nanstd, _window(log_pc, t, _VOLATILITY_YEARS), 2))
    for name, field in (
        ("wage_share", "income_wage"),
        ("farm_share", "income_farm"),
        ("business_share", "income_business"),
        ("transfer_share", "income_transfer"),
    ):
        put(name, _nan_div(pan[:, t, P[field]], income_t))

    labour = pan[:, :, P["labour_units"]]
    put("labour_units", labour[:, t])
    prev_labour = labour[:, t - 1] if t >= 1 else np.full(n_h, np.nan)
    put("labour_units_prev", prev_labour)
    put("labour_change", labour[:, t] - prev_labour)

    _member_features(chunk, year, put)

    medical = pan[:, :, P["spend_medical"]]
    put("medical_share", _nan_div(medical[:, t], income_t))
    put("education_share", _nan_div(pan[:, t, P["spend_education"]], income_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        put(
            "medical_growth",
            np.log1p(medical[:, t]) - np.log1p(medical[:, t - 1]) if t >= 1 else np.nan,
        )
    shocks = ("shock_illness", "shock_disaster", "shock_job_loss")
    for name in shocks:
        put(name, pan[:, t, P[name]])
    if t >= 1:
        put("shocks_prev", sum(pan[:, t - 1, P[s]] for s in shocks))
    for field in ASSIST_FIELDS:
        put(f"{field}_pc", pan[:, t, P[field]] / size)
    if t >= 1:
        put("assist_prev_pc", sum(pan[:, t - 1, P[a]] for a in ASSIST_FIELDS) / size)

    nh = chunk.need_household
    fulfilled = (chunk.need_fulfilled > 0) & (chunk.need_fulfilled <= year)
    open_ = (chunk.need_created <= year) & ~fulfilled
    put("fulfilled_needs", np.bincount(nh[fulfilled], minlength=n_h).astype(np.float64))
    put("open_needs", np.bincount(nh[open_], minlength=n_h).astype(np.float64))

    put("main_cause", chunk.main_cause)
    put("n_other_causes", chunk.n_other_causes)
    put("housing_safe", chunk.housing_safe)
    put("water_safe", chunk.water_safe)
    put("paired_helpers", chunk.paired_helpers)
    put("paired_cadres", chunk.paired_cadres)
    put("cadre_households", chunk.cadre_households)
    put("claiming_helpers", chunk.claiming_helpers)

    if t >= 1:
        was_above = below[:, t - 1] == 0
        fell = (below[:, t] == 1) & was_above
    else:
        was_above = np.zeros(n_h, dtype=bool)
        fell = np.zeros(n_h, dtype=bool)
    _village_features(
        chunk,
        put,
        below_t=below[:, t],
        fell=fell,
        was_above=was_above,
        disaster=pan[:, t, P["shock_disaster"]],
        log_ratio=log_ratio[:, t],
    )

    label = below[:, t + 1] if t + 1 < len(chunk.years) else np.full(n_h, np.nan)
    disabled = np.bincount(
        chunk.member_household[chunk.member_disability > 0], minlength=n_h
    ).astype(bool)
    return FeatureFrame(
        year=year,
        household_ids=chunk.household_ids,
        village_codes=chunk.village_codes,
        X=f,
        label=label,
        below_now=below[:, t] == 1,
        disabled=disabled,
        per_capita=pc_t,
        line=line_now,
    )


def _member_features(chunk: RiskColumns, year: int, put: Callable[[str, FloatArray], None]) -> None:
    n_h = chunk.households
    mh = chunk.member_household
    age = year - chunk.member_birth_year
    present = age >= 0

    def count(mask: BoolArray) -> FloatArray:
        out: FloatArray = np.bincount(mh[mask & present], minlength=n_h).astype(np.float64)
        return out

    working_age = (age >= 16) & (age <= 64)
    lab = chunk.member_labour
    n_elderly = count(age >= 65)
    n_children = count(age < 16)
    put("n_elderly", n_elderly)
    put("n_children", n_children)
    put("size", chunk.size)
    put("dependency_ratio", (n_elderly + n_children) / chunk.size)
    put("n_able", count(working_age & (lab <= 1)))
    put("n_weak", count(working_age & (lab == 2)))
    put("n_no_labour_adults", count(working_age & (lab == 3)))
    put("n_serious", count(chunk.member_health == 2))
    put("n_chronic", count(chunk.member_health == 1))
    put("n_disabled", count(chunk.member_disability > 0))
    put("severe_disabled", count((chunk.member_disability >= 1) & (chunk.member_disability <= 2)))
    put("n_students", count(chunk.member_in_school & (age >= 6)))
    put("n_migrant", count(chunk.member_employment == _MIGRANT))
    put("n_public_job", count(chunk.member_employment == _PUBLIC_JOB))
    # The head is each household's first member (the graph and the generator list heads first).
    first = np.full(n_h, -1, dtype=np.int64)
    if mh.size:
        starts = np.flatnonzero(np.r_[True, mh[1:] != mh[:-1]])
        first[mh[starts]] = starts
    head_age = np.where(first >= 0, age[np.maximum(first, 0)] if age.size else 0, np.nan)
    put("head_age", head_age.astype(np.float64))


def _village_features(
    chunk: RiskColumns,
    put: Callable[[str, FloatArray], None],
    *,
    below_t: FloatArray,
    fell: BoolArray,
    was_above: BoolArray,
    disaster: FloatArray,
    log_ratio: FloatArray,
) -> None:
    _, village = np.unique(np.array(chunk.village_codes), return_inverse=True)
    n_v = int(village.max()) + 1 if village.size else 0
    known = ~np.isnan(below_t)

    def total(values: FloatArray | BoolArray, mask: BoolArray) -> FloatArray:
        out = np.bincount(
            village[mask], weights=np.asarray(values, dtype=np.float64)[mask], minlength=n_v
        )
        return out.astype(np.float64)

    households = np.bincount(village, minlength=n_v).astype(np.float64)
    n_known = total(np.ones_like(below_t), known)
    n_below = total(below_t, known)
    n_above_before = total(was_above, known)
    n_fell = total(fell, known)
    put("village_households", households[village])
    put("village_below_rate", _nan_div(n_below, n_known)[village])
    put("village_fall_rate", _nan_div(n_fell, n_above_before)[village])
    put("village_disaster_rate", _nan_div(total(disaster, known), n_known)[village])
    put("village_mean_log_ratio", _nan_div(total(log_ratio, known), n_known)[village])

    # Similar households nearby: same village and main cause, leaving the household itself out.
    cause = chunk.main_cause.astype(np.int64)
    group = village * len(CAUSES) + cause
    n_g = n_v * len(CAUSES)
    g_known = np.bincount(group[known], minlength=n_g).astype(np.float64)
    g_below = np.bincount(group[known], weights=below_t[known], minlength=n_g)
    g_above = np.bincount(group[known], weights=was_above[known].astype(np.float64), minlength=n_g)
    g_fell = np.bincount(group[known], weights=fell[known].astype(np.float64), minlength=n_g)
    own_known = known.astype(np.float64)
    own_below = np.where(known, below_t, 0.0)
    put("similar_below_rate", _nan_div(g_below[group] - own_below, g_known[group] - own_known))
    put(
        "similar_fall_rate",
        _nan_div(
            g_fell[group] - fell * known,
            g_above[group] - (was_above & known).astype(np.float64),
        ),
    )

"""Yearly household panels with a known truth: income by source, spending, shocks, assistance,
and whether the household was under the monitoring line, 2020-2026.

Each year is one step of a Markov process whose next-year risk the generator computes exactly:

    below[t+1] ~ Bernoulli(p[t]),   p[t] = sigmoid(logit(state at t, hidden village and
                                                         household effects))

so `p_fall_next` is the best any model could do (the oracle), and `p_fall_next_unaided` is the
same probability had the household received no assistance in year t (the true effect of help).
Incomes follow a household level (anchored on the household table's registered income), an
AR(1) deviation and the year's shocks; a year's income is then made consistent with the drawn
`below_line` (moved just under or over the line when the draw and the natural income disagree),
so the history a model reads is the history that happened.

2026 is the label year: its `below_line` answers 2025's risk. Everything is drawn column-wise
for the whole county, one year at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bangfu.settings import DEFAULT_MONITORING_LINES
from graph.synthetic.households import (
    CHRONIC,
    DISASTER,
    E_LOCAL,
    E_MIGRANT,
    E_PUBLIC,
    L_NORMAL,
    L_SKILLED,
    S_IN_SCHOOL,
    SERIOUS,
    Population,
)
from graph.synthetic.layout import PROVINCE_CODE, CountyPlan
from graph.synthetic.sampling import BoolArray, FloatArray, IntArray
from graph.synthetic.scales import AS_OF
from graph.synthetic.tables import TABLE_COLUMNS, Row

# 2020 is the first panel year; 2026 (AS_OF's year) the label year whose income is not yet known
# on AS_OF, so loaders keep the complete years 2020-2025 only.
FIRST_YEAR = 2020
LABEL_YEAR = AS_OF.year
PANEL_YEARS = tuple(range(FIRST_YEAR, LABEL_YEAR + 1))
LINES = DEFAULT_MONITORING_LINES[PROVINCE_CODE]

ASSIST_KINDS = ("medical", "education", "employment", "industry", "subsistence")

# Nominal income growth (~4%/year, rural Guangdong 2020-2025) and the AR(1) of a household's
# deviation from its own level: half of a good or bad year carries into the next.
_GROWTH = 0.04
_RHO = 0.55
# Hidden effects on the logit: a village's (markets, roads, cadres) and a household's own
# resilience. Village effects show in village-level rates; the household's only partly in its
# history, which is what keeps the best model short of the oracle.
_VILLAGE_SD = 0.35
_HOUSEHOLD_SD = 0.2
# True effects of help on next year's logit (negative: less risk), where the help fits the
# need. Officials give help where shocks hit, so a naive comparison makes help look harmful.
HELP_LOGIT = {
    "medical": -0.6,
    "education": -0.25,
    "employment": -0.5,
    "industry": -0.3,
    "subsistence": -0.4,
}
# Intercept giving a 2021-2025 fall rate of ~5% among households above the line.
_INTERCEPT = -2.0


@dataclass(frozen=True)
class _Static:
    """What does not change from year to year, per household."""

    level: FloatArray  # log registered per-capita income (2025 prices)
    shares: FloatArray  # 5 x H: wage, farm, business, transfer, property
    volatility: FloatArray
    village_effect: FloatArray
    household_effect: FloatArray
    medical_base: FloatArray
    education_base: FloatArray
    serious: IntArray
    chronic: IntArray
    severe_disabled: IntArray
    wage_earners: IntArray
    disaster_prone: BoolArray


def build_panels(county: CountyPlan, pop: Population, rng: np.random.Generator) -> list[Row]:
    """Rows of household_years: one per household and year, households in order, years rising."""
    n_h = pop.size.size
    if n_h == 0:
        return []
    st = _static(county, pop, rng)
    years = len(PANEL_YEARS)
    cols: dict[str, np.ndarray] = {
        name: np.zeros((years, n_h))
        for name in (
            "wage",
            "farm",
            "business",
            "transfer",
            "property",
            "per_capita",
            "medical",
            "education",
            "labour",
            "illness",
            "disaster",
            "job_loss",
            "below",
            "p",
            "p_unaided",
            *(f"assist_{k}" for k in ASSIST_KINDS),
        )
    }
    n_villages = len(county.villages)
    # A village-wide disaster (flood, typhoon) hits ~5% of villages a year, most of its homes.
    village_disaster = rng.random((years, n_villages)) < 0.05

    deviation = rng.normal(0.0, st.volatility)
    below_prev = np.zeros(n_h, dtype=bool)
    below = np.zeros(n_h, dtype=bool)
    p_next = np.zeros(n_h)
    labour_lost = np.zeros(n_h, dtype=np.int64)
    illness_prev = np.zeros(n_h, dtype=bool)
    for i, year in enumerate(PANEL_YEARS):
        line = LINES[year]
        m = _members(pop, year)
        if i > 0:
            below = rng.random(n_h) < p_next
        fell = below & ~below_prev

        # Shocks: hazards from the household's make-up, tilted towards households that fell
        # this year (a fall usually has a cause the record shows).
        ill_p = 0.025 + 0.02 * (m.elderly > 0) + 0.03 * (st.chronic > 0) + 0.02 * (st.serious > 0)
        illness = rng.random(n_h) < np.minimum(0.6, ill_p * np.where(fell, 3.0, 1.0))
        hit = village_disaster[i, pop.village] & (
            rng.random(n_h) < np.where(st.disaster_prone, 0.8, 0.5)
        )
        disaster = hit | (rng.random(n_h) < 0.008 + 0.04 * fell + 0.02 * st.disaster_prone)
        # 2022 was a hard year for migrant work (factory closures): job losses up by 4 points.
        job_p = (0.05 + 0.04 * (year == 2022)) * np.where(fell, 2.0, 1.0)
        job_loss = (st.wage_earners > 0) & (rng.random(n_h) < job_p)

        # Illness takes a worker out; each year a lost worker comes back with 40%.
        back = (labour_lost > 0) & (rng.random(n_h) < 0.4)
        labour_lost = np.maximum(0, labour_lost - back)
        labour_lost += (illness & (m.labour > labour_lost) & (rng.random(n_h) < 0.6)).astype(
            np.int64
        )
        labour_units = np.maximum(0, m.labour - labour_lost)

        wage_s, farm_s = st.shares[0], st.shares[1]
        shock = (
            -0.35 * wage_s * job_loss
            - (0.25 * wage_s + 0.12 * farm_s) * illness
            - (0.4 * farm_s + 0.05) * disaster
        )
        trend = st.level + _GROWTH * (year - 2025)
        deviation = _RHO * deviation + rng.normal(0.0, st.volatility)
        natural = trend + deviation + shock
        if i == 0:
            below = natural < np.log(line)
            fell = np.zeros(n_h, dtype=bool)
        log_pc = natural.copy()
        too_high = below & (natural >= np.log(line))
        too_low = ~below & (natural < np.log(line))
        log_pc[too_high] = np.log(line * rng.uniform(0.72, 0.99, int(too_high.sum())))
        log_pc[too_low] = np.log(line * rng.uniform(1.01, 1.2, int(too_low.sum())))
        # The record is what happened: the deviation carries the reconciled income forward.
        deviation = log_pc - trend - shock
        per_capita = np.exp(log_pc)

        medical = st.medical_base * rng.lognormal(0.0, 0.3, n_h)
        medical += illness * rng.lognormal(np.log(15_000), 0.6, n_h)
        medical += illness_prev * rng.lognormal(np.log(5_000), 0.5, n_h)
        education = st.education_base * rng.lognormal(0.0, 0.2, n_h) * (m.students > 0)
        income = per_capita * pop.size

        weights = st.shares * rng.gamma(8.0, 1.0 / 8.0, (5, n_h))
        weights[0] *= np.where(job_loss, 0.4, 1.0)
        weights[1] *= np.where(disaster, 0.4, 1.0)
        weights[3] += 0.15 * below
        sources = np.round(weights / weights.sum(axis=0) * income)

        # Assistance follows the shocks and the poverty officials see (confounded by design).
        assist = _assistance(rng, st, m, below, illness, disaster, job_loss, labour_units)
        given = {k: assist[k] > 0 for k in ASSIST_KINDS}

        next_line = LINES.get(year + 1, LINES[max(LINES)] * (1 + _GROWTH))
        gap = np.log(next_line) - (st.level + _GROWTH * (year + 1 - 2025) + _RHO * deviation)
        burden_med = np.clip(medical / np.maximum(income, 1.0) - 0.2, 0.0, 1.5)
        burden_edu = np.clip(education / np.maximum(income, 1.0) - 0.15, 0.0, 1.5)
        base = (
            _INTERCEPT
            + 4.5 * gap
            + 1.0 * below
            + 0.35 * (st.serious > 0)
            + 0.15 * (st.chronic > 0)
            + 0.3 * (st.severe_disabled > 0)
            + 0.6 * m.dependency
            + 0.6 * (labour_units == 0)
            + 0.25 * (labour_lost > 0)
            + 0.45 * illness
            + 0.35 * disaster
            + 0.4 * job_loss
            + 0.8 * burden_med
            + 0.4 * burden_edu
            + 2.0 * (st.volatility - 0.12)
            + st.village_effect
            + st.household_effect
        )
        fits = {
            "medical": illness | (st.serious > 0) | (burden_med > 0),
            "education": m.students > 0,
            "employment": job_loss | (labour_units > 0),
            "industry": farm_s > 0.1,
            "subsistence": np.ones(n_h, dtype=bool),
        }
        help_logit = sum(
            (HELP_LOGIT[k] * (given[k] & fits[k]) for k in ASSIST_KINDS), np.zeros(n_h)
        )
        p_next = _sigmoid(base + help_logit)
        p_unaided = _sigmoid(base)

        c = cols
        for name, value in (
            ("wage", sources[0]),
            ("farm", sources[1]),
            ("business", sources[2]),
            ("transfer", sources[3]),
            ("property", sources[4]),
            ("per_capita", np.round(per_capita, 2)),
            ("medical", np.round(medical / 10) * 10),
            ("education", np.round(education / 10) * 10),
            ("labour", labour_units),
            ("illness", illness),
            ("disaster", disaster),
            ("job_loss", job_loss),
            ("below", below),
            ("p", np.round(p_next, 5)),
            ("p_unaided", np.round(p_unaided, 5)),
            *((f"assist_{k}", assist[k]) for k in ASSIST_KINDS),
        ):
            c[name][i] = value
        below_prev = below
        illness_prev = illness
    return _rows(pop.household_ids, cols)


@dataclass(frozen=True)
class _YearMembers:
    labour: IntArray
    elderly: IntArray
    students: IntArray
    dependency: FloatArray


def _members(pop: Population, year: int) -> _YearMembers:
    """Member counts in `year`: ages then were AS_OF's minus the years between."""
    n_h = pop.size.size
    age = pop.age - (AS_OF.year - year)
    able = (pop.labour == L_NORMAL) | (pop.labour == L_SKILLED)

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(pop.household[mask], minlength=n_h).astype(np.int64)

    labour = count(able & (age >= 16) & (age <= 64))
    elderly = count(age >= 65)
    children = count((age >= 0) & (age < 16))
    students = count((pop.schooling == S_IN_SCHOOL) & (age >= 6))
    return _YearMembers(
        labour=labour,
        elderly=elderly,
        students=students,
        dependency=(children + elderly) / pop.size,
    )


def _static(county: CountyPlan, pop: Population, rng: np.random.Generator) -> _Static:
    n_h = pop.size.size
    rows = pop.household_rows
    income = np.array(
        [
            [
                r["income_wage"],
                r["income_farm"],
                r["income_business"],
                r["income_transfer"],
                r["income_property"],
            ]
            for r in rows
        ],
        dtype=np.float64,
    ).T
    total = income.sum(axis=0)
    shares = np.where(total > 0, income / np.maximum(total, 1.0), 0.2)
    per_capita = np.maximum(total / pop.size, 1_500.0)

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(pop.household[mask], minlength=n_h).astype(np.int64)

    farm_share = shares[1]
    return _Static(
        level=np.log(per_capita),
        shares=shares,
        # Farm incomes swing more than wages (weather, prices): 0.06-0.3 log sd.
        volatility=0.06 + 0.12 * rng.beta(2.0, 5.0, n_h) + 0.08 * farm_share,
        village_effect=rng.normal(0.0, _VILLAGE_SD, len(county.villages))[pop.village],
        household_effect=rng.normal(0.0, _HOUSEHOLD_SD, n_h),
        medical_base=np.array([float(str(r["spend_medical"])) for r in rows]),
        education_base=np.array([float(str(r["spend_education"])) for r in rows]),
        serious=count(pop.health == SERIOUS),
        chronic=count(pop.health == CHRONIC),
        severe_disabled=count((pop.disability_grade >= 1) & (pop.disability_grade <= 2)),
        wage_earners=count(np.isin(pop.employment, (E_LOCAL, E_MIGRANT, E_PUBLIC))),
        disaster_prone=pop.cause_flags[:, DISASTER],
    )


def _assistance(
    rng: np.random.Generator,
    st: _Static,
    m: _YearMembers,
    below: BoolArray,
    illness: BoolArray,
    disaster: BoolArray,
    job_loss: BoolArray,
    labour_units: IntArray,
) -> dict[str, FloatArray]:
    n_h = below.size
    p = {
        "medical": 0.03 + 0.35 * illness + 0.12 * (st.serious > 0) + 0.1 * below,
        "education": (m.students > 0) * (0.05 + 0.35 * below),
        "employment": 0.02 + 0.35 * job_loss + 0.05 * ((labour_units > 0) & below),
        "industry": 0.04 + 0.2 * disaster * (st.shares[1] > 0.2) + 0.1 * below,
        "subsistence": 0.6 * ((labour_units == 0) & below) + 0.04 * below,
    }
    median = {
        "medical": 4_000.0,
        "education": 2_000.0,
        "employment": 3_000.0,
        "industry": 2_500.0,
        "subsistence": 4_800.0,
    }
    out: dict[str, FloatArray] = {}
    for kind in ASSIST_KINDS:
        given = rng.random(n_h) < np.clip(p[kind], 0.0, 0.95)
        amount = np.round(rng.lognormal(np.log(median[kind]), 0.4, n_h) / 10) * 10
        out[kind] = np.where(given, amount, 0.0)
    return out


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


_INT_COLUMNS = (
    ("income_wage", "wage"),
    ("income_farm", "farm"),
    ("income_business", "business"),
    ("income_transfer", "transfer"),
    ("income_property", "property"),
)


def _rows(household_ids: list[str], cols: dict[str, np.ndarray]) -> list[Row]:
    years = len(PANEL_YEARS)
    n_h = len(household_ids)

    # Household-major order: a household's years are consecutive.
    def flat(name: str, kind: type) -> list[object]:
        values = cols[name].T.reshape(-1)
        return list(values.astype(kind).tolist()) if kind is not float else values.tolist()

    columns = (
        [h for h in household_ids for _ in range(years)],
        list(PANEL_YEARS) * n_h,
        *(flat(src, int) for _, src in _INT_COLUMNS),
        flat("per_capita", float),
        flat("medical", int),
        flat("education", int),
        flat("labour", int),
        flat("illness", bool),
        flat("disaster", bool),
        flat("job_loss", bool),
        *(flat(f"assist_{k}", int) for k in ASSIST_KINDS),
        flat("below", bool),
        flat("p", float),
        flat("p_unaided", float),
    )
    names = TABLE_COLUMNS["household_years"]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

"""Needs of one county's households, derived from each household's situation, and their claims.

A household's candidate categories and their weights come from its members and causes (a seriously
ill member makes medical aid likely, an unsafe house makes housing repair likely ...). Claimed needs
name a helper that has the category and serves the village or a region above it; completed needs
lean towards helpers of high hidden quality, so outcomes carry signal for matching to learn from.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from itertools import accumulate
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bangfu.vocabulary import NeedCategory, NeedStatus, Urgency
from graph.synthetic.helpers import Helper
from graph.synthetic.households import (
    CHILD,
    DISABILITY,
    DISABILITY_KINDS,
    DISASTER,
    DRIVE,
    E_FARMING,
    E_NONE,
    E_SELF,
    FUNDS,
    GRANDCHILD,
    HEAD,
    ILLNESS,
    L_NORMAL,
    L_SKILLED,
    LABOUR,
    LAND,
    PARENT,
    S_IN_SCHOOL,
    SCHOOLING,
    SKILLS,
    SPOUSE,
    TRANSPORT,
    WATER,
    Population,
)
from graph.synthetic.layout import CountyPlan
from graph.synthetic.sampling import IntArray, categorical, top_k_weighted
from graph.synthetic.scales import AS_OF, NEEDS_FROM
from graph.synthetic.tables import Row
from graph.synthetic.texts import Member, Situation, compose

CATEGORIES = tuple(NeedCategory)
MED, DEV, TUI, SKI, JOB, HOU, WAT, FAR, CRE, CAR = range(len(CATEGORIES))
_MAX_NEEDS_PER_HOUSEHOLD = 4
# Needs per household by status (exited, monitored, poor); ~0.6 overall after capping.
_NEED_RATE = np.array([0.5, 1.4, 1.6])

_STATUS_P: dict[NeedStatus, float] = {
    NeedStatus.OPEN: 0.60,
    NeedStatus.PENDING_REVIEW: 0.08,
    NeedStatus.CLAIMED: 0.07,
    NeedStatus.IN_PROGRESS: 0.07,
    NeedStatus.FULFILLED: 0.05,
    NeedStatus.CONFIRMED: 0.04,
    NeedStatus.CLOSED: 0.06,
    NeedStatus.CANCELLED: 0.03,
}
_STATUSES = tuple(_STATUS_P)
CLAIMED_STATES = frozenset(
    {
        NeedStatus.CLAIMED,
        NeedStatus.IN_PROGRESS,
        NeedStatus.FULFILLED,
        NeedStatus.CONFIRMED,
        NeedStatus.CLOSED,
    }
)
DONE_STATES = frozenset({NeedStatus.FULFILLED, NeedStatus.CONFIRMED, NeedStatus.CLOSED})
_URGENCIES = tuple(Urgency)
# Urgency distributions (low, normal, high, critical): ordinary, serious illness, unsafe
# housing, water, elderly alone.
_URGENCY_P = (
    (0.25, 0.55, 0.17, 0.03),
    (0.0, 0.2, 0.45, 0.35),
    (0.0, 0.3, 0.5, 0.2),
    (0.05, 0.45, 0.4, 0.1),
    (0.05, 0.5, 0.35, 0.1),
)
# A village's own paired unit is far more likely to take up its households' needs.
_OWN_UNIT_WEIGHT = 6.0
_TEXT_UNIFORMS = 12


class ClaimIndex:
    """Which helpers may claim a need of a given category in a given village of one county."""

    def __init__(self, county: CountyPlan, helpers: Sequence[Helper]) -> None:
        self._wide: dict[NeedCategory, list[Helper]] = {c: [] for c in CATEGORIES}
        self._local: dict[tuple[str, NeedCategory], list[Helper]] = {}
        for h in helpers:
            if any(county.code.startswith(r) for r in h.service_regions):
                for c in h.capabilities:
                    self._wide[c].append(h)
                continue
            for r in h.service_regions:
                if r.startswith(county.code):
                    for c in h.capabilities:
                        self._local.setdefault((r, c), []).append(h)
        self._cache: dict[tuple[str, NeedCategory, bool], tuple[list[Helper], list[float]]] = {}

    def candidates(
        self, village_code: str, category: NeedCategory, done: bool
    ) -> tuple[list[Helper], list[float]]:
        """Eligible helpers and cumulative weights; `done` favours helpers of high quality."""
        key = (village_code, category, done)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        town_code = village_code[:9]
        pool = (
            [(h, 1.0) for h in self._wide[category]]
            + [(h, 1.0) for h in self._local.get((town_code, category), [])]
            + [(h, _OWN_UNIT_WEIGHT) for h in self._local.get((village_code, category), [])]
        )
        helpers = [h for h, _ in pool]
        weights = [w * (h.quality**2 if done else 1.0) for h, w in pool]
        result = (helpers, list(accumulate(weights)))
        self._cache[key] = result
        return result


def _segment_first(pop: Population, score: NDArray[Any]) -> IntArray:
    """Per household, the first member with the household's highest positive score, else -1."""
    best = np.maximum.reduceat(score, pop.start)
    hit = (score == best[pop.household]) & (score > 0)
    big = score.size
    first = np.minimum.reduceat(np.where(hit, np.arange(score.size), big), pop.start)
    return np.where(first == big, -1, first)


def _role(relation: int, male: bool) -> str:
    if relation == HEAD:
        return "户主"
    if relation == SPOUSE:
        return "丈夫" if male else "妻子"
    if relation == CHILD:
        return "儿子" if male else "女儿"
    if relation == PARENT:
        return "父亲" if male else "母亲"
    if relation == GRANDCHILD:
        return "孙子" if male else "孙女"
    return "女婿" if male else "儿媳"


def build_needs(
    county: CountyPlan, pop: Population, claims: ClaimIndex, rng: np.random.Generator
) -> list[Row]:
    n_h = pop.size.size
    flags = pop.cause_flags
    labour_able = (pop.labour == L_NORMAL) | (pop.labour == L_SKILLED)
    adult = (pop.age >= 16) & (pop.age <= 59)

    ill = _segment_first(pop, pop.health.astype(np.float64))
    disabled = _segment_first(
        pop, np.where(pop.disability_grade > 0, 5.0 - pop.disability_grade, 0)
    )
    student = _segment_first(pop, np.where(pop.schooling == S_IN_SCHOOL, pop.age + 1.0, 0.0))
    able = _segment_first(
        pop,
        np.where(
            labour_able & adult & (pop.age <= 55),
            1.0 + 2.0 * (pop.employment == E_NONE) + (pop.employment == E_FARMING),
            0.0,
        ),
    )
    jobless = _segment_first(pop, (labour_able & adult & (pop.employment == E_NONE)) * 1.0)
    oldest = _segment_first(pop, pop.age + 1.0)
    youngest_age = np.minimum.reduceat(pop.age, pop.start)

    def person(idx: IntArray, attr: np.ndarray, default: float = 0) -> np.ndarray:
        return np.where(idx >= 0, attr[np.maximum(idx, 0)], default)

    sick = person(ill, pop.health)
    dis_grade = person(disabled, pop.disability_grade)
    dis_kind = person(disabled, pop.disability_kind, -1)
    student_age = person(student, pop.age)
    has_dis = disabled >= 0
    has_student = student >= 0
    has_able = able >= 0
    has_jobless = jobless >= 0
    counts = np.bincount(pop.household[pop.employment == E_FARMING], minlength=n_h)
    farming = counts > 0
    self_employed = np.bincount(pop.household[pop.employment == E_SELF], minlength=n_h) > 0
    elderly_alone = (pop.size <= 2) & (youngest_age >= 65)
    severe_dis = has_dis & (dis_grade <= 2)
    oldest_age = person(oldest, pop.age)
    device_kind = ~np.isin(
        dis_kind, (DISABILITY_KINDS.index("智力"), DISABILITY_KINDS.index("精神"))
    )

    f = flags.astype(np.float64)
    w = np.zeros((n_h, len(CATEGORIES)))
    w[:, MED] = np.select([sick == 2, sick == 1], [6.0, 2.5], 0.0) + 2.0 * f[:, ILLNESS] * (
        sick > 0
    )
    w[:, DEV] = has_dis * (
        np.where(dis_grade <= 2, 5.0, 3.0) * np.where(device_kind, 1.0, 0.3) + f[:, DISABILITY]
    )
    w[:, TUI] = has_student * (np.where(student_age >= 15, 4.0, 1.5) + 4.0 * f[:, SCHOOLING])
    w[:, SKI] = has_able * (0.8 + 4.0 * f[:, SKILLS] + 1.5 * f[:, DRIVE])
    w[:, JOB] = 4.0 * has_jobless + has_able * (2.0 * f[:, DRIVE] + 1.5 * f[:, SKILLS])
    w[:, HOU] = 8.0 * ~pop.housing_safe + 1.5 * f[:, DISASTER]
    w[:, WAT] = 8.0 * ~pop.water_safe + 1.0 * f[:, WATER]
    w[:, FAR] = farming * (1.5 + f[:, LAND] + 2.0 * f[:, DISASTER] + f[:, TRANSPORT])
    w[:, CRE] = 5.0 * f[:, FUNDS] + 1.5 * self_employed + 0.3 * farming
    w[:, CAR] = 4.0 * elderly_alone + 3.0 * severe_dis + 1.5 * f[:, LABOUR] * (oldest_age >= 60)

    wanted = rng.poisson(_NEED_RATE[pop.status])
    k = np.minimum(np.minimum(wanted, (w > 0).sum(axis=1)), _MAX_NEEDS_PER_HOUSEHOLD)
    rows_with = np.flatnonzero(k)
    picks = top_k_weighted(rng, w[rows_with], k[rows_with])

    need_household = np.repeat(rows_with, k[rows_with])
    need_category = np.array([c for p in picks for c in p], dtype=np.int64)
    n_n = need_category.size
    focus = np.select(
        [
            need_category == MED,
            (need_category == DEV) | ((need_category == CAR) & severe_dis[need_household]),
            need_category == TUI,
            need_category == SKI,
            need_category == JOB,
            need_category == CAR,
        ],
        [
            ill[need_household],
            disabled[need_household],
            student[need_household],
            able[need_household],
            np.where(jobless >= 0, jobless, able)[need_household],
            oldest[need_household],
        ],
        pop.start[need_household],
    )
    focus = np.where(focus < 0, pop.start[need_household], focus)

    urgency_group = np.select(
        [
            (need_category == MED) & (pop.health[focus] == 2),
            need_category == HOU,
            need_category == WAT,
            (need_category == CAR) & elderly_alone[need_household],
        ],
        [1, 2, 3, 4],
        0,
    )
    urgency = np.empty(n_n, dtype=np.int64)
    for g, probs in enumerate(_URGENCY_P):
        mask = urgency_group == g
        urgency[mask] = categorical(rng, probs, int(mask.sum()))
    status = categorical(rng, list(_STATUS_P.values()), n_n)
    uniforms = rng.random((n_n, _TEXT_UNIFORMS)).tolist()
    date_u = rng.random((n_n, 4)).tolist()

    village_codes = [v.code for v in county.villages]
    seq_in_household = _seq_within(need_household)
    as_of = AS_OF.toordinal()
    start_day = NEEDS_FROM.toordinal()
    window = as_of - start_day
    rows: list[Row] = []
    for i, (h, c, p, st, urg, seq) in enumerate(
        zip(
            need_household.tolist(),
            need_category.tolist(),
            focus.tolist(),
            status.tolist(),
            urgency.tolist(),
            seq_in_household.tolist(),
            strict=True,
        )
    ):
        category = CATEGORIES[c]
        kind_idx = int(pop.disability_kind[p])
        member = Member(
            role=_role(int(pop.relation[p]), bool(pop.male[p])),
            age=int(pop.age[p]),
            male=bool(pop.male[p]),
            severity=int(pop.health[p]),
            disability_grade=int(pop.disability_grade[p]),
            disability_kind=DISABILITY_KINDS[kind_idx] if pop.disability_grade[p] > 0 else "",
        )
        situation = Situation(
            member=member,
            disaster=bool(flags[h, DISASTER]),
            living_alone=bool(pop.size[h] == 1),
        )
        title, text, amount = compose(category, situation, uniforms[i])
        village_code = village_codes[int(pop.village[h])]
        need_status = _STATUSES[st]
        claimer: Helper | None = None
        du = date_u[i]
        if need_status in CLAIMED_STATES:
            helpers, cum = claims.candidates(village_code, category, need_status in DONE_STATES)
            if helpers:
                claimer = helpers[min(len(helpers) - 1, bisect_right(cum, du[0] * cum[-1]))]
            else:
                need_status = NeedStatus.OPEN
        fulfilled = ""
        if claimer is not None and need_status in DONE_STATES:
            duration = int(1 + du[1] * 19 + claimer.speed_days * math.exp(0.8 * (du[2] - 0.5)))
            duration = min(duration, window - 1)
            created = start_day + int(du[3] * (window - duration))
            fulfilled = date.fromordinal(created + duration).isoformat()
        elif claimer is not None:
            created = as_of - int(5 + du[1] * 195)
        elif need_status in (NeedStatus.OPEN, NeedStatus.PENDING_REVIEW):
            # Open needs skew recent: most were published in the last few months.
            created = as_of - int(du[1] ** 2 * window)
        else:
            created = start_day + int(du[1] * window)
        hid = pop.household_ids[h]
        rows.append(
            {
                "need_id": f"N{hid[1:]}-{seq:02d}",
                "household_id": hid,
                "village_code": village_code,
                "category": category.value,
                "kind": category.kind.value,
                "title": title,
                "text": text,
                "amount": amount,
                "urgency": _URGENCIES[urg].value,
                "status": need_status.value,
                "created_at": date.fromordinal(created).isoformat(),
                "claimed_by": claimer.helper_id if claimer is not None else "",
                "fulfilled_at": fulfilled,
            }
        )
    return rows


def _seq_within(groups: IntArray) -> IntArray:
    """1, 2, 3 ... within runs of equal consecutive values."""
    n = groups.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = groups[1:] != groups[:-1]
    first = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    seq: IntArray = np.arange(n) - first[run] + 1
    return seq

"""Households and their members for one county, drawn column-wise with numpy.

Every attribute is drawn for the whole county at once; Python only touches rows when the final
dicts are built. Members are consistent with the household's causes: an illness household has a
chronically or seriously ill member, a disability household a member with a grade 1-4 disability,
a schooling household a child in school, a lack-of-labour household elderly or weak members.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from bangfu.vocabulary import (
    Employment,
    Health,
    HouseholdStatus,
    LabourAbility,
    MonitorType,
    PovertyCause,
    Relation,
    Schooling,
    Sex,
)
from graph.synthetic.identifiers import draw_phones, national_ids
from graph.synthetic.layout import CAUSES, CountyPlan
from graph.synthetic.names import draw_surnames, person_names
from graph.synthetic.sampling import (
    BoolArray,
    IntArray,
    categorical,
    categorical_by_group,
    group_starts,
    rank_within_groups,
    top_k_weighted,
    uniform_int,
)
from graph.synthetic.scales import AS_OF
from graph.synthetic.tables import Row

# Small-integer codes of vocabulary values, in enum declaration order.
ILLNESS, DISABILITY, SCHOOLING, DISASTER, LAND, WATER, SKILLS, LABOUR, FUNDS, TRANSPORT, DRIVE = (
    CAUSES.index(c) for c in PovertyCause
)
STATUSES = (HouseholdStatus.EXITED, HouseholdStatus.MONITORED, HouseholdStatus.POOR)
EXITED, MONITORED, POOR = 0, 1, 2
MONITOR_TYPES = tuple(MonitorType)
RELATIONS = tuple(Relation)
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, OTHER = range(len(RELATIONS))
HEALTHS = tuple(Health)
HEALTHY, CHRONIC, SERIOUS = range(len(HEALTHS))
SCHOOLINGS = tuple(Schooling)
S_NONE, S_PRIMARY, S_JUNIOR, S_SENIOR, S_COLLEGE, S_PRESCHOOL, S_IN_SCHOOL = range(len(SCHOOLINGS))
LABOURS = tuple(LabourAbility)
L_NORMAL, L_SKILLED, L_WEAK, L_NONE = range(len(LABOURS))
EMPLOYMENTS = tuple(Employment)
E_FARMING, E_LOCAL, E_MIGRANT, E_SELF, E_PUBLIC, E_STUDENT, E_NONE = range(len(EMPLOYMENTS))
_SEX_VALUES = (Sex.FEMALE.value, Sex.MALE.value)
# Kinds of disability, used only to word needs: 肢体, 视力, 听力, 智力, 精神, 言语, 多重.
DISABILITY_KINDS = ("肢体", "视力", "听力", "智力", "精神", "言语", "多重")
_DISABILITY_KIND_P = (0.5, 0.13, 0.12, 0.1, 0.1, 0.02, 0.03)

_MAX_SIZE = 8
# Household size distributions (sizes 1-8) by main cause; their mix averages ~2.61 members, the
# province's 1,731,000 / 664,000, so the exact per-town adjustment changes few households.
_SIZE_P: dict[int, tuple[float, ...]] = {
    LABOUR: (0.45, 0.33, 0.10, 0.07, 0.03, 0.015, 0.005, 0.0),
    ILLNESS: (0.26, 0.26, 0.17, 0.14, 0.10, 0.05, 0.015, 0.005),
    DISABILITY: (0.30, 0.26, 0.17, 0.13, 0.08, 0.04, 0.015, 0.005),
    SCHOOLING: (0.0, 0.10, 0.30, 0.32, 0.17, 0.08, 0.025, 0.005),
}
_SIZE_P_OTHER = (0.27, 0.26, 0.19, 0.14, 0.08, 0.04, 0.015, 0.005)

# Status mix for 2025: nearly all exited (~88%), some monitored (~8%), a few still poor.
_STATUS_P: dict[int, tuple[float, float, float]] = {
    ILLNESS: (0.85, 0.10, 0.05),
    DISABILITY: (0.86, 0.09, 0.05),
}
_STATUS_P_OTHER = (0.905, 0.065, 0.03)

# Secondary causes that commonly come with each main cause (weights over CAUSES).
_OTHER_CAUSE_W = np.array(
    [
        # ill  dis  sch  dst  lnd  wat  skl  lab  fun  trn  drv
        [0.0, 0.5, 0.6, 0.2, 0.3, 0.1, 1.0, 2.0, 2.5, 0.3, 0.3],  # illness
        [1.5, 0.0, 0.3, 0.2, 0.3, 0.1, 1.0, 2.5, 1.5, 0.3, 0.3],  # disability
        [0.6, 0.3, 0.0, 0.2, 0.3, 0.1, 0.8, 0.8, 2.5, 0.3, 0.2],  # schooling
        [0.5, 0.3, 0.3, 0.0, 1.0, 0.5, 0.5, 0.8, 2.5, 0.8, 0.2],  # disaster
        [0.4, 0.2, 0.3, 0.5, 0.0, 1.0, 1.5, 0.6, 2.0, 0.6, 0.3],  # lack of land
        [0.4, 0.2, 0.2, 1.0, 1.0, 0.0, 0.8, 0.6, 1.5, 1.0, 0.3],  # lack of water
        [0.5, 0.3, 0.4, 0.3, 0.6, 0.2, 0.0, 0.6, 2.0, 0.5, 1.0],  # lack of skills
        [2.0, 1.5, 0.3, 0.2, 0.3, 0.1, 0.6, 0.0, 1.0, 0.2, 0.2],  # lack of labour
        [0.6, 0.3, 0.6, 0.4, 0.6, 0.2, 1.5, 0.6, 0.0, 0.6, 0.5],  # lack of funds
        [0.4, 0.2, 0.3, 0.5, 0.6, 0.6, 1.0, 0.5, 1.5, 0.0, 0.3],  # poor transport
        [0.4, 0.2, 0.2, 0.1, 0.2, 0.1, 2.0, 0.4, 1.0, 0.2, 0.0],  # lack of drive
    ]
)


@dataclass(frozen=True)
class Population:
    """One county's households and members as columns, kept for deriving needs and pairings."""

    # Households (length H), in village order.
    household_ids: list[str]
    village: IntArray  # index into the county's villages
    cause: IntArray  # main cause, index into CAUSES
    cause_flags: BoolArray  # H x len(CAUSES): main or other cause
    status: IntArray
    size: IntArray
    start: IntArray  # index of the household's head among persons
    housing_safe: BoolArray
    water_safe: BoolArray
    # Persons (length P), grouped by household, head first.
    household: IntArray
    relation: IntArray
    age: IntArray
    male: BoolArray
    health: IntArray
    disability_grade: IntArray
    disability_kind: IntArray
    schooling: IntArray
    labour: IntArray
    employment: IntArray
    names: list[str]
    household_rows: list[Row]
    person_rows: list[Row]


def build_population(county: CountyPlan, rng: np.random.Generator) -> Population:
    villages = county.villages
    village_households = np.array([v.households for v in villages], dtype=np.int64)
    n_h = int(village_households.sum())
    village = np.repeat(np.arange(len(villages)), village_households)
    town_of_village = np.repeat(
        np.arange(len(county.towns)), [len(t.villages) for t in county.towns]
    )
    town = town_of_village[village]

    cause = np.repeat(np.arange(len(CAUSES)), county.cause_counts)
    rng.shuffle(cause)
    cause_flags = _cause_flags(rng, cause)
    status = _by_cause(rng, cause, _STATUS_P, _STATUS_P_OTHER)
    head_age = _head_age(rng, cause)
    size = _by_cause(rng, cause, _SIZE_P, _SIZE_P_OTHER) + 1
    min_size = np.where(cause == SCHOOLING, 2, 1)
    _fit_sizes(rng, size, min_size, town, np.array([t.persons for t in county.towns]))

    members = _Members.draw(rng, cause, cause_flags, head_age, size)
    n_p = int(size.sum())
    start = group_starts(size)

    phone_wanted = (members.age >= 18) & (
        rng.random(n_p) < np.where(members.relation == HEAD, 0.75, 0.45)
    )
    phones = np.full(n_p, "", dtype=object)
    phones[phone_wanted] = draw_phones(rng, county.index, int(phone_wanted.sum()))

    birth_days = AS_OF.toordinal() - (
        members.age * 365.2425 + rng.random(n_p) * 364.0 + 1.0
    ).astype(np.int64)
    birth_iso = (birth_days - _EPOCH_ORDINAL).astype("datetime64[D]").astype(str).tolist()
    ids = national_ids(rng, county.code, birth_days, members.male)
    birth_year = _birth_year(birth_days)
    names = person_names(rng, members.surname, members.male, birth_year)

    village_seq = rank_within_groups(village_households) + 1
    village_codes = [v.code for v in villages]
    household_ids = [
        f"H{village_codes[v]}{s:04d}"
        for v, s in zip(village.tolist(), village_seq.tolist(), strict=True)
    ]

    housing_safe = rng.random(n_h) >= np.select(
        [cause == DISASTER, status == POOR, status == MONITORED], [0.35, 0.15, 0.06], 0.015
    )
    water_safe = rng.random(n_h) >= np.select(
        [cause == WATER, status == POOR, status == MONITORED], [0.4, 0.06, 0.03], 0.01
    )
    pop = Population(
        household_ids=household_ids,
        village=village,
        cause=cause,
        cause_flags=cause_flags,
        status=status,
        size=size,
        start=start,
        housing_safe=housing_safe,
        water_safe=water_safe,
        household=members.household,
        relation=members.relation,
        age=members.age,
        male=members.male,
        health=members.health,
        disability_grade=members.grade,
        disability_kind=members.disability_kind,
        schooling=members.schooling,
        labour=members.labour,
        employment=members.employment,
        names=names,
        household_rows=[],
        person_rows=[],
    )
    # Row building reads the columns above, so rows are attached to a copy once columns exist.
    return replace(
        pop,
        person_rows=_person_rows(pop, household_ids, ids, birth_iso, phones.tolist()),
        household_rows=_household_rows(rng, county, pop, phones[start].tolist(), town),
    )


_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal(), the origin of numpy datetime64


def _birth_year(days: IntArray) -> IntArray:
    return (days - _EPOCH_ORDINAL).astype("datetime64[D]").astype("datetime64[Y]").astype(
        np.int64
    ) + 1970


def _by_cause(
    rng: np.random.Generator,
    cause: IntArray,
    table: Mapping[int, tuple[float, ...]],
    default: tuple[float, ...],
) -> IntArray:
    rows = [table.get(c, default) for c in range(len(CAUSES))]
    return categorical_by_group(rng, rows, cause)


def _cause_flags(rng: np.random.Generator, cause: IntArray) -> BoolArray:
    n = cause.size
    flags = np.zeros((n, len(CAUSES)), dtype=bool)
    flags[np.arange(n), cause] = True
    n_other = categorical(rng, (0.45, 0.40, 0.15), n)
    rows = np.flatnonzero(n_other)
    picks = top_k_weighted(rng, _OTHER_CAUSE_W[cause[rows]], n_other[rows])
    for row, cols in zip(rows.tolist(), picks, strict=True):
        flags[row, cols] = True
    return flags


def _head_age(rng: np.random.Generator, cause: IntArray) -> IntArray:
    n = cause.size
    age = np.clip(rng.normal(50.0, 11.0, n), 22, 85)
    age = np.where(cause == ILLNESS, np.clip(rng.normal(56.0, 12.0, n), 25, 88), age)
    age = np.where(cause == DISABILITY, np.clip(rng.normal(52.0, 13.0, n), 20, 88), age)
    age = np.where(cause == SCHOOLING, np.clip(rng.normal(44.0, 5.0, n), 33, 54), age)
    age = np.where(cause == LABOUR, np.clip(60.0 + rng.gamma(2.0, 6.0, n), 60, 95), age)
    return age.astype(np.int64)


def _fit_sizes(
    rng: np.random.Generator,
    size: IntArray,
    min_size: IntArray,
    town: IntArray,
    town_persons: IntArray,
) -> None:
    """Nudge sizes by +-1 on random households until each town has exactly its planned persons."""
    for t, target in enumerate(town_persons.tolist()):
        members = np.flatnonzero(town == t)
        while True:
            diff = target - int(size[members].sum())
            if diff == 0:
                break
            if diff > 0:
                eligible = members[size[members] < _MAX_SIZE]
            else:
                eligible = members[size[members] > min_size[members]]
            if eligible.size == 0:
                raise AssertionError("town person count unreachable with sizes 1-8")
            pick = rng.choice(eligible, size=min(abs(diff), eligible.size), replace=False)
            size[pick] += 1 if diff > 0 else -1


@dataclass(frozen=True)
class _Frame:
    """What the member draws share: each person's household and member number, their ages, and
    the household-level causes and sizes they depend on."""

    hh: IntArray
    k: IntArray
    age: IntArray
    cause: IntArray
    flags: BoolArray
    size: IntArray


@dataclass(frozen=True)
class _Members:
    household: IntArray
    relation: IntArray
    age: IntArray
    male: BoolArray
    surname: IntArray
    health: IntArray
    grade: IntArray
    disability_kind: IntArray
    schooling: IntArray
    labour: IntArray
    employment: IntArray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        cause: IntArray,
        flags: BoolArray,
        head_age: IntArray,
        size: IntArray,
    ) -> _Members:
        n_h = size.size
        hh = np.repeat(np.arange(n_h), size)
        k = rank_within_groups(size)
        n_p = hh.size
        old = head_age >= 55

        # Composition: head, spouse, parents, (adult) children, a daughter-in-law, grandchildren.
        p_spouse = np.where(cause == LABOUR, 0.55, 0.82)
        has_spouse = (size >= np.where(cause == SCHOOLING, 3, 2)) & (rng.random(n_h) < p_spouse)
        rest = size - 1 - has_spouse
        n_parent = np.where(
            head_age < 58, np.minimum(rest, categorical(rng, (0.78, 0.16, 0.06), n_h)), 0
        )
        n_parent = np.where(cause == SCHOOLING, np.minimum(n_parent, rest - 1), n_parent)
        kids = rest - n_parent
        n_adult = np.where(old, np.minimum(kids, categorical(rng, (0.5, 0.4, 0.1), n_h)), kids)
        n_other = (old & (n_adult >= 1) & (kids - n_adult >= 2) & (rng.random(n_h) < 0.35)).astype(
            np.int64
        )
        b_spouse = 1 + has_spouse
        b_parent = b_spouse + n_parent
        b_child = b_parent + n_adult
        b_other = b_child + n_other
        relation = np.select(
            [k == 0, k < b_spouse[hh], k < b_parent[hh], k < b_child[hh], k < b_other[hh]],
            [HEAD, SPOUSE, PARENT, CHILD, OTHER],
            GRANDCHILD,
        )

        ha = head_age[hh]
        u = rng.random(n_p)
        young_child = ha - uniform_int(rng, 19, 37, n_p)
        young_child = np.where(
            young_child < 0, np.floor(u * np.maximum(1, ha - 18)).astype(np.int64), young_child
        )
        age = np.select(
            [
                relation == HEAD,
                relation == SPOUSE,
                relation == PARENT,
                (relation == CHILD) & old[hh],
                relation == CHILD,
                relation == OTHER,
            ],
            [
                ha,
                np.clip(ha + np.round(rng.normal(-2.0, 3.0, n_p)).astype(np.int64), 18, 99),
                np.minimum(99, ha + uniform_int(rng, 22, 33, n_p)),
                ha - uniform_int(rng, 22, 35, n_p),
                young_child,
                ha - uniform_int(rng, 22, 35, n_p),
            ],
            np.minimum(uniform_int(rng, 0, 17, n_p), np.maximum(0, ha - 38)),
        ).astype(np.int64)
        # A schooling household's first child is of school or college age.
        first_kid = (cause[hh] == SCHOOLING) & (k == b_parent[hh])
        age = np.where(first_kid, np.minimum(uniform_int(rng, 6, 21, n_p), ha - 19), age)

        head_male = rng.random(n_h) < np.where((size == 1) & (head_age >= 65), 0.5, 0.8)
        first_parent_male = rng.random(n_h) >= 0.65
        male = np.select(
            [relation == HEAD, relation == SPOUSE, relation == PARENT, relation == OTHER],
            [
                head_male[hh],
                ~head_male[hh],
                first_parent_male[hh] ^ (k > b_spouse[hh]),
                rng.random(n_p) < 0.15,
            ],
            rng.random(n_p) < 0.53,
        ).astype(bool)

        f = _Frame(hh=hh, k=k, age=age, cause=cause, flags=flags, size=size)
        surname = cls._surnames(
            rng, f, relation=relation, male=male, head_male=head_male, has_spouse=has_spouse
        )
        health = cls._health(rng, f, has_spouse)
        grade, disability_kind = cls._disability(rng, f)
        schooling = categorical_by_group(rng, _SCHOOLING_P, _age_group(age))
        schooling = np.where(first_kid, S_IN_SCHOOL, schooling)
        labour = cls._labour(rng, f, schooling=schooling, health=health, grade=grade)
        employment = cls._employment(rng, f, schooling=schooling, labour=labour)
        return cls(
            household=hh,
            relation=relation.astype(np.int64),
            age=age,
            male=male,
            surname=surname,
            health=health,
            grade=grade,
            disability_kind=disability_kind,
            schooling=schooling,
            labour=labour,
            employment=employment,
        )

    @staticmethod
    def _surnames(
        rng: np.random.Generator,
        f: _Frame,
        *,
        relation: IntArray,
        male: BoolArray,
        head_male: BoolArray,
        has_spouse: BoolArray,
    ) -> IntArray:
        hh = f.hh
        n_h = head_male.size
        head = draw_surnames(rng, n_h)
        spouse = draw_surnames(rng, n_h)
        # Children take the father's surname, mostly.
        father = np.where(~head_male & has_spouse & (rng.random(n_h) < 0.85), spouse, head)
        own = draw_surnames(rng, hh.size)
        kid_own = rng.random(hh.size) < 0.07
        return np.select(
            [
                relation == HEAD,
                relation == SPOUSE,
                (relation == PARENT) & male,
                relation == PARENT,
                relation == OTHER,
                kid_own,
            ],
            [head[hh], spouse[hh], head[hh], own, own, own],
            father[hh],
        ).astype(np.int64)

    @staticmethod
    def _focus(
        rng: np.random.Generator, size: IntArray, p_head: float, spouse_slot: BoolArray
    ) -> IntArray:
        """Member number of the one member a household's cause is about."""
        n_h = size.size
        u = rng.random(n_h)
        anyone = np.floor(rng.random(n_h) * size).astype(np.int64)
        return np.where(
            (size == 1) | (u < p_head), 0, np.where(spouse_slot & (u < p_head + 0.2), 1, anyone)
        )

    @classmethod
    def _health(cls, rng: np.random.Generator, f: _Frame, has_spouse: BoolArray) -> IntArray:
        hh, k, age, cause, flags, size = f.hh, f.k, f.age, f.cause, f.flags, f.size
        group = np.where(age < 40, 0, np.where(age < 60, 1, 2))
        health = categorical_by_group(
            rng, ((0.95, 0.04, 0.01), (0.82, 0.15, 0.03), (0.60, 0.33, 0.07)), group
        )
        focus = cls._focus(rng, size, 0.55, has_spouse)
        severity = np.where(
            cause == ILLNESS,
            np.where(rng.random(size.size) < 0.45, SERIOUS, CHRONIC),
            np.where(flags[:, ILLNESS], np.where(rng.random(size.size) < 0.2, SERIOUS, CHRONIC), 0),
        )
        target = k == focus[hh]
        return np.where(target, np.maximum(health, severity[hh]), health).astype(np.int64)

    @classmethod
    def _disability(cls, rng: np.random.Generator, f: _Frame) -> tuple[IntArray, IntArray]:
        hh, k, age, cause, flags, size = f.hh, f.k, f.age, f.cause, f.flags, f.size
        n_p = hh.size
        p = np.where(age < 18, 0.01, np.where(age < 60, 0.03, 0.07))
        grade = np.where(
            rng.random(n_p) < p, categorical(rng, (0.12, 0.25, 0.30, 0.33), n_p) + 1, 0
        )
        focus = cls._focus(rng, size, 0.45, size >= 2)
        main_grade = categorical(rng, (0.20, 0.30, 0.28, 0.22), size.size) + 1
        other_grade = categorical(rng, (0.08, 0.20, 0.32, 0.40), size.size) + 1
        forced = np.where(
            cause == DISABILITY, main_grade, np.where(flags[:, DISABILITY], other_grade, 0)
        )
        target = (k == focus[hh]) & (forced[hh] > 0)
        # Grade 1 is the most severe; keep the more severe of baseline and forced.
        grade = np.where(
            target, np.where(grade > 0, np.minimum(grade, forced[hh]), forced[hh]), grade
        )
        kind = categorical(rng, _DISABILITY_KIND_P, n_p)
        return grade.astype(np.int64), kind

    @staticmethod
    def _labour(
        rng: np.random.Generator,
        f: _Frame,
        *,
        schooling: IntArray,
        health: IntArray,
        grade: IntArray,
    ) -> IntArray:
        hh, age, cause = f.hh, f.age, f.cause
        group = np.select([age < 16, age < 60, age < 65, age < 75], [0, 1, 2, 3], 4)
        labour = categorical_by_group(rng, _LABOUR_P, group)
        n_p = hh.size
        able = (labour == L_NORMAL) | (labour == L_SKILLED)
        labour = np.where((health == CHRONIC) & able & (rng.random(n_p) < 0.6), L_WEAK, labour)
        labour = np.where((grade >= 3) & (labour != L_NONE), L_WEAK, labour)
        labour = np.where((health == SERIOUS) | ((grade >= 1) & (grade <= 2)), L_NONE, labour)
        able = (labour == L_NORMAL) | (labour == L_SKILLED)
        labour = np.where((cause[hh] == LABOUR) & able & (rng.random(n_p) < 0.8), L_WEAK, labour)
        labour = np.where((cause[hh] == SKILLS) & (labour == L_SKILLED), L_NORMAL, labour)
        labour = np.where(schooling == S_IN_SCHOOL, L_NONE, labour)
        return labour.astype(np.int64)

    @staticmethod
    def _employment(
        rng: np.random.Generator, f: _Frame, *, schooling: IntArray, labour: IntArray
    ) -> IntArray:
        hh, age, cause = f.hh, f.age, f.cause
        low_drive = (cause[hh] == DRIVE) | (cause[hh] == SKILLS)
        group = np.where(labour == L_WEAK, 2, np.where(low_drive, 1, 0))
        employment = categorical_by_group(rng, _EMPLOYMENT_P, group)
        employment = np.where((labour == L_NONE) | (age < 16), E_NONE, employment)
        employment = np.where(schooling == S_IN_SCHOOL, E_STUDENT, employment)
        return employment.astype(np.int64)


def _age_group(age: IntArray) -> IntArray:
    return np.searchsorted(np.array([6, 16, 19, 23, 40, 60]), age, side="right").astype(np.int64)


# Education by age group (0-5, 6-15, 16-18, 19-22, 23-39, 40-59, 60+), over SCHOOLINGS.
_SCHOOLING_P = (
    (0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    (0.015, 0.0, 0.0, 0.0, 0.0, 0.0, 0.985),
    (0.0, 0.03, 0.15, 0.0, 0.0, 0.0, 0.82),
    (0.0, 0.0, 0.27, 0.30, 0.05, 0.0, 0.38),
    (0.02, 0.10, 0.50, 0.27, 0.11, 0.0, 0.0),
    (0.08, 0.35, 0.45, 0.10, 0.02, 0.0, 0.0),
    (0.35, 0.45, 0.17, 0.03, 0.0, 0.0, 0.0),
)
# Labour ability by age group (<16, 16-59, 60-64, 65-74, 75+), over LABOURS.
_LABOUR_P = (
    (0.0, 0.0, 0.0, 1.0),
    (0.76, 0.14, 0.08, 0.02),
    (0.30, 0.02, 0.58, 0.10),
    (0.05, 0.0, 0.50, 0.45),
    (0.0, 0.0, 0.20, 0.80),
)
# Employment of working-age members: able, able but low drive or skills, weak; over EMPLOYMENTS.
_EMPLOYMENT_P = (
    (0.30, 0.17, 0.32, 0.05, 0.06, 0.0, 0.10),
    (0.35, 0.10, 0.20, 0.03, 0.07, 0.0, 0.25),
    (0.50, 0.05, 0.02, 0.01, 0.20, 0.0, 0.22),
)


def _person_rows(
    pop: Population,
    household_ids: list[str],
    ids: list[str],
    birth_iso: list[str],
    phones: list[str],
) -> list[Row]:
    member_no = rank_within_groups(pop.size) + 1
    relation = [RELATIONS[r].value for r in range(len(RELATIONS))]
    health = [h.value for h in HEALTHS]
    schooling = [s.value for s in SCHOOLINGS]
    labour = [x.value for x in LABOURS]
    employment = [e.value for e in EMPLOYMENTS]
    return [
        {
            "person_id": f"{household_ids[h]}-{m:02d}",
            "household_id": household_ids[h],
            "national_id": nid,
            "name": name,
            "sex": _SEX_VALUES[male],
            "birth_date": birth,
            "relation": relation[rel],
            "health": health[hl],
            "disability_grade": grade,
            "schooling": schooling[sc],
            "labour_ability": labour[lb],
            "employment": employment[em],
            "phone": phone,
        }
        for h, m, nid, name, male, birth, rel, hl, grade, sc, lb, em, phone in zip(
            pop.household.tolist(),
            member_no.tolist(),
            ids,
            pop.names,
            pop.male.tolist(),
            birth_iso,
            pop.relation.tolist(),
            pop.health.tolist(),
            pop.disability_grade.tolist(),
            pop.schooling.tolist(),
            pop.labour.tolist(),
            pop.employment.tolist(),
            phones,
            strict=True,
        )
    ]


def _household_rows(
    rng: np.random.Generator,
    county: CountyPlan,
    pop: Population,
    head_phone: list[str],
    town: IntArray,
) -> list[Row]:
    n_h = pop.size.size
    incomes = _incomes(rng, pop)
    spend_medical, spend_education = _spending(rng, pop)

    monitor = np.where(
        pop.status == MONITORED,
        categorical_by_group(
            rng,
            [
                (0.4, 0.35, 0.25)
                if c in (ILLNESS, DISABILITY)
                else (0.3, 0.3, 0.4)
                if c == DISASTER
                else (0.5, 0.4, 0.1)
                for c in range(len(CAUSES))
            ],
            pop.cause,
        ),
        -1,
    )
    registered = np.array([2014, 2015, 2016])[categorical(rng, (0.15, 0.10, 0.75), n_h)]
    exit_year = np.array([2016, 2017, 2018, 2019, 2020])[
        categorical(rng, (0.06, 0.16, 0.30, 0.33, 0.15), n_h)
    ]
    exit_year = np.maximum(exit_year, registered)

    villages = county.villages
    group_count = np.array([min(15, max(1, -(-v.households // 8))) for v in villages])
    group = uniform_int(rng, 1, group_count[pop.village], n_h)
    number = uniform_int(rng, 1, 60, n_h)
    village_names = [v.name for v in villages]
    village_codes = [v.code for v in villages]
    town_codes = [t.code for t in county.towns]

    others = _other_causes_text(pop.cause_flags, pop.cause)
    monitor_values = [m.value for m in MONITOR_TYPES]
    cause_values = [c.value for c in CAUSES]
    status_values = [st.value for st in STATUSES]
    per_capita = np.round(incomes.sum(axis=0) / pop.size, 2)
    town_codes_h = [town_codes[t] for t in town.tolist()]
    return [
        {
            "household_id": hid,
            "village_code": village_codes[v],
            "town_code": tc,
            "county_code": county.code,
            "city_code": county.city_code,
            "status": status_values[st],
            "monitor_type": monitor_values[mt] if mt >= 0 else "",
            "main_cause": cause_values[cause],
            "other_causes": other,
            "size": sz,
            "address": f"{village_names[v]}{grp}组{num}号",
            "phone": ph,
            "income_wage": wage,
            "income_farm": farm,
            "income_business": business,
            "income_transfer": transfer,
            "income_property": prop,
            "income_per_capita": pc,
            "spend_medical": med,
            "spend_education": edu,
            "housing_safe": hs,
            "water_safe": ws,
            "registered_year": reg,
            "exit_year": "" if st == POOR else ey,
        }
        for (
            hid,
            v,
            tc,
            st,
            mt,
            cause,
            other,
            sz,
            grp,
            num,
            ph,
            wage,
            farm,
            business,
            transfer,
            prop,
            pc,
            med,
            edu,
            hs,
            ws,
            reg,
            ey,
        ) in zip(
            pop.household_ids,
            pop.village.tolist(),
            town_codes_h,
            pop.status.tolist(),
            monitor.tolist(),
            pop.cause.tolist(),
            others,
            pop.size.tolist(),
            group.tolist(),
            number.tolist(),
            head_phone,
            *(col.tolist() for col in incomes),
            per_capita.tolist(),
            spend_medical,
            spend_education,
            pop.housing_safe.tolist(),
            pop.water_safe.tolist(),
            registered.tolist(),
            exit_year.tolist(),
            strict=True,
        )
    ]


def _other_causes_text(flags: BoolArray, main: IntArray) -> list[str]:
    """ ";"-joined secondary causes per household, via a cache keyed by the causes' bit pattern."""
    bits = (flags.astype(np.int64) << np.arange(flags.shape[1])).sum(axis=1)
    bits &= ~(np.int64(1) << main)
    cache: dict[int, str] = {}
    out: list[str] = []
    for b in bits.tolist():
        text = cache.get(b)
        if text is None:
            text = ";".join(c.value for j, c in enumerate(CAUSES) if b >> j & 1)
            cache[b] = text
        out.append(text)
    return out


def _count(pop: Population, mask: BoolArray) -> IntArray:
    return np.bincount(pop.household[mask], minlength=pop.size.size).astype(np.int64)


def _incomes(rng: np.random.Generator, pop: Population) -> IntArray:
    """Five income components (5 x H, yuan per year) whose per-capita sum fits the status.

    Exited households mostly sit well above the 6,000-yuan line, monitored ones near it and poor
    ones below it; the split follows what the members do.
    """
    n_h = pop.size.size
    per_capita = np.select(
        [pop.status == POOR, pop.status == MONITORED],
        [rng.uniform(2_500, 5_800, n_h), rng.uniform(4_500, 7_800, n_h)],
        rng.lognormal(np.log(12_500), 0.35, n_h),
    )
    employment = pop.employment
    n_wage = _count(pop, np.isin(employment, (E_LOCAL, E_MIGRANT, E_PUBLIC)))
    n_farm = _count(pop, employment == E_FARMING)
    n_self = _count(pop, employment == E_SELF)
    n_elderly = _count(pop, pop.age >= 60)
    n_disabled = _count(pop, pop.disability_grade > 0)
    n_student = _count(pop, employment == E_STUDENT)
    weights = np.vstack(
        [
            1.0 * n_wage + 0.05,
            0.45 * n_farm + 0.1,
            0.9 * n_self + 0.02,
            0.2
            + 0.25 * n_elderly
            + 0.2 * n_disabled
            + 0.1 * n_student
            + 0.3 * (pop.status != EXITED),
            np.full(n_h, 0.04),
        ]
    ) * rng.gamma(4.0, 0.25, (5, n_h))
    shares = weights / weights.sum(axis=0)
    incomes: IntArray = np.round(shares * per_capita * pop.size).astype(np.int64)
    return incomes


def _spending(rng: np.random.Generator, pop: Population) -> tuple[list[int], list[int]]:
    n_h = pop.size.size
    worst = np.zeros(n_h, dtype=np.int64)
    np.maximum.at(worst, pop.household, pop.health)
    medical = np.select(
        [worst == SERIOUS, worst == CHRONIC],
        [rng.lognormal(np.log(18_000), 0.6, n_h), rng.lognormal(np.log(3_500), 0.5, n_h)],
        rng.lognormal(np.log(400), 0.8, n_h),
    )
    student = pop.schooling == S_IN_SCHOOL
    per_student = np.where(pop.age <= 14, 800.0, np.where(pop.age <= 18, 3_000.0, 8_000.0))
    per_student = np.where(student, per_student * rng.lognormal(0.0, 0.3, pop.age.size), 0.0)
    preschool = np.where(pop.schooling == S_PRESCHOOL, rng.uniform(0, 1_500, pop.age.size), 0.0)
    education = np.bincount(pop.household, weights=per_student + preschool, minlength=n_h)
    return (
        (np.round(medical / 10) * 10).astype(np.int64).tolist(),
        (np.round(education / 10) * 10).astype(np.int64).tolist(),
    )

"""The region tree and how many households and persons live where, decided before any person exists.

The layout is cheap (no persons are drawn), so calibration to the seed figures can be checked at
province scale in a unit test, and every county's generation starts from its plan alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bangfu.vocabulary import PovertyCause, RegionLevel
from graph.synthetic.names import (
    COUNTY_HEAD,
    COUNTY_TAIL,
    TOWN_HEAD,
    TOWN_TAIL,
    VILLAGE_HEAD,
    VILLAGE_TAIL,
    place_names,
)
from graph.synthetic.sampling import IntArray, apportion, largest_remainder
from graph.synthetic.scales import (
    BIG_COUNTY_PERSONS,
    BIG_TOWN_PERSONS,
    CALIBRATION,
    MAIN_CAUSE_SHARES,
    Calibration,
    Scale,
)
from graph.synthetic.tables import Row

PROVINCE_CODE = "44"
PROVINCE_NAME = "广东省"

# The 14 prefecture-level cities of Guangdong that had registered poor households (real codes and
# names), with how many of the 97 county-level areas each holds (our split, roughly as in reality).
CITIES: tuple[tuple[str, str, int], ...] = (
    ("4402", "韶关市", 10),
    ("4405", "汕头市", 7),
    ("4407", "江门市", 7),
    ("4408", "湛江市", 10),
    ("4409", "茂名市", 7),
    ("4412", "肇庆市", 8),
    ("4414", "梅州市", 9),
    ("4415", "汕尾市", 5),
    ("4416", "河源市", 6),
    ("4417", "阳江市", 5),
    ("4418", "清远市", 8),
    ("4451", "潮州市", 4),
    ("4452", "揭阳市", 6),
    ("4453", "云浮市", 5),
)

# Order in which causes are counted; PovertyCause's declaration order, fixed for determinism.
CAUSES: tuple[PovertyCause, ...] = tuple(PovertyCause)

# Independent random streams of one seed: the layout, the first batch's helpers, and one per county.
STREAM_LAYOUT = 0
STREAM_PROVINCE_HELPERS = 1
STREAM_COUNTY = 2
# Yearly panels draw from a stream of their own, so adding them left every other table as it was.
STREAM_PANELS = 3

_BIG_TOWN_MAX = 7_500
_TOWN_MIN_PERSONS = 200
_MAX_TOWNS_PER_COUNTY = 30
# Households per town lie between persons / 4.5 and persons / 1.6, so every town's exact person
# count can be met with household sizes 1-8.
_MAX_MEAN_SIZE = 4.5
_MIN_MEAN_SIZE = 1.6
_VILLAGE_MIN_HOUSEHOLDS = 8


@dataclass(frozen=True)
class VillagePlan:
    code: str
    name: str
    households: int


@dataclass(frozen=True)
class TownPlan:
    code: str
    name: str
    persons: int
    households: int
    villages: tuple[VillagePlan, ...]


@dataclass(frozen=True)
class CountyPlan:
    index: int
    code: str
    name: str
    city_code: str
    city_name: str
    towns: tuple[TownPlan, ...]
    # Households per main cause, in CAUSES order.
    cause_counts: tuple[int, ...]

    @property
    def persons(self) -> int:
        return sum(t.persons for t in self.towns)

    @property
    def households(self) -> int:
        return sum(t.households for t in self.towns)

    @property
    def villages(self) -> tuple[VillagePlan, ...]:
        return tuple(v for t in self.towns for v in t.villages)


@dataclass(frozen=True)
class CityPlan:
    code: str
    name: str


@dataclass(frozen=True)
class Layout:
    scale: Scale
    seed: int
    cities: tuple[CityPlan, ...]
    counties: tuple[CountyPlan, ...]

    @property
    def persons(self) -> int:
        return sum(c.persons for c in self.counties)

    @property
    def households(self) -> int:
        return sum(c.households for c in self.counties)

    @property
    def town_count(self) -> int:
        return sum(len(c.towns) for c in self.counties)

    @property
    def village_count(self) -> int:
        return sum(len(t.villages) for c in self.counties for t in c.towns)

    def region_rows(self) -> list[Row]:
        """Every region, parents before children."""
        rows: list[Row] = [
            _region(PROVINCE_CODE, PROVINCE_NAME, RegionLevel.PROVINCE, ""),
        ]
        rows += [_region(c.code, c.name, RegionLevel.CITY, PROVINCE_CODE) for c in self.cities]
        rows += [_region(c.code, c.name, RegionLevel.COUNTY, c.city_code) for c in self.counties]
        for county in self.counties:
            rows += [_region(t.code, t.name, RegionLevel.TOWN, county.code) for t in county.towns]
        for county in self.counties:
            for town in county.towns:
                rows += [
                    _region(v.code, v.name, RegionLevel.VILLAGE, town.code) for v in town.villages
                ]
        return rows


def _region(code: str, name: str, level: RegionLevel, parent: str) -> Row:
    return {"code": code, "name": name, "level": level.value, "parent_code": parent}


def province_layout(seed: int) -> Layout:
    """The province's regions and per-county / per-town / per-village counts, without persons."""
    return build_layout(Scale.PROVINCE, seed)


def build_layout(scale: Scale, seed: int) -> Layout:
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    cal = CALIBRATION[scale]
    rng = np.random.default_rng([seed, STREAM_LAYOUT])

    if scale is Scale.PROVINCE:
        chosen = list(range(len(CITIES)))
        per_city = [n for _, _, n in CITIES]
    else:
        chosen = [int(rng.integers(len(CITIES)))]
        per_city = [cal.counties]
    cities = tuple(CityPlan(CITIES[i][0], CITIES[i][1]) for i in chosen)
    county_codes, county_cities = _county_codes(rng, cities, per_city)
    n_counties = len(county_codes)
    assert n_counties == cal.counties and len(cities) == cal.cities

    # Big counties are rural counties (县, code suffix >= 21), as in reality.
    rural = [i for i, code in enumerate(county_codes) if int(code[4:]) >= 21]
    big = np.zeros(n_counties, dtype=bool)
    if cal.big_counties:
        big[rng.choice(np.array(rural), size=cal.big_counties, replace=False)] = True
    county_persons = _county_persons(rng, cal, big)
    towns_per_county = _towns_per_county(rng, cal, county_persons, big)
    town_persons = np.concatenate(
        [
            _town_persons(rng, cal, int(p), int(t), bool(b))
            for p, t, b in zip(county_persons, towns_per_county, big, strict=True)
        ]
    )
    town_county = np.repeat(np.arange(n_counties), towns_per_county)

    mean_size = rng.uniform(2.45, 2.8, n_counties)[town_county]
    town_households = apportion(
        cal.households,
        town_persons / mean_size,
        lo=np.ceil(town_persons / _MAX_MEAN_SIZE),
        hi=np.floor(town_persons / _MIN_MEAN_SIZE),
    )
    village_hi = np.maximum(1, town_households // (_VILLAGE_MIN_HOUSEHOLDS + 4))
    villages_per_town = apportion(
        cal.villages,
        town_persons**0.85 * rng.lognormal(0.0, 0.2, town_persons.size),
        lo=np.minimum(min(3, cal.villages // town_persons.size), village_hi),
        hi=village_hi,
    )

    county_households = np.bincount(town_county, weights=town_households).astype(np.int64)
    cause_counts = _cause_counts(county_households)

    county_names = _county_names(rng, county_codes)
    counties: list[CountyPlan] = []
    town_index = 0
    for ci, code in enumerate(county_codes):
        n_towns = int(towns_per_county[ci])
        town_codes = _child_codes(rng, code, n_towns, first=100, last=199)
        town_names = place_names(rng, TOWN_HEAD, TOWN_TAIL, n_towns, "镇")
        towns: list[TownPlan] = []
        for ti in range(n_towns):
            t = town_index + ti
            n_villages = int(villages_per_town[t])
            households = int(town_households[t])
            village_households = apportion(
                households,
                rng.lognormal(0.0, 0.45, n_villages),
                lo=min(_VILLAGE_MIN_HOUSEHOLDS, households // n_villages),
                hi=households,
            )
            village_codes = _child_codes(rng, town_codes[ti], n_villages, first=200, last=399)
            village_names = place_names(rng, VILLAGE_HEAD, VILLAGE_TAIL, n_villages, "村")
            villages = tuple(
                VillagePlan(vc, vn, int(vh))
                for vc, vn, vh in zip(village_codes, village_names, village_households, strict=True)
            )
            towns.append(
                TownPlan(town_codes[ti], town_names[ti], int(town_persons[t]), households, villages)
            )
        town_index += n_towns
        city = cities[county_cities[ci]]
        counties.append(
            CountyPlan(
                index=ci,
                code=code,
                name=county_names[ci],
                city_code=city.code,
                city_name=city.name,
                towns=tuple(towns),
                cause_counts=tuple(int(x) for x in cause_counts[ci]),
            )
        )
    return Layout(scale=scale, seed=seed, cities=cities, counties=tuple(counties))


def _county_codes(
    rng: np.random.Generator, cities: tuple[CityPlan, ...], per_city: list[int]
) -> tuple[list[str], list[int]]:
    """County codes per city: a few districts (区, suffix 02-09) then rural counties (县, 21-79)."""
    codes: list[str] = []
    owner: list[int] = []
    for ci, (city, n) in enumerate(zip(cities, per_city, strict=True)):
        districts = min(n - 1, int(rng.integers(1, 4))) if n > 1 else 0
        suffixes = list(range(2, 2 + districts))
        suffixes += sorted(
            rng.choice(np.arange(21, 80), size=n - districts, replace=False).tolist()
        )
        codes += [f"{city.code}{s:02d}" for s in suffixes]
        owner += [ci] * n
    return codes, owner


def _county_names(rng: np.random.Generator, codes: list[str]) -> list[str]:
    names = place_names(rng, COUNTY_HEAD, COUNTY_TAIL, len(codes), "")
    return [n + ("区" if int(c[4:]) < 21 else "县") for n, c in zip(names, codes, strict=True)]


def _child_codes(rng: np.random.Generator, parent: str, n: int, first: int, last: int) -> list[str]:
    """`n` sorted distinct 3-digit child codes in [first, last], with the gaps real codes have."""
    span = last - first + 1
    # Mostly consecutive numbering with a few gaps, as in real division code lists.
    width = min(span, n + max(1, n // 5))
    picks = np.sort(rng.choice(width, size=n, replace=False)) + first
    return [f"{parent}{p:03d}" for p in picks.tolist()]


def _county_persons(rng: np.random.Generator, cal: Calibration, big: np.ndarray) -> IntArray:
    persons = np.zeros(big.size, dtype=np.int64)
    persons[big] = rng.integers(BIG_COUNTY_PERSONS, 60_001, int(big.sum()))
    rest = cal.persons - int(persons.sum())
    small = ~big
    n_small = int(small.sum())
    persons[small] = apportion(
        rest,
        rng.lognormal(0.0, 0.45, n_small),
        lo=min(4_000, rest // n_small),
        hi=BIG_COUNTY_PERSONS - 1,
    )
    return persons


def _towns_per_county(
    rng: np.random.Generator, cal: Calibration, persons: IntArray, big: np.ndarray
) -> IntArray:
    # Enough towns that ordinary towns stay under BIG_TOWN_PERSONS with room to spare.
    lo = np.where(
        big,
        cal.big_towns_per_big_county
        + np.ceil((persons - cal.big_towns_per_big_county * BIG_TOWN_PERSONS) / 4_000),
        np.ceil(persons / 4_000),
    ).astype(np.int64)
    lo = np.minimum(lo, cal.towns)
    hi = np.maximum(lo, np.minimum(_MAX_TOWNS_PER_COUNTY, persons // (_TOWN_MIN_PERSONS * 2)))
    weights = persons.astype(np.float64) ** 0.8 * rng.lognormal(0.0, 0.15, persons.size)
    return apportion(cal.towns, weights, lo, hi)


def _town_persons(
    rng: np.random.Generator, cal: Calibration, persons: int, towns: int, big: bool
) -> IntArray:
    n_big = cal.big_towns_per_big_county if big else 0
    out = np.zeros(towns, dtype=np.int64)
    out[:n_big] = rng.integers(BIG_TOWN_PERSONS, _BIG_TOWN_MAX + 1, n_big)
    rest = persons - int(out.sum())
    n_rest = towns - n_big
    out[n_big:] = apportion(
        rest,
        rng.lognormal(0.0, 0.5, n_rest),
        lo=min(_TOWN_MIN_PERSONS, rest // n_rest),
        hi=min(BIG_TOWN_PERSONS - 1, rest),
    )
    # Big towns are not always the first ones listed.
    return rng.permutation(out)


def _cause_counts(county_households: IntArray) -> IntArray:
    """Households per main cause per county, exact by largest remainder at every level.

    Apportioning the running total of households and differencing keeps each county within two
    households of its own quota per cause, while the province total is itself an exact quota.
    """
    shares = [MAIN_CAUSE_SHARES[c] for c in CAUSES]
    cumulative = np.cumsum(county_households)
    running = np.array([largest_remainder(int(n), shares) for n in cumulative])
    counts = np.diff(running, axis=0, prepend=np.zeros((1, len(CAUSES)), dtype=np.int64))
    if (counts < 0).any():
        raise AssertionError("cause apportionment went negative; counties too small")
    return counts


def households_by_cause_total(layout: Layout) -> dict[PovertyCause, int]:
    totals = np.sum([c.cause_counts for c in layout.counties], axis=0)
    return {cause: int(n) for cause, n in zip(CAUSES, totals, strict=True)}

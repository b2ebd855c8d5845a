"""Scales the generator runs at, and the seed document's figures each one is calibrated to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bangfu.vocabulary import PovertyCause


class Scale(StrEnum):
    VILLAGE = "village"
    COUNTY = "county"
    PROVINCE = "province"


@dataclass(frozen=True)
class Calibration:
    """Target counts of one scale; the layout hits every one of them exactly."""

    cities: int
    counties: int
    towns: int
    villages: int
    households: int
    persons: int
    # Skew of the seed: this many counties reach big_county_persons, and this many towns (all in
    # big counties) reach big_town_persons; every other county and town stays below.
    big_counties: int = 0
    big_towns_per_big_county: int = 0


BIG_COUNTY_PERSONS = 40_000
BIG_TOWN_PERSONS = 5_000

CALIBRATION: dict[Scale, Calibration] = {
    Scale.PROVINCE: Calibration(
        cities=14,
        counties=97,
        towns=1_112,
        villages=16_483,
        households=664_000,
        persons=1_731_000,
        big_counties=10,
        big_towns_per_big_county=3,
    ),
    # One county at the province's average of 2.607 persons per household.
    Scale.COUNTY: Calibration(
        cities=1, counties=1, towns=11, villages=170, households=6_850, persons=17_858
    ),
    Scale.VILLAGE: Calibration(
        cities=1, counties=1, towns=1, villages=1, households=40, persons=104
    ),
}

# The province's villages; smaller scales get helpers in proportion to their villages.
PROVINCE_VILLAGES = CALIBRATION[Scale.PROVINCE].villages

# Main-cause shares of households (seed document). The seed names the top five and gives the
# remaining 11.2% to "disaster, marriage, land, water, skills, transport ..."; the split of that
# remainder among our six other causes is our choice.
MAIN_CAUSE_SHARES: dict[PovertyCause, float] = {
    PovertyCause.ILLNESS: 36.2,
    PovertyCause.LACK_OF_LABOUR: 23.3,
    PovertyCause.DISABILITY: 19.9,
    PovertyCause.SCHOOLING: 4.9,
    PovertyCause.LACK_OF_FUNDS: 4.5,
    PovertyCause.DISASTER: 2.4,
    PovertyCause.LACK_OF_SKILLS: 3.2,
    PovertyCause.LACK_OF_DRIVE: 2.4,
    PovertyCause.LACK_OF_LAND: 1.4,
    PovertyCause.POOR_TRANSPORT: 1.0,
    PovertyCause.LACK_OF_WATER: 0.8,
}

# The day the synthetic data describes: ages are taken at this date, needs are created in
# 2025 and 2026 up to it, and nothing is fulfilled after it.
AS_OF = date(2026, 3, 31)
NEEDS_FROM = date(2025, 1, 1)

# Helper counts at province scale: ~2,000 enterprises and ~1,500 charities (scaled down with the
# villages of smaller scales). Helper units (one per 2.5 villages on average) and the women's and
# disabled persons' federations (one per county, city and the province) follow the regions.
PROVINCE_ENTERPRISES = 2_000
PROVINCE_CHARITIES = 1_500

"""Format-valid synthetic national IDs and mobile numbers, unique across a whole generated province.

Uniqueness must not need a province-wide registry (counties are generated independently), so each
county owns a disjoint slice of the number space: national IDs carry the county code, and phones
carry a county-specific 4-digit segment after the network prefix, as real numbers carry an
area-assigned "H segment".
"""

from __future__ import annotations

from datetime import date

import numpy as np

from bangfu.identity import make_national_id
from graph.synthetic.sampling import BoolArray, IntArray

# Mainland network prefixes (China Mobile, Unicom, Telecom) the generator hands out.
PHONE_PREFIXES: tuple[int, ...] = (
    *range(130, 140),
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    *range(180, 190),
    199,
)
_SEGMENTS_PER_COUNTY = 50
# Residents draw from the first segments of their county's block, cadres from the rest, so the
# two draws can never collide.
_RESIDENT_SEGMENTS = 40
_FIRST_SEGMENT = 1_000
_MAX_COUNTIES = (10_000 - _FIRST_SEGMENT) // _SEGMENTS_PER_COUNTY


def draw_phones(
    rng: np.random.Generator, county_index: int, n: int, *, cadres: bool = False
) -> list[str]:
    """`n` distinct mobile numbers from the county's block (residents' or cadres' part)."""
    if not 0 <= county_index < _MAX_COUNTIES:
        raise ValueError("county index out of the phone numbering plan")
    segments = _SEGMENTS_PER_COUNTY - _RESIDENT_SEGMENTS if cadres else _RESIDENT_SEGMENTS
    first = _FIRST_SEGMENT + county_index * _SEGMENTS_PER_COUNTY
    if cadres:
        first += _RESIDENT_SEGMENTS
    space = len(PHONE_PREFIXES) * segments * 10_000
    picks = rng.choice(space, size=n, replace=False)
    prefix = np.asarray(PHONE_PREFIXES)[picks // (segments * 10_000)]
    segment = first + (picks // 10_000) % segments
    line = picks % 10_000
    numbers = prefix.astype(np.int64) * 100_000_000 + segment * 10_000 + line
    return [str(x) for x in numbers.tolist()]


# Sequence numbers 001-997 (odd, male) and 002-998 (even, female): 499 per sex and birth date.
_SEQUENCES_PER_SEX = 499


def national_ids(
    rng: np.random.Generator, county_code: str, birth_days: IntArray, male: BoolArray
) -> list[str]:
    """One ID per person, unique within the county and therefore within the province.

    `birth_days` are proleptic Gregorian ordinals. Persons sharing a birth date and sex get
    consecutive sequence numbers from a random starting point, so no two collide.
    """
    n = birth_days.size
    key = birth_days.astype(np.int64) * 2 + male.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = sorted_key[1:] != sorted_key[:-1]
    group = np.cumsum(new_group) - 1
    first = np.flatnonzero(new_group)
    rank = np.arange(n) - first[group]
    if n and int(rank.max()) >= _SEQUENCES_PER_SEX:
        raise ValueError("too many persons share a birth date and sex in one county")
    offset = rng.integers(0, _SEQUENCES_PER_SEX, first.size)[group]
    slot = np.empty(n, dtype=np.int64)
    slot[order] = (offset + rank) % _SEQUENCES_PER_SEX
    sequence = 2 * slot + np.where(male, 1, 2)
    return [
        make_national_id(county_code, date.fromordinal(d), s)
        for d, s in zip(birth_days.tolist(), sequence.tolist(), strict=True)
    ]

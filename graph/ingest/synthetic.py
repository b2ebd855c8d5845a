"""Synthetic department files for tests and benchmarks: rows of any declared department source,
format-valid and consistent with every rule validation checks (ID birth date and sex, ordered
dates, certificate numbers, credit-code check characters), deterministic for a seed.

People are either given (national IDs of members already in the graph, so records match) or
made up: unique IDs enumerated from a county code, birth date and sequence number.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

from bangfu.identity import make_national_id
from graph.ingest.schemas import DISABILITY_TYPE_DIGITS, SOURCES, Column, Kind, SourceSchema
from graph.ingest.validation import credit_code_check

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆"
_CREDIT = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"
_FIRST_BIRTH = date(1940, 1, 1)
# Sequence numbers 001-999 per birth date: IDs enumerate (birth date, sequence) pairs.
_PER_DAY = 999


def synthetic_national_ids(county_code: str, count: int, offset: int = 0) -> Iterator[str]:
    """`count` distinct valid IDs of people born 1940-2020 in `county_code`."""
    span = (date(2020, 12, 31) - _FIRST_BIRTH).days
    for i in range(offset, offset + count):
        day, seq = divmod(i, _PER_DAY)
        # Spread consecutive numbers over the years (a stride coprime with the span).
        birth = _FIRST_BIRTH + timedelta(days=(day * 7_919) % span)
        yield make_national_id(county_code, birth, seq + 1)


def _name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _credit_code(rng: random.Random) -> str:
    first = "92" + "".join(rng.choice("0123456789") for _ in range(6))
    first += "".join(rng.choice(_CREDIT) for _ in range(9))
    return first + credit_code_check(first)


def _date_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def _value(col: Column, rng: random.Random, today: date, regions: Sequence[str]) -> object:
    kind = col.kind
    if kind is Kind.TEXT:
        if col.name == "name":
            return _name(rng)
        return f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}{col.zh[:2]}{rng.randrange(1, 99)}号"
    if kind in (Kind.REGION, Kind.VILLAGE):
        return rng.choice(regions)
    if kind is Kind.DATE:
        return _date_between(rng, date(2015, 1, 1), today)
    if kind in (Kind.NUMBER, Kind.INTEGER):
        low = col.minimum or 0
        high = min(col.maximum or 10_000, 5_000 if kind is Kind.NUMBER else col.maximum or 10)
        if kind is Kind.INTEGER:
            return rng.randint(int(low), int(high))
        return round(rng.uniform(low, high), 2)
    if kind is Kind.CHOICE:
        return rng.choice(col.choices)
    if kind is Kind.BOOL:
        return rng.random() < 0.5
    if kind is Kind.CREDIT_CODE:
        return _credit_code(rng)
    if kind is Kind.KEY:
        if col.name == "plate_no":
            tail = "".join(rng.choice("0123456789") for _ in range(5))
            return "粤" + rng.choice(_PLATE_LETTERS) + tail
        return f"{col.name[:2].upper()}{rng.randrange(10**11):011d}"
    return ""


def department_rows(
    source: str,
    national_ids: Sequence[str],
    regions: Sequence[str],
    seed: int = 1,
    today: date | None = None,
) -> Iterator[dict[str, object]]:
    """One valid row per national ID for `source` (a department source)."""
    schema = SOURCES[source]
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    day = today or date.today()
    for nid in national_ids:
        row = {c.name: _value(c, rng, day, regions) for c in schema.columns}
        row["national_id"] = nid
        _make_consistent(schema, row, rng, day)
        yield row


def department_row(
    source: str,
    national_id: str,
    region: str,
    rng: random.Random,
    today: date,
    facts: dict[str, object],
) -> dict[str, object]:
    """One valid row of `source` about `national_id` with the given facts; every other column
    is drawn, and made consistent with the given ones (a given date is never moved)."""
    schema = SOURCES[source]
    row = {c.name: _value(c, rng, today, (region,)) for c in schema.columns}
    row["national_id"] = national_id
    row.update(facts)
    _make_consistent(schema, row, rng, today, fixed=frozenset(facts))
    return row


def _make_consistent(
    schema: SourceSchema,
    row: dict[str, object],
    rng: random.Random,
    today: date,
    fixed: frozenset[str] = frozenset(),
) -> None:
    nid = str(row["national_id"])
    born = date(int(nid[6:10]), int(nid[10:12]), int(nid[12:14]))
    for check in schema.checks:
        cols = check.columns
        if check.name == "matches_national_id":
            row["birth_date"] = born
            row["sex"] = "male" if int(nid[16]) % 2 else "female"
        elif check.name == "dates_ordered" and cols[1] not in fixed:
            first, then = cols
            start = row[first]
            if isinstance(start, date):
                row[then] = (
                    None if rng.random() < 0.6 else _date_between(rng, start, today + timedelta(1))
                )
        elif check.name == "parts_within_total" and not fixed & set(cols):
            total, *parts = cols
            amount = float(str(row[total]))
            share = rng.uniform(0.3, 0.8)
            row[parts[0]] = round(amount * share, 2)
            row[parts[1]] = round(amount - float(str(row[parts[0]])), 2)
        elif check.name == "certificate_matches":
            kind = str(row["disability_type"])
            row["certificate_no"] = nid + DISABILITY_TYPE_DIGITS[kind] + str(row["grade"])
    for col in schema.columns:
        value = row[col.name]
        if (
            col.kind is Kind.DATE
            and col.past_only
            and isinstance(value, date)
            and (col.name not in fixed)
        ):
            row[col.name] = min(value, today)


def write_rows(
    path: Path,
    schema: SourceSchema,
    rows: Iterator[dict[str, object]] | Sequence[dict[str, object]],
    encoding: str = "utf-8",
    chinese_headers: bool = False,
) -> int:
    """Write rows as CSV (dates ISO, booleans true/false, None empty); returns rows written."""
    count = 0
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.zh if chinese_headers else c.name for c in schema.columns])
        for row in rows:
            writer.writerow([_cell(row.get(c.name)) for c in schema.columns])
            count += 1
    return count


def append_rows(path: Path, schema: SourceSchema, rows: Sequence[dict[str, object]]) -> int:
    """Append rows to a CSV file, writing the header first when the file is new (a file built
    county by county without holding the province's rows)."""
    new = not path.exists()
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow([c.name for c in schema.columns])
        for row in rows:
            writer.writerow([_cell(row.get(c.name)) for c in schema.columns])
    return len(rows)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, date):
        return value.isoformat()
    return value

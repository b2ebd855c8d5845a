"""Offline load of the synthetic province with `neo4j-admin database import full`.

The driver path (graph/bulk_load.py) sends every row through Cypher; this path writes the same
rows as neo4j-admin CSV files and lets the import tool build the store files directly, with
Neo4j stopped. The node properties and relationships are exactly those of the driver path:
every row goes through the same `RowConverter` (same names, same values, identifiers sealed by
the same PiiVault with the same keyed hashes), households get their yearly panels from the same
RiskRepository.save_panel_rows, needs the urgency_rank INSERT_NEEDS derives, and a typed header
fixes each property's type to the one the driver path stores (Python int -> long, float ->
double, date -> date, list -> string[]). A value of another type stops the write instead of
silently changing a type. tests/integration/test_admin_import.py compares every node and
relationship of a village loaded both ways, so a change on the driver path shows up there.

Steps (bench/admin_import.py runs them, tests/integration/test_admin_import.py checks them):

1. `write_import_files`: stream the generator's batches into CSV parts, one file per node label
   or relationship group and batch (the province never sits in memory; two worker processes
   convert and seal in parallel, as sealing is most of the cost).
2. `run_import`: with Neo4j stopped, run the import tool from the Neo4j jars we already download
   into the embedded store's home (<state>/neo4j, see ops/neo4j/Launcher.java); it writes
   <home>/data/databases/neo4j and <home>/data/transactions/neo4j, which
   DatabaseManagementServiceBuilder(home) opens.
3. `finish_import`, with Neo4j started: set the empty lists CSV cannot express, then
   `apply_schema` (constraints and indexes are built after the import).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

from graph.bulk_load import BatchLike, Row, RowConverter
from graph.client import GraphClient, translated_errors
from graph.labels import Label, Rel
from graph.models import PANEL_FIELDS
from graph.pii import PiiVault
from graph.repositories.risk import PANEL_PREFIX, SAVE_PANELS, RiskRepository
from graph.schema import MARKET_SCOPE_KEYS, apply_schema
from graph.synthetic.panels import LABEL_YEAR, PANEL_YEARS

# --- what is written: one node file set per label, one relationship file set per group ---------


class Kind(StrEnum):
    """neo4j-admin header types, named for what the driver path stores: a Python int arrives in
    Cypher as a 64-bit INTEGER (long) and a float as a FLOAT (double)."""

    STRING = "string"
    LONG = "long"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"
    STRINGS = "string[]"


def _props(spec: str) -> tuple[tuple[str, Kind], ...]:
    """Properties in header order, each `name` (a string) or `name:type`."""
    pairs = (item.partition(":") for item in spec.split())
    return tuple((name, Kind(kind or Kind.STRING)) for name, _, kind in pairs)


@dataclass(frozen=True)
class NodeSpec:
    """A generator table as nodes: `key` is the import ID (stored as a property, as the driver
    path stores it) and `properties` every other key RowConverter produces for the table."""

    table: str
    label: Label
    key: str
    properties: tuple[tuple[str, Kind], ...]
    # Properties a row may lack (left out of the node, as the driver path leaves them unset).
    optional: frozenset[str] = frozenset()

    def header(self) -> str:
        columns = [f"{self.key}:ID({self.label.value})"]
        columns += [f"{name}:{kind.value}" for name, kind in self.properties]
        return ",".join(columns) + "\n"


# Households' yearly panels, one property per complete year on the household node (the
# generator's LABEL_YEAR, 2026, is not over on its AS_OF date and is left out, as BulkLoader does).
# Their values are whatever RiskRepository.save_panel_rows sets (now a text of PANEL_FIELDS).
PANEL_COLUMNS = tuple(f"{PANEL_PREFIX}{year}" for year in PANEL_YEARS if year < LABEL_YEAR)

# RowConverter's output per table, typed as the generator's values arrive: counts and yuan amounts
# are ints, per-capita income a float (a value of another type stops the write, see _node_lines).
NODES: tuple[NodeSpec, ...] = (
    NodeSpec("regions", Label.REGION, "code", _props("name level parent_code")),
    NodeSpec(
        "helpers",
        Label.HELPER,
        "id",
        _props(
            "kind name description capabilities:string[] service_regions:string[] "
            "capacity:long home_region_code"
        ),
    ),
    NodeSpec(
        "households",
        Label.HOUSEHOLD,
        "id",
        _props(
            "village_code town_code county_code city_code status monitor_type main_cause "
            "other_causes:string[] size:long address income_wage:long income_farm:long "
            "income_business:long income_transfer:long income_property:long "
            "income_per_capita:double spend_medical:long spend_education:long "
            "housing_safe:boolean water_safe:boolean registered_year:long exit_year:long "
            "phone_enc phone_hash " + " ".join(PANEL_COLUMNS)
        ),
        optional=frozenset(PANEL_COLUMNS),
    ),
    NodeSpec(
        "persons",
        Label.PERSON,
        "id",
        _props(
            "household_id name sex birth_date:date relation health disability_grade:long "
            "schooling labour_ability employment national_id_enc national_id_hash "
            "phone_enc phone_hash"
        ),
    ),
    NodeSpec(
        "cadres",
        Label.CADRE,
        "id",
        _props("name role village_code unit_helper_id phone_enc phone_hash"),
    ),
    NodeSpec(
        "needs",
        Label.NEED,
        "id",
        _props(
            "household_id village_code category kind title text amount:long urgency status "
            "created_at:date claimed_by fulfilled_at:date urgency_rank:long province_code "
            "city_code county_code"
        ),
    ),
    NodeSpec(
        "projects",
        Label.PROJECT,
        "id",
        _props(
            "name type stage county_code village_code fund_source funds_allocated:long "
            "funds_disbursed:long managing_body operating_body supervising_body "
            "start_date:date budget:long progress_pct:long approved_at:date "
            "last_milestone_at:date"
        ),
    ),
    NodeSpec(
        "project_milestones",
        Label.PROJECT_MILESTONE,
        "id",
        _props("project_id seq:long name planned_date:date achieved_date:date progress_pct:long"),
    ),
    NodeSpec(
        "project_funds",
        Label.PROJECT_FUND,
        "id",
        _props("project_id source allocated:long disbursed:long"),
    ),
)


@dataclass(frozen=True)
class RelSpec:
    start: Label
    type: Rel
    end: Label

    @property
    def group(self) -> str:
        return f"{self.start.value}-{self.type.value}-{self.end.value}"

    def header(self) -> str:
        return f":START_ID({self.start.value}),:END_ID({self.end.value}),:TYPE\n"


# What each repository's bulk Cypher creates (graph/repositories/*.py).
PART_OF = RelSpec(Label.REGION, Rel.PART_OF, Label.REGION)
SERVES = RelSpec(Label.HELPER, Rel.SERVES, Label.REGION)
IN_VILLAGE = RelSpec(Label.HOUSEHOLD, Rel.IN_VILLAGE, Label.REGION)
MEMBER_OF = RelSpec(Label.PERSON, Rel.MEMBER_OF, Label.HOUSEHOLD)
STATIONED_IN = RelSpec(Label.CADRE, Rel.STATIONED_IN, Label.REGION)
FROM_UNIT = RelSpec(Label.CADRE, Rel.FROM_UNIT, Label.HELPER)
HELPER_PAIRED = RelSpec(Label.HELPER, Rel.PAIRED_WITH, Label.HOUSEHOLD)
CADRE_PAIRED = RelSpec(Label.CADRE, Rel.PAIRED_WITH, Label.HOUSEHOLD)
HAS_NEED = RelSpec(Label.HOUSEHOLD, Rel.HAS_NEED, Label.NEED)
CLAIMED = RelSpec(Label.HELPER, Rel.CLAIMED, Label.NEED)
IN_REGION = RelSpec(Label.PROJECT, Rel.IN_REGION, Label.REGION)
BENEFITS = RelSpec(Label.PROJECT, Rel.BENEFITS, Label.HOUSEHOLD)
RELATIONSHIPS: tuple[RelSpec, ...] = (
    PART_OF,
    SERVES,
    IN_VILLAGE,
    MEMBER_OF,
    STATIONED_IN,
    FROM_UNIT,
    HELPER_PAIRED,
    CADRE_PAIRED,
    HAS_NEED,
    CLAIMED,
    IN_REGION,
    BENEFITS,
)

# The keys every other writer derives in Cypher (DERIVE_NEED_KEYS, graph/schema.py): the
# urgency sort key (critical first, anything else last) and the village code's prefixes.
URGENCY_RANK = {"critical": 0, "high": 1, "normal": 2}
URGENCY_RANK_OTHER = 3

# Tables the writer reads; helper_truth the driver path never loads either, and leaving it out
# keeps it off the pipe to the workers.
TABLES = (
    "regions",
    "helpers",
    "households",
    "persons",
    "cadres",
    "helper_pairings",
    "cadre_pairings",
    "needs",
    "projects",
    "project_beneficiaries",
    "project_milestones",
    "project_funds",
    "household_years",
)

# --- columns -----------------------------------------------------------------------------------
# A batch is written column by column: each column's types are checked and its values turned
# into text in one pass, then the C csv writer joins and quotes the rows. That keeps the Python
# work per value small (the province: 3.1M nodes, 50M property values).


class ValueTypeError(TypeError):
    """A converted value whose type is not the column's: the CSV would store another type than
    the driver path does, so the write stops."""


_NONE = type(None)
# Compared with `type(v) is`, never isinstance: a bool must not pass as a long.
_TYPES: dict[Kind, type] = {
    Kind.STRING: str,
    Kind.LONG: int,
    Kind.DOUBLE: float,
    Kind.BOOLEAN: bool,
    Kind.DATE: date,
    Kind.STRINGS: list,
}
# The import tool reads anything but lower-case "true" as false (measured: TRUE -> false).
_BOOLEAN_TEXT: dict[object, str | None] = {True: "true", False: "false", None: None}


def _strings_text(value: list[str] | None) -> str | None:
    if not value:
        # An empty list becomes no property: CSV has no way to write an empty array (measured:
        # "", unquoted and quoted, gives none; ";" gives ["", ""]). finish_import sets [].
        return None
    if set(map(type, value)) != {str} or "" in value or any(";" in item for item in value):
        raise ValueTypeError(value)
    return ";".join(value)


def _column_text(spec: NodeSpec, name: str, kind: Kind, values: list[Any]) -> list[Any]:
    """The column as the csv writer should write it: None (no property) stays None, an unquoted
    empty field; numbers stay numbers (csv writes str(int) and repr(float))."""
    odd = set(map(type, values)) - {_TYPES[kind], _NONE}
    if odd:
        example = next(v for v in values if type(v) in odd)
        raise ValueTypeError(
            f"{spec.table}.{name} = {example!r} is not a {kind.value}; the driver path would "
            "store another type: update NODES in graph/admin_import.py"
        )
    if kind is Kind.STRING:
        if "" in values:
            # Unquoted, "" would be no property where the driver path stores an empty string.
            raise ValueTypeError(f"{spec.table}.{name}: an empty string cannot be written")
        return values
    if kind in (Kind.LONG, Kind.DOUBLE):
        return values
    if kind is Kind.BOOLEAN:
        return list(map(_BOOLEAN_TEXT.__getitem__, values))
    if kind is Kind.DATE:
        return [None if v is None else v.isoformat() for v in values]
    try:
        return list(map(_strings_text, values))
    except ValueTypeError as exc:
        raise ValueTypeError(f"{spec.table}.{name} = {exc} is not a {kind.value}") from None


def _csv_text(rows: Iterable[Sequence[Any]], count: int, what: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    if text.count("\n") != count or "\r" in text:
        # Multi-line fields would need --multiline-fields, which slows the whole import.
        raise ValueError(f"{what}: a value holds a line break")
    return text


def _check_keys(spec: NodeSpec, row: Row) -> None:
    expected = {spec.key, *(name for name, _ in spec.properties)}
    required = expected - spec.optional
    if not required <= set(row) <= expected:
        odd = sorted((set(row) - expected) | (required - set(row)))
        raise ValueError(
            f"{spec.table}: RowConverter produced {odd} beyond or short of graph/admin_import.py "
            "NODES; update NODES so both paths store the same properties"
        )


def _node_text(spec: NodeSpec, rows: Sequence[Row]) -> str:
    if not rows:
        return ""
    _check_keys(spec, rows[0])  # rows of one table come from one converter, keys alike
    columns = [_column_text(spec, spec.key, Kind.STRING, list(map(itemgetter(spec.key), rows)))]
    for name, kind in spec.properties:
        if name in spec.optional:
            values = [row.get(name) for row in rows]
        else:
            values = list(map(itemgetter(name), rows))
        columns.append(_column_text(spec, name, kind, values))
    return _csv_text(zip(*columns, strict=True), len(rows), spec.table)


# --- writing one batch -------------------------------------------------------------------------


@dataclass
class PartStats:
    """What one batch wrote: rows per file group, lists left empty (property `Label.key`), and
    optional relationships skipped because their target does not exist (the driver path's
    OPTIONAL MATCH skips them too)."""

    files: dict[str, Path] = field(default_factory=dict)
    rows: Counter[str] = field(default_factory=Counter)
    empty_lists: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def merge(self, other: PartStats) -> None:
        self.rows.update(other.rows)
        self.empty_lists.update(other.empty_lists)
        self.skipped.update(other.skipped)


class _RelRows:
    def __init__(self) -> None:
        self.rows: dict[RelSpec, list[tuple[object, object, str]]] = {
            spec: [] for spec in RELATIONSHIPS
        }

    def add(self, spec: RelSpec, start: object, end: object) -> None:
        self.rows[spec].append((start, end, spec.type.value))


class _PanelCapture:
    """Stands in for RiskRepository's GraphClient: save_panel_rows hands over the properties it
    would set on each household (SAVE_PANELS: `SET h += r.props`), so the CSV holds exactly
    what the driver path writes, not a copy of the repository's formatting."""

    def __init__(self) -> None:
        self.payload: list[Row] = []

    def write_counted(
        self, query: str, expected: int, what: str, timeout_s: float | None = None, **params: Any
    ) -> None:
        if query != SAVE_PANELS:
            raise ValueError(f"{what}: save_panel_rows no longer runs SAVE_PANELS; see _add_panels")
        self.payload.extend(params["rows"])


class BatchWriter:
    """Converts one batch with RowConverter and writes its CSV parts under `out_dir`."""

    def __init__(self, out_dir: Path, vault: PiiVault, upper_helpers: frozenset[str]) -> None:
        self.out_dir = out_dir
        self.convert = RowConverter(vault)
        # Helpers of the first batch (province and city level); county batches add their own.
        self.upper_helpers = upper_helpers

    def write(self, part: int, tables: dict[str, list[Row]]) -> PartStats:
        c = self.convert
        stats = PartStats()
        rels = _RelRows()
        converted: dict[str, list[Row]] = {
            "regions": [c.region(r) for r in tables.get("regions", ())],
            "helpers": [c.helper(r) for r in tables.get("helpers", ())],
            "households": [c.household(r) for r in tables.get("households", ())],
            "persons": [c.person(r) for r in tables.get("persons", ())],
            "cadres": [c.cadre(r) for r in tables.get("cadres", ())],
            "needs": [c.need(r) for r in tables.get("needs", ())],
            "projects": [c.project(r) for r in tables.get("projects", ())],
            "project_milestones": [
                c.project_milestone(r) for r in tables.get("project_milestones", ())
            ],
            "project_funds": [dict(r) for r in tables.get("project_funds", ())],
        }
        helper_ids = self.upper_helpers | {h["id"] for h in converted["helpers"]}
        for n in converted["needs"]:
            n["urgency_rank"] = URGENCY_RANK.get(n["urgency"], URGENCY_RANK_OTHER)
            for length, scope_key in MARKET_SCOPE_KEYS.items():
                n[scope_key] = n["village_code"][:length]
        self._add_panels(converted["households"], tables.get("household_years", ()))

        # SAVE_REGIONS: PART_OF only when the parent exists (OPTIONAL MATCH); all regions come
        # in the first batch.
        codes = {r["code"] for r in converted["regions"]}
        for r in converted["regions"]:
            parent = r["parent_code"]
            if parent is None:
                continue
            if parent in codes:
                rels.add(PART_OF, r["code"], parent)
            else:
                stats.skipped[PART_OF.group] += 1
        # SAVE_HELPERS: one SERVES per distinct service region (MERGE).
        for h in converted["helpers"]:
            for code in dict.fromkeys(h["service_regions"]):
                rels.add(SERVES, h["id"], code)
        for h in converted["households"]:
            rels.add(IN_VILLAGE, h["id"], h["village_code"])
        for p in converted["persons"]:
            rels.add(MEMBER_OF, p["id"], p["household_id"])
        # INSERT_CADRES: STATIONED_IN always, FROM_UNIT when the unit exists (OPTIONAL MATCH).
        for k in converted["cadres"]:
            rels.add(STATIONED_IN, k["id"], k["village_code"])
            unit = k["unit_helper_id"]
            if unit is not None:
                if unit in helper_ids:
                    rels.add(FROM_UNIT, k["id"], unit)
                else:
                    stats.skipped[FROM_UNIT.group] += 1
        # INSERT_*_PAIRINGS create one relationship per row.
        for pair in tables.get("helper_pairings", ()):
            rels.add(HELPER_PAIRED, pair["helper_id"], pair["household_id"])
        for pair in tables.get("cadre_pairings", ()):
            rels.add(CADRE_PAIRED, pair["cadre_id"], pair["household_id"])
        # INSERT_NEEDS: HAS_NEED always, CLAIMED when the holder exists (OPTIONAL MATCH).
        for n in converted["needs"]:
            rels.add(HAS_NEED, n["household_id"], n["id"])
            holder = n["claimed_by"]
            if holder is not None:
                if holder in helper_ids:
                    rels.add(CLAIMED, holder, n["id"])
                else:
                    stats.skipped[CLAIMED.group] += 1
        # SAVE_PROJECTS: IN_REGION to the village, or the county for county-wide projects.
        for pr in converted["projects"]:
            region = pr["village_code"] if pr["village_code"] is not None else pr["county_code"]
            rels.add(IN_REGION, pr["id"], region)
        # ADD_BENEFICIARIES merges: a repeated (project, household) pair is one relationship.
        # A project's beneficiaries all come in its county's batch.
        seen: set[tuple[object, object]] = set()
        for pair in tables.get("project_beneficiaries", ()):
            key = (pair["project_id"], pair["household_id"])
            if key not in seen:
                seen.add(key)
                rels.add(BENEFITS, *key)

        for spec in NODES:
            rows = converted[spec.table]
            self._write(stats, part, spec.label.value, len(rows), _node_text(spec, rows))
            for name, kind in spec.properties:
                if kind is Kind.STRINGS:
                    empty = sum(1 for r in rows if not r[name])
                    if empty:
                        stats.empty_lists[f"{spec.label.value}.{name}"] += empty
        for rel_spec, pairs in rels.rows.items():
            text = _csv_text(pairs, len(pairs), rel_spec.group) if pairs else ""
            self._write(stats, part, rel_spec.group, len(pairs), text)
        return stats

    def _add_panels(self, households: list[Row], years: Iterable[Row]) -> None:
        """Each household's complete years, as BulkLoader sets them through
        RiskRepository.save_panel_rows. The generator puts a household's years in its batch."""
        rows: list[Row] = []
        for r in years:
            year = int(str(r["year"]))
            if year >= LABEL_YEAR:
                continue
            try:
                # float(v) is RowConverter.household_year's number(v) for every value except
                # the strings "true"/"false", which raise here and go through the converter. At
                # ~4M rows in the province this saves ~15 CPU-s of its str().lower() per value.
                values = [float(r[name]) for name in PANEL_FIELDS]
            except (TypeError, ValueError):
                values = self.convert.household_year(r)["values"]
            rows.append({"household_id": r["household_id"], "year": year, "values": values})
        if not rows:
            return
        capture = _PanelCapture()
        RiskRepository(cast(GraphClient, capture)).save_panel_rows(rows)
        panels = {str(p["household_id"]): p["props"] for p in capture.payload}
        for h in households:
            props = panels.pop(h["id"], None)
            if props:
                h.update(props)
        if panels:
            raise ValueError(
                f"yearly panels of {len(panels)} households outside their household's batch, "
                f"e.g. {next(iter(panels))}: the CSV holds a household's properties in one row"
            )

    def _write(self, stats: PartStats, part: int, group: str, rows: int, text: str) -> None:
        if not rows:
            return
        path = self.out_dir / group / f"part-{part:05d}.csv"
        path.write_text(text, encoding="utf-8")
        stats.files[group] = path
        stats.rows[group] += rows


# Worker processes get the writer once, through fork (the vault's keys never go through a pipe).
_worker: BatchWriter | None = None


def _init_worker(writer: BatchWriter) -> None:
    global _worker  # noqa: PLW0603 - one writer per worker process
    _worker = writer


def _write_in_worker(part: int, tables: dict[str, list[Row]]) -> PartStats:
    assert _worker is not None, "worker not initialised"
    return _worker.write(part, tables)


# --- writing the whole scale -------------------------------------------------------------------


@dataclass
class ImportFiles:
    """The CSV files of one scale, grouped as the import tool takes them (header first)."""

    out_dir: Path
    groups: dict[str, list[Path]]
    stats: PartStats
    seconds: float = 0.0

    @property
    def nodes(self) -> int:
        return sum(self.stats.rows[spec.label.value] for spec in NODES)

    @property
    def relationships(self) -> int:
        return sum(self.stats.rows[spec.group] for spec in RELATIONSHIPS)

    @property
    def bytes(self) -> int:
        return sum(path.stat().st_size for paths in self.groups.values() for path in paths)

    def arguments(self) -> list[str]:
        args = []
        for spec in NODES:
            if self.stats.rows[spec.label.value]:
                files = ",".join(str(p) for p in self.groups[spec.label.value])
                args.append(f"--nodes={spec.label.value}={files}")
        for rel in RELATIONSHIPS:
            if self.stats.rows[rel.group]:
                args.append(f"--relationships={','.join(str(p) for p in self.groups[rel.group])}")
        return args


def _tables(batch: BatchLike) -> dict[str, list[Row]]:
    return {name: batch.tables.get(name) or [] for name in TABLES}


def write_import_files(
    batches: Iterable[BatchLike], out_dir: Path, vault: PiiVault, workers: int = 2
) -> ImportFiles:
    """Write every batch as CSV parts under `out_dir` (which must be empty or absent).

    The first batch (regions, upper helpers) is written here; county batches go to `workers`
    processes (0: here too). At most workers + 1 batches are in flight, so memory stays at a
    few counties whatever the scale.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty: remove it or choose another directory")
    groups: dict[str, list[Path]] = {}
    headers = [(spec.label.value, spec.header()) for spec in NODES]
    headers += [(rel.group, rel.header()) for rel in RELATIONSHIPS]
    for group, header in headers:
        (out_dir / group).mkdir()
        path = out_dir / group / "header.csv"
        path.write_text(header, encoding="utf-8")
        groups[group] = [path]

    total = PartStats()

    def collect(stats: PartStats) -> None:
        total.merge(stats)
        for group, path in stats.files.items():
            groups[group].append(path)

    iterator = iter(batches)
    first = next(iterator, None)
    if first is not None:
        tables = _tables(first)
        writer = BatchWriter(out_dir, vault, frozenset())
        collect(writer.write(0, tables))
        writer = BatchWriter(out_dir, vault, frozenset(h["helper_id"] for h in tables["helpers"]))
        for stats in _write_counties(writer, iterator, workers):
            collect(stats)
    for paths in groups.values():
        paths[1:] = sorted(paths[1:])  # parts in batch order, whichever worker finished first
    return ImportFiles(out_dir, groups, total, seconds=time.perf_counter() - started)


def _write_counties(
    writer: BatchWriter, batches: Iterator[BatchLike], workers: int
) -> Iterator[PartStats]:
    if workers <= 0:
        for part, batch in enumerate(batches, start=1):
            yield writer.write(part, _tables(batch))
        return
    # fork: workers inherit the writer (and the vault's keys) instead of receiving them pickled.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(writer,)
    ) as pool:
        in_flight: set[Future[PartStats]] = set()
        for part, batch in enumerate(batches, start=1):
            # A batch per worker and one queued keep them busy; more would only cost memory:
            # a county batch takes ~4.5 KB per person (79 MiB for the county scale's 17,858
            # people, measured with tracemalloc), ~180 MiB for the 40,000-people counties.
            while len(in_flight) > workers:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
            in_flight.add(pool.submit(_write_in_worker, part, _tables(batch)))
        for future in in_flight:
            yield future.result()


# --- running the import tool -------------------------------------------------------------------

ADMIN_TOOL = "org.neo4j.cli.AdminTool"
DATABASE = "neo4j"


def default_neo4j_lib() -> Path:
    """The jars ops/services.py downloads (same variables, same defaults)."""
    cache = Path(os.environ.get("BANGFU_CACHE_DIR", Path.home() / ".cache" / "bangfu"))
    version = os.environ.get("BANGFU_NEO4J_VERSION", "5.26.30")
    return cache / f"neo4j-{version}" / "lib"


@dataclass(frozen=True)
class ImportTool:
    """How to run neo4j-admin import against the embedded store at `home` (<state>/neo4j).

    Defaults fit the province on a shared 2-core, 24 GB machine: 2 threads (one per core), a
    1.5 GB heap (the tool estimates ~1.0 GiB for the province and warns at 1g) and 2 GB off
    heap for its ID map and relationship caches (its estimate: 1.04 GiB in all); its own
    default is 90% of free memory, which would crowd out everyone else. Measured on the
    province: 1.06 GiB used by the tool's count, 2.1 GiB peak RSS of the JVM.
    """

    home: Path
    lib: Path
    java: str = "java"
    heap: str = "1536m"
    max_off_heap: str = "2g"
    threads: int = 2
    timeout_s: float = 1800.0


@dataclass(frozen=True)
class ImportRun:
    seconds: float
    peak_rss_mib: float  # of the import JVM, from the kernel's accounting of the child
    cpu_s: float  # user + system CPU of the import JVM: on a shared machine, the honest figure
    log_path: Path
    imported: dict[str, int]  # the tool's own totals: nodes, relationships, properties
    tool_peak_memory: str | None  # the tool's "Peak memory usage" line


class AdminImportError(RuntimeError):
    pass


def neo4j_running(home: Path) -> bool:
    """Whether the Neo4j started by ops/services.py for this home is alive: its pid file lives
    next to the home (<state>/neo4j.pid)."""
    try:
        os.kill(int((home.parent / "neo4j.pid").read_text()), 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return False
    return True


def import_command(files: ImportFiles, tool: ImportTool) -> list[str]:
    return [
        tool.java,
        f"-Xmx{tool.heap}",
        "-cp",
        f"{tool.lib}/*",
        ADMIN_TOOL,
        "database",
        "import",
        "full",
        # The database name goes first: after a --nodes/--relationships file list it would be
        # read as one more file.
        DATABASE,
        "--overwrite-destination=true",
        f"--threads={tool.threads}",
        f"--max-off-heap-memory={tool.max_off_heap}",
        # Exactly what was written, or nothing: no bad entries, no duplicates, no dangling
        # relationships (the driver path refuses those too, see GraphClient.write_counted).
        "--bad-tolerance=0",
        "--skip-bad-relationships=false",
        "--skip-duplicate-nodes=false",
        "--normalize-types=true",
        "--array-delimiter=;",
        f"--report-file={files.out_dir / 'import.report'}",
        *files.arguments(),
    ]


def run_import(files: ImportFiles, tool: ImportTool) -> ImportRun:
    """Run the import tool with Neo4j stopped; its output goes to <out_dir>/import.log."""
    if neo4j_running(tool.home):
        raise AdminImportError(f"Neo4j is running on {tool.home}: stop it (services.py down) first")
    if not (tool.lib / ".complete").exists():
        raise AdminImportError(
            f"no Neo4j jars in {tool.lib}: run `python3 ops/services.py up` once"
        )
    conf = tool.home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, NEO4J_HOME=str(tool.home), NEO4J_CONF=str(conf))
    log_path = files.out_dir / "import.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv list built here, no shell
            import_command(files, tool),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=files.out_dir,
        )
        # wait4 returns the child's own resource usage: ru_maxrss is the JVM's peak RSS exactly,
        # which sampling /proc/<pid>/status could miss in its last moments.
        deadline = time.monotonic() + tool.timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    text = log_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0 or "IMPORT DONE" not in text:
        tail = " | ".join(line for line in text.strip().splitlines()[-6:] if line.strip())
        raise AdminImportError(f"import failed (exit {proc.returncode}, log {log_path}): {tail}")
    imported = {
        what: int(number)
        for number, what in re.findall(r"^\s+(\d+) (nodes|relationships|properties)$", text, re.M)
    }
    peak = re.search(r"Peak memory usage: (\S+)", text)
    return ImportRun(
        seconds=seconds,
        peak_rss_mib=usage.ru_maxrss / 1024,
        cpu_s=usage.ru_utime + usage.ru_stime,
        log_path=log_path,
        imported=imported,
        tool_peak_memory=peak.group(1) if peak else None,
    )


# --- after the import, with Neo4j started ------------------------------------------------------

# The driver path stores an empty list where CSV can only store nothing; nodes whose list
# property is missing are exactly those (RowConverter always produces a list). Label and key come
# from NODES only. CALL ... IN TRANSACTIONS keeps each commit to 10,000 nodes (a few MB).
_SET_EMPTY_LIST_TEMPLATE = (
    "MATCH (n:{label}) WHERE n.{key} IS NULL "
    "CALL (n) {{ SET n.{key} = [] }} IN TRANSACTIONS OF 10000 ROWS "
    "RETURN count(n) AS fixed"
)


@dataclass(frozen=True)
class FinishTimes:
    empty_lists_s: float
    schema_s: float
    schema_version: int


def set_empty_lists(graph: GraphClient, empty_lists: Counter[str]) -> None:
    for prop, expected in sorted(empty_lists.items()):
        label, key = prop.split(".")
        query = _SET_EMPTY_LIST_TEMPLATE.format(label=Label(label).value, key=key)
        # CALL {} IN TRANSACTIONS needs an implicit (auto-commit) transaction.
        with translated_errors(), graph.driver.session(database=graph.database) as session:
            record = session.run(query).single()
        fixed = 0 if record is None else int(record["fixed"])
        if fixed != expected:
            raise AdminImportError(f"{prop}: expected {expected} empty lists, set {fixed}")


def finish_import(graph: GraphClient, files: ImportFiles) -> FinishTimes:
    started = time.perf_counter()
    set_empty_lists(graph, files.stats.empty_lists)
    lists_done = time.perf_counter()
    version = apply_schema(graph)
    return FinishTimes(
        empty_lists_s=lists_done - started,
        schema_s=time.perf_counter() - lists_done,
        schema_version=version,
    )


# --- checking an import against the driver path (tests, benchmark) -----------------------------

# Both from the count store, so cheap at any scale; labels and types come from the enums only.
_COUNT_LABEL_TEMPLATE = "MATCH (n:{label}) RETURN count(n) AS n"
_COUNT_TYPE_TEMPLATE = "MATCH ()-[r:{type}]->() RETURN count(r) AS n"

# Every node and relationship with a comparable identity: (label, id or code). Meant for small
# scales (the village has a few hundred nodes).
NODE_SNAPSHOT = """
MATCH (n)
RETURN labels(n) AS labels, n {.*} AS props,
       [k IN keys(n) | [k, valueType(n[k])]] AS types
"""
RELATIONSHIP_SNAPSHOT = """
MATCH (a)-[r]->(b)
RETURN type(r) AS type, labels(a) AS start_labels, coalesce(a.id, a.code, a.name) AS start_key,
       labels(b) AS end_labels, coalesce(b.id, b.code, b.name) AS end_key, properties(r) AS props
"""


def graph_counts(graph: GraphClient) -> tuple[dict[str, int], dict[str, int]]:
    """(nodes per label, relationships per type), leaving out zeros."""
    labels = {
        label.value: int(graph.read(_COUNT_LABEL_TEMPLATE.format(label=label.value))[0]["n"])
        for label in Label
    }
    types = {
        rel.value: int(graph.read(_COUNT_TYPE_TEMPLATE.format(type=rel.value))[0]["n"])
        for rel in Rel
    }
    return (
        {k: v for k, v in labels.items() if v},
        {k: v for k, v in types.items() if v},
    )


NodeKey = tuple[str, str]


def graph_snapshot(
    graph: GraphClient, vault: PiiVault
) -> tuple[dict[NodeKey, dict[str, Any]], Counter[tuple[Any, ...]]]:
    """Every node's properties with their Cypher types, keyed by (labels, id or code), and every
    relationship as (type, start, end, properties). Ciphertexts differ per write (random
    nonce), so `*_enc` values are replaced by their plaintext; SchemaVersion's `applied_at` is
    the time apply_schema ran, so it is left out."""
    nodes: dict[NodeKey, dict[str, Any]] = {}
    for row in graph.read(NODE_SNAPSHOT, timeout_s=60):
        label = ":".join(sorted(row["labels"]))
        props = dict(row["props"])
        key = str(props.get("id", props.get("code", props.get("name"))))
        if label == Label.SCHEMA_VERSION.value:
            props.pop("applied_at", None)
        types = dict(row["types"])
        for name in list(props):
            if name.endswith("_enc") and props[name] is not None:
                props[name] = vault.decrypt(props[name])
        nodes[(label, key)] = {name: (props[name], types[name]) for name in props}
    rels: Counter[tuple[Any, ...]] = Counter()
    for row in graph.read(RELATIONSHIP_SNAPSHOT, timeout_s=60):
        rels[
            (
                row["type"],
                ":".join(sorted(row["start_labels"])),
                row["start_key"],
                ":".join(sorted(row["end_labels"])),
                row["end_key"],
                tuple(sorted(row["props"].items())),
            )
        ] += 1
    return nodes, rels

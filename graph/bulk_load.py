"""Load generator batches (graph.synthetic) into Neo4j through the repositories, in UNWIND
batches inside managed transactions.

Rows arrive in the generator's CSV vocabulary (household_id, "a;b" lists, ISO dates, "" for
missing); this module turns them into node properties (encrypting identifiers) and hands them to
the repository of each aggregate, so the load uses the same Cypher as single writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from graph.client import GraphClient
from graph.models import PANEL_FIELDS
from graph.pii import PiiVault
from graph.repositories import (
    CadreRepository,
    HelperRepository,
    HouseholdRepository,
    NeedRepository,
    PairingRepository,
    PersonRepository,
    ProjectRepository,
    RegionRepository,
)
from graph.repositories.risk import RiskRepository
from graph.synthetic.panels import LABEL_YEAR

# 5,000 rows per transaction keeps each commit at a few MB of transaction state: large enough to
# amortise the round trip, small enough that a heap of 4 GB never feels it.
BATCH_ROWS = 5_000
# A bulk transaction may take longer than a request's 10 s.
BULK_TIMEOUT_S = 300.0

Row = dict[str, Any]


class BatchLike(Protocol):
    @property
    def tables(self) -> dict[str, list[dict[str, object]]]: ...


@dataclass
class LoadStats:
    rows: dict[str, int] = field(default_factory=dict)
    table_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, table: str, count: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + count
        self.table_seconds[table] = round(self.table_seconds.get(table, 0.0) + seconds, 2)


def _none_if_empty(value: object) -> object:
    return None if value == "" else value


def _split(value: object) -> list[str]:
    return [part for part in str(value).split(";") if part] if value else []


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value not in ("", None) else None


def _int_or_none(value: object) -> int | None:
    return None if value in ("", None) else int(str(value))


def _panel_number(value: object) -> str:
    # Shock flags arrive as bools from the generator and "true"/"false" from CSV.
    if value is True or value is False:
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return "1" if text == "true" else "0"
    return repr(float(text))


class RowConverter:
    """Generator/CSV rows to repository rows, identifiers sealed on the way."""

    def __init__(self, vault: PiiVault) -> None:
        self.vault = vault

    def _sealed(self, prefix: str, value: object) -> Row:
        enc, digest = self.vault.seal(str(value or ""))
        return {f"{prefix}_enc": enc, f"{prefix}_hash": digest}

    def region(self, r: Row) -> Row:
        return {
            "code": r["code"],
            "name": r["name"],
            "level": r["level"],
            "parent_code": _none_if_empty(r["parent_code"]),
        }

    def household(self, r: Row) -> Row:
        row = {k: _none_if_empty(v) for k, v in r.items() if k not in ("household_id", "phone")}
        row["id"] = r["household_id"]
        row["other_causes"] = _split(r["other_causes"])
        row["registered_year"] = _int_or_none(r["registered_year"])
        row["exit_year"] = _int_or_none(r["exit_year"])
        row.update(self._sealed("phone", r["phone"]))
        return row

    def person(self, r: Row) -> Row:
        row = {
            k: _none_if_empty(v)
            for k, v in r.items()
            if k not in ("person_id", "national_id", "phone")
        }
        row["id"] = r["person_id"]
        row["birth_date"] = _date(r["birth_date"])
        row["disability_grade"] = int(str(r["disability_grade"]))
        row.update(self._sealed("national_id", r["national_id"]))
        row.update(self._sealed("phone", r["phone"]))
        return row

    def helper(self, r: Row) -> Row:
        return {
            "id": r["helper_id"],
            "kind": r["kind"],
            "name": r["name"],
            "description": r["description"],
            "capabilities": _split(r["capabilities"]),
            "service_regions": _split(r["service_regions"]),
            "capacity": int(str(r["capacity"])),
            "home_region_code": r["home_region_code"],
        }

    def cadre(self, r: Row) -> Row:
        row = {
            "id": r["cadre_id"],
            "name": r["name"],
            "role": r["role"],
            "village_code": r["village_code"],
            "unit_helper_id": _none_if_empty(r["unit_helper_id"]),
        }
        row.update(self._sealed("phone", r["phone"]))
        return row

    def need(self, r: Row) -> Row:
        row = {k: _none_if_empty(v) for k, v in r.items() if k != "need_id"}
        row["id"] = r["need_id"]
        row["created_at"] = _date(r["created_at"])
        row["fulfilled_at"] = _date(r["fulfilled_at"])
        return row

    def project(self, r: Row) -> Row:
        row = {k: _none_if_empty(v) for k, v in r.items() if k != "project_id"}
        row["id"] = r["project_id"]
        for key in ("start_date", "approved_at", "last_milestone_at"):
            row[key] = _date(r[key])
        return row

    def project_milestone(self, r: Row) -> Row:
        row = dict(r)
        row["planned_date"] = _date(r["planned_date"])
        row["achieved_date"] = _date(r["achieved_date"])
        return row

    def household_year(self, r: Row) -> Row:
        """Observed values only, as the stored text (PANEL_FIELDS order, comma-separated):
        below_line is derived from income and the line, and the truth columns (p_fall_next ...)
        stay with the generator. 4.6M rows x 16 values at province scale: typed values are
        written as they are, only text from CSV is parsed (to refuse what is not a number)."""
        return {
            "household_id": r["household_id"],
            "year": int(str(r["year"])),
            "values": ",".join([_panel_number(r[f]) for f in PANEL_FIELDS]),
        }


def _chunks(rows: Sequence[Row], size: int) -> Iterable[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class BulkLoader:
    def __init__(
        self,
        graph: GraphClient,
        vault: PiiVault,
        batch_rows: int = BATCH_ROWS,
        workers: int = 2,
        fresh: bool = False,
    ) -> None:
        """`fresh=True` creates instead of merging; only for a graph holding none of the rows
        (`seed_graph` decides), where it is ~30% faster."""
        self.batch_rows = batch_rows
        self.workers = workers
        self._stats_lock = threading.Lock()
        convert = RowConverter(vault)
        regions = RegionRepository(graph)
        helpers = HelperRepository(graph)
        households = HouseholdRepository(graph, vault)
        persons = PersonRepository(graph, vault)
        cadres = CadreRepository(graph, vault)
        pairings = PairingRepository(graph)
        needs = NeedRepository(graph)
        projects = ProjectRepository(graph)
        risk = RiskRepository(graph)
        t = BULK_TIMEOUT_S
        f = fresh
        identity: Callable[[Row], Row] = dict
        # Order matters: each table refers only to tables above it.
        self.plan: list[tuple[str, Callable[[Row], Row], Callable[[Sequence[Row]], None]]] = [
            ("regions", convert.region, regions.save_rows),
            ("helpers", convert.helper, lambda rows: helpers.save_rows(rows, timeout_s=t)),
            (
                "households",
                convert.household,
                lambda rows: households.save_rows(rows, timeout_s=t, fresh=f),
            ),
            ("persons", convert.person, lambda rows: persons.save_rows(rows, timeout_s=t, fresh=f)),
            ("cadres", convert.cadre, lambda rows: cadres.save_rows(rows, timeout_s=t, fresh=f)),
            (
                "helper_pairings",
                identity,
                lambda rows: pairings.pair_helper_rows(rows, timeout_s=t, fresh=f),
            ),
            (
                "cadre_pairings",
                identity,
                lambda rows: pairings.pair_cadre_rows(rows, timeout_s=t, fresh=f),
            ),
            ("needs", convert.need, lambda rows: needs.save_rows(rows, timeout_s=t, fresh=f)),
            ("projects", convert.project, lambda rows: projects.save_rows(rows, timeout_s=t)),
            (
                "project_beneficiaries",
                identity,
                lambda rows: projects.add_beneficiary_rows(rows, timeout_s=t),
            ),
            (
                "project_milestones",
                convert.project_milestone,
                lambda rows: projects.save_milestone_rows(rows, timeout_s=t),
            ),
            ("project_funds", identity, lambda rows: projects.save_fund_rows(rows, timeout_s=t)),
            # Complete years only: on the generator's AS_OF (March 2026) 2026 is not yet known.
            (
                "household_years",
                convert.household_year,
                lambda rows: risk.save_panel_rows(
                    [r for r in rows if r["year"] < LABEL_YEAR], timeout_s=t
                ),
            ),
        ]

    def _load_batch(self, batch: BatchLike, stats: LoadStats) -> None:
        for table, convert, save in self.plan:
            table_started = time.perf_counter()
            rows = batch.tables.get(table) or []
            if table == "regions" and rows:
                # Regions are few (17,707 in the province) and must land parents first.
                save([convert(r) for r in rows])
            else:
                for chunk in _chunks(rows, self.batch_rows):
                    save([convert(r) for r in chunk])
            with self._stats_lock:
                stats.add(table, len(rows), time.perf_counter() - table_started)

    def load(self, batches: Iterable[BatchLike]) -> LoadStats:
        """Load the first batch (regions, upper-level helpers) alone, then the county batches
        on `workers` threads. Each Cypher transaction runs on one server thread, so two
        concurrent writers use both cores of a 2-core machine; counties touch disjoint nodes
        except shared helpers, and a deadlock there is retried by the driver."""
        stats = LoadStats()
        started = time.perf_counter()
        iterator = iter(batches)
        first = next(iterator, None)
        if first is not None:
            self._load_batch(first, stats)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            in_flight: set[Future[None]] = set()
            for batch in iterator:
                # Bound the batches held in memory: at most two per worker.
                while len(in_flight) >= 2 * self.workers:
                    finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                in_flight.add(pool.submit(self._load_batch, batch, stats))
            for future in in_flight:
                future.result()
        stats.seconds = time.perf_counter() - started
        return stats

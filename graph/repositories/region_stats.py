"""Per-village statistics, precomputed by a chunked worker job so dashboards read a few small
nodes instead of scanning 664,000 households per request.

A (:RegionStats {code}) node per village holds its figures as flat integer properties named
`family:key` ("cause:illness", "needs_created:2025-03", ...). Each level above (town, county,
city, province) has a node of its own holding the sums over its villages: a refresh adds the
difference between a village's new and old figures to its four ancestors in the same
transaction, so a dashboard reads one node and its children's nodes (at most a few dozen) at
any level. Every node says how fresh it is: a village when it was computed, a level above when
its least recently computed village was (`computed_at`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from neo4j import ManagedTransaction

from bangfu.settings import get_settings
from graph.client import GraphClient
from graph.models import RegionStats
from graph.repositories.jobs import complete_chunk_in, lock_chunk

VILLAGE_CODES = """
MATCH (v:Region {level: 'village'}) WHERE v.code STARTS WITH $prefix
RETURN v.code AS code ORDER BY code
"""

# Everything the dashboards show about one village, aggregated in the database (grouped rows
# as short lists) so that the driver hydrates a few hundred values per village instead of one
# row per household: at province scale 664,000 households, 1.73M people and ~390,000 needs.
# Money is rounded to whole yuan per village so that the sums of the levels above stay exact
# integers however often a village is refreshed.
VILLAGE_FIGURES = """
UNWIND $codes AS code
MATCH (v:Region {code: code})
CALL (v) {
  OPTIONAL MATCH (h:Household {village_code: v.code})
  RETURN count(h) AS households, coalesce(sum(h.size), 0) AS people,
         sum(CASE WHEN h.housing_safe = false THEN 1 ELSE 0 END) AS housing_unsafe,
         sum(CASE WHEN h.water_safe = false THEN 1 ELSE 0 END) AS water_unsafe,
         toInteger(round(coalesce(sum(h.income_wage), 0))) AS income_wage,
         toInteger(round(coalesce(sum(h.income_farm), 0))) AS income_farm,
         toInteger(round(coalesce(sum(h.income_business), 0))) AS income_business,
         toInteger(round(coalesce(sum(h.income_transfer), 0))) AS income_transfer,
         toInteger(round(coalesce(sum(h.income_property), 0))) AS income_property,
         sum(CASE WHEN h.income_per_capita < $lines[left(v.code, 2)] THEN 1 ELSE 0 END)
           AS below_line,
         toInteger(round(coalesce(sum(h.spend_medical), 0))) AS spend_medical,
         toInteger(round(coalesce(sum(h.spend_education), 0))) AS spend_education,
         sum(CASE WHEN h.status = 'monitored' AND h.exit_year IS NOT NULL
                   AND h.monitor_type IN ['unstable', 'sudden_hardship'] THEN 1 ELSE 0 END)
           AS returned
}
CALL (v) {
  OPTIONAL MATCH (h:Household {village_code: v.code})
  WITH h.status AS status, h.monitor_type AS monitor_type, h.main_cause AS cause,
       h.exit_year AS exit_year, count(h) AS n, sum(h.size) AS p
  WHERE n > 0
  RETURN collect([status, monitor_type, cause, exit_year, n, p]) AS household_groups
}
CALL (v) {
  OPTIONAL MATCH (p:Person)-[:MEMBER_OF]->(:Household {village_code: v.code})
  WITH p.employment AS employment, p.labour_ability AS labour, count(p) AS n
  WHERE n > 0
  RETURN collect([employment, labour, n]) AS person_groups
}
CALL (v) {
  OPTIONAL MATCH (n:Need {village_code: v.code})
  WITH n.status AS status, n.category AS category, n.claimed_by IS NOT NULL AS claimed,
       substring(toString(n.created_at), 0, 7) AS month, count(n) AS k,
       toInteger(round(coalesce(sum(n.amount), 0))) AS amount
  WHERE k > 0
  RETURN collect([status, category, claimed, month, k, amount]) AS need_groups
}
CALL (v) {
  OPTIONAL MATCH (n:Need {village_code: v.code}) WHERE n.fulfilled_at IS NOT NULL
  WITH substring(toString(n.fulfilled_at), 0, 7) AS month,
       duration.inDays(date(n.created_at), date(n.fulfilled_at)).days AS days
  WITH month, count(days) AS k, sum(days) AS days,
       sum(CASE WHEN days <= 7 THEN 1 ELSE 0 END) AS le7,
       sum(CASE WHEN days > 7 AND days <= 30 THEN 1 ELSE 0 END) AS le30,
       sum(CASE WHEN days > 30 AND days <= 90 THEN 1 ELSE 0 END) AS le90
  WHERE k > 0
  RETURN collect([month, k, days, le7, le30, le90]) AS fulfilment_groups
}
RETURN v.code AS code, households, people, housing_unsafe, water_unsafe, income_wage,
       income_farm, income_business, income_transfer, income_property, below_line,
       spend_medical, spend_education, returned, household_groups, person_groups, need_groups,
       fulfilment_groups
ORDER BY code
"""

# The villages' nodes, locked (in code order) before their old figures are read: a second job
# over the same villages waits instead of computing its difference from stale figures.
LOCK_STATS = """
UNWIND $codes AS code
MERGE (s:RegionStats {code: code})
SET s.lock_version = coalesce(s.lock_version, 0) + 1
RETURN s.code AS code, properties(s) AS props
"""

REPLACE_STATS = """
UNWIND $rows AS r
MATCH (s:RegionStats {code: r.code})
SET s = r.props
"""

# An upper level's freshness is its oldest child's: a county is as fresh as its least recently
# refreshed village. Run bottom-up (towns first), one level at a time.
OLDEST_CHILD = """
UNWIND $codes AS code
MATCH (a:RegionStats {code: code})
CALL (a) {
  MATCH (c:RegionStats) WHERE c.code STARTS WITH a.code AND size(c.code) = $child_length
  RETURN min(c.computed_at) AS oldest
}
SET a.computed_at = oldest
"""

# Villages only (12-digit codes): the upper levels' nodes hold sums of the same figures.
SUM_UNDER = """
MATCH (s:RegionStats) WHERE s.code STARTS WITH $prefix AND size(s.code) = 12
RETURN count(s) AS villages, coalesce(sum(s.households), 0) AS households,
       coalesce(sum(s.people), 0) AS people, coalesce(sum(s.poor), 0) AS poor,
       coalesce(sum(s.exited), 0) AS exited, coalesce(sum(s.monitored), 0) AS monitored,
       coalesce(sum(s.needs), 0) AS needs, coalesce(sum(s.open_needs), 0) AS open_needs,
       coalesce(sum(s.fulfilled_needs), 0) AS fulfilled_needs, min(s.computed_at) AS computed_at
"""

UPDATES_UNDER = """
MATCH (s:RegionStats) WHERE s.code STARTS WITH $prefix AND size(s.code) = 12
RETURN s.code AS code, s.updates AS updates ORDER BY code
"""


# Properties of a RegionStats node that are not summable figures.
META_KEYS = frozenset(
    {"code", "level", "computed_at", "updated_at", "job_id", "updates", "lock_version", "rolled_up"}
)
# The figures a village had before its totals were added to the levels above (nodes written
# before the roll-up existed): counted as nothing, so the first refresh adds them whole.
ROLLED_UP = 1
# Code lengths of the levels above a village, top-down: province, city, county, town.
UPPER_LENGTHS = (2, 4, 6, 9)
LEVEL_OF_LENGTH = {2: "province", 4: "city", 6: "county", 9: "town", 12: "village"}

Figures = dict[str, int]


def _bump(figures: Figures, key: str, by: int) -> None:
    figures[key] = figures.get(key, 0) + int(by)


def village_figures(row: dict[str, Any]) -> Figures:
    """One village's figures, flat `family:key` counts, from a VILLAGE_FIGURES row. Pure."""
    f: Figures = {"villages": 1}
    for key in (
        "households",
        "people",
        "housing_unsafe",
        "water_unsafe",
        "below_line",
        "spend_medical",
        "spend_education",
        "returned",
    ):
        f[key] = int(row[key] or 0)
    for source in ("wage", "farm", "business", "transfer", "property"):
        f[f"income:{source}"] = int(row[f"income_{source}"] or 0)
    f["villages_safe"] = int(
        f["households"] > 0 and not f["housing_unsafe"] and not f["water_unsafe"]
    )
    for status, monitor_type, cause, exit_year, n, people in row["household_groups"]:
        _bump(f, f"households:{status}", n)
        _bump(f, f"people:{status}", people or 0)
        _bump(f, f"cause:{cause}", n)
        if monitor_type:
            _bump(f, f"monitored:{monitor_type}", n)
        if exit_year is not None:
            _bump(f, f"exits:{exit_year}", n)
    for employment, labour, n in row["person_groups"]:
        _bump(f, "persons", n)
        _bump(f, f"employment:{employment}", n)
        _bump(f, f"labour:{labour}", n)
    for status, category, claimed, month, n, amount in row["need_groups"]:
        _bump(f, "needs", n)
        _bump(f, f"needs:{status}", n)
        _bump(f, f"need_category:{category}", n)
        _bump(f, "needs_amount", amount)
        if claimed:
            _bump(f, "needs_claimed", n)
        if month:
            _bump(f, f"needs_created:{month}", n)
    for month, n, days, le7, le30, le90 in row["fulfilment_groups"]:
        _bump(f, "fulfilled", n)
        _bump(f, "fulfil_days", days)
        _bump(f, "fulfil_le7", le7)
        _bump(f, "fulfil_le30", le30)
        _bump(f, "fulfil_le90", le90)
        _bump(f, "fulfil_gt90", n - le7 - le30 - le90)
        _bump(f, f"needs_fulfilled:{month}", n)
    # The figures GET /stats/{region} has always summed (graph.models.RegionStats).
    f["poor"] = f.get("households:poor", 0)
    f["exited"] = f.get("households:exited", 0)
    f["monitored"] = f.get("households:monitored", 0)
    f["open_needs"] = f.get("needs:open", 0)
    f["fulfilled_needs"] = sum(f.get(f"needs:{s}", 0) for s in ("fulfilled", "confirmed", "closed"))
    return f


def figures_of(props: dict[str, Any]) -> Figures:
    return {k: int(v) for k, v in props.items() if k not in META_KEYS and isinstance(v, int)}


def ancestors_of(village_code: str) -> list[str]:
    return [village_code[:n] for n in UPPER_LENGTHS if len(village_code) > n]


def refresh_villages_in(
    tx: ManagedTransaction,
    codes: Sequence[str],
    job_id: str,
    now: datetime,
    lines: dict[str, float],
) -> None:
    """Recompute the villages' figures and add what changed to every level above them, in the
    caller's transaction. Applying the same figures twice changes nothing above (the
    difference is zero), so a re-delivered chunk cannot double-count."""
    codes = sorted(codes)
    rows = tx.run(VILLAGE_FIGURES, codes=codes, lines=lines).data()
    # Only villages that still exist get (or keep) a node.
    existing = [r["code"] for r in rows]
    old = {r["code"]: r["props"] for r in tx.run(LOCK_STATS, codes=existing)}
    delta: dict[str, Figures] = {}
    village_rows = []
    for row in rows:
        code = row["code"]
        new = village_figures(row)
        before = old.get(code) or {}
        previous = figures_of(before) if before.get("rolled_up") == ROLLED_UP else {}
        change = {k: new.get(k, 0) - previous.get(k, 0) for k in new.keys() | previous.keys()}
        for upper in ancestors_of(code):
            bucket = delta.setdefault(upper, {})
            for k, v in change.items():
                if v:
                    bucket[k] = bucket.get(k, 0) + v
        village_rows.append(
            {
                "code": code,
                "props": {
                    **new,
                    "code": code,
                    "level": "village",
                    "computed_at": now,
                    "updated_at": now,
                    "job_id": job_id,
                    "updates": int(before.get("updates") or 0) + 1,
                    "lock_version": int(before.get("lock_version") or 0),
                    "rolled_up": ROLLED_UP,
                },
            }
        )
    tx.run(REPLACE_STATS, rows=village_rows).consume()
    # Upper levels locked top-down (province first) so concurrent chunks never deadlock.
    uppers = sorted(delta, key=lambda c: (len(c), c))
    upper_rows = []
    for record in tx.run(LOCK_STATS, codes=uppers):
        code, props = record["code"], record["props"]
        figures = figures_of(props)
        for k, v in delta[code].items():
            figures[k] = figures.get(k, 0) + v
        upper_rows.append(
            {
                "code": code,
                "props": {
                    **figures,
                    "code": code,
                    "level": LEVEL_OF_LENGTH[len(code)],
                    "updated_at": now,
                    "lock_version": int(props.get("lock_version") or 0),
                },
            }
        )
    tx.run(REPLACE_STATS, rows=upper_rows).consume()
    for length in sorted(UPPER_LENGTHS, reverse=True):
        level_codes = [c for c in uppers if len(c) == length]
        if level_codes:
            child = min(n for n in (*UPPER_LENGTHS, 12) if n > length)
            tx.run(OLDEST_CHILD, codes=level_codes, child_length=child).consume()


def current_monitoring_lines() -> dict[str, float]:
    """This year's monitoring line of every province configured (BANGFU_RISK_MONITORING_LINES)."""
    risk = get_settings().risk
    year = datetime.now(UTC).year
    return {p: risk.monitoring_line(p, year) for p in risk.monitoring_lines}


class RegionStatsRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def village_codes(self, prefix: str = "") -> list[str]:
        return [r["code"] for r in self.graph.read(VILLAGE_CODES, prefix=prefix, timeout_s=60)]

    def summary(self, prefix: str) -> RegionStats:
        row = self.graph.read_one(SUM_UNDER, prefix=prefix) or {}
        computed = row.get("computed_at")
        return RegionStats.model_validate(
            {
                **row,
                "code": prefix,
                "computed_at": computed.to_native() if computed is not None else None,
            }
        )

    def updates(self, prefix: str = "") -> dict[str, int]:
        return {r["code"]: int(r["updates"]) for r in self.graph.read(UPDATES_UNDER, prefix=prefix)}

    def refresh_chunk(self, job_id: str, no: int, lines: dict[str, float] | None = None) -> bool:
        """Apply one planned chunk of a refresh job; False when it was already applied (or set
        aside). The figures, their roll-up into the levels above and the chunk's completion
        commit together. `lines`: monitoring line (yuan per person and year) by province code,
        for the households-below-the-line count; default this year's configured lines."""
        lines = current_monitoring_lines() if lines is None else lines

        def work(tx: ManagedTransaction) -> bool:
            locked = lock_chunk(tx, job_id, no)
            if locked is None or locked[0] != "pending":
                return False
            refresh_villages_in(tx, locked[1], job_id, datetime.now(UTC), lines)
            complete_chunk_in(tx, job_id, no)
            return True

        return self.graph.run_write(work, timeout_s=300)

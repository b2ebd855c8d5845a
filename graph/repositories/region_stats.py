"""Per-village statistics, precomputed by a chunked worker job so dashboards read a few
thousand small nodes instead of scanning 664,000 households per request. Higher levels are
sums over the villages whose codes they prefix."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from neo4j import ManagedTransaction

from graph.client import GraphClient
from graph.models import RegionStats
from graph.repositories.jobs import complete_chunk_in, lock_chunk

VILLAGE_CODES = """
MATCH (v:Region {level: 'village'}) WHERE v.code STARTS WITH $prefix
RETURN v.code AS code ORDER BY code
"""

# `updates` counts how often a village's figures were written: a refresh job applies each
# chunk exactly once, which the worker tests check through it.
REFRESH_VILLAGES = """
UNWIND $codes AS code
MATCH (v:Region {code: code})
CALL (v) {
  OPTIONAL MATCH (h:Household)-[:IN_VILLAGE]->(v)
  RETURN count(h) AS households, coalesce(sum(h.size), 0) AS people,
         sum(CASE h.status WHEN 'poor' THEN 1 ELSE 0 END) AS poor,
         sum(CASE h.status WHEN 'exited' THEN 1 ELSE 0 END) AS exited,
         sum(CASE h.status WHEN 'monitored' THEN 1 ELSE 0 END) AS monitored
}
CALL (v) {
  OPTIONAL MATCH (n:Need) WHERE n.village_code = v.code
  RETURN count(n) AS needs,
         sum(CASE n.status WHEN 'open' THEN 1 ELSE 0 END) AS open_needs,
         sum(CASE WHEN n.status IN ['fulfilled', 'confirmed', 'closed'] THEN 1 ELSE 0 END)
           AS fulfilled_needs
}
MERGE (s:RegionStats {code: v.code})
SET s.households = households, s.people = people, s.poor = poor, s.exited = exited,
    s.monitored = monitored, s.needs = needs, s.open_needs = open_needs,
    s.fulfilled_needs = fulfilled_needs, s.computed_at = $now, s.job_id = $job_id,
    s.updates = coalesce(s.updates, 0) + 1
"""

SUM_UNDER = """
MATCH (s:RegionStats) WHERE s.code STARTS WITH $prefix
RETURN count(s) AS villages, coalesce(sum(s.households), 0) AS households,
       coalesce(sum(s.people), 0) AS people, coalesce(sum(s.poor), 0) AS poor,
       coalesce(sum(s.exited), 0) AS exited, coalesce(sum(s.monitored), 0) AS monitored,
       coalesce(sum(s.needs), 0) AS needs, coalesce(sum(s.open_needs), 0) AS open_needs,
       coalesce(sum(s.fulfilled_needs), 0) AS fulfilled_needs, min(s.computed_at) AS computed_at
"""

UPDATES_UNDER = """
MATCH (s:RegionStats) WHERE s.code STARTS WITH $prefix
RETURN s.code AS code, s.updates AS updates ORDER BY code
"""


def refresh_villages_in(
    tx: ManagedTransaction, codes: Sequence[str], job_id: str, now: datetime
) -> None:
    tx.run(REFRESH_VILLAGES, codes=list(codes), job_id=job_id, now=now).consume()


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

    def refresh_chunk(self, job_id: str, no: int) -> bool:
        """Apply one planned chunk of a refresh job; False when it was already applied (or set
        aside). The figures and the chunk's completion commit together."""

        def work(tx: ManagedTransaction) -> bool:
            locked = lock_chunk(tx, job_id, no)
            if locked is None or locked[0] != "pending":
                return False
            refresh_villages_in(tx, locked[1], job_id, datetime.now(UTC))
            complete_chunk_in(tx, job_id, no)
            return True

        return self.graph.run_write(work, timeout_s=300)

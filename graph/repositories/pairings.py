from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph.client import GraphClient
from graph.models import Pairing

PAIR_HELPERS = """
UNWIND $rows AS r
MATCH (u:Helper {id: r.helper_id})
MATCH (h:Household {id: r.household_id})
MERGE (u)-[:PAIRED_WITH]->(h)
RETURN count(*) AS written
"""

PAIR_CADRES = """
UNWIND $rows AS r
MATCH (c:Cadre {id: r.cadre_id})
MATCH (h:Household {id: r.household_id})
MERGE (c)-[:PAIRED_WITH]->(h)
RETURN count(*) AS written
"""

INSERT_HELPER_PAIRINGS = """
UNWIND $rows AS r
MATCH (u:Helper {id: r.helper_id})
MATCH (h:Household {id: r.household_id})
CREATE (u)-[:PAIRED_WITH]->(h)
RETURN count(*) AS written
"""

INSERT_CADRE_PAIRINGS = """
UNWIND $rows AS r
MATCH (c:Cadre {id: r.cadre_id})
MATCH (h:Household {id: r.household_id})
CREATE (c)-[:PAIRED_WITH]->(h)
RETURN count(*) AS written
"""

OF_HOUSEHOLD = """
MATCH (h:Household {id: $household_id})
OPTIONAL MATCH (u:Helper)-[:PAIRED_WITH]->(h)
WITH h, collect(u.id) AS helper_ids
OPTIONAL MATCH (c:Cadre)-[:PAIRED_WITH]->(h)
RETURN h.id AS household_id, helper_ids, collect(c.id) AS cadre_ids
"""


class PairingRepository:
    """结对帮扶: helper units and responsible cadres paired with households."""

    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def pair_helper_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None, fresh: bool = False
    ) -> None:
        query = INSERT_HELPER_PAIRINGS if fresh else PAIR_HELPERS
        self.graph.write_counted(
            query, len(rows), "helper pairings", rows=list(rows), timeout_s=timeout_s
        )

    def pair_cadre_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None, fresh: bool = False
    ) -> None:
        query = INSERT_CADRE_PAIRINGS if fresh else PAIR_CADRES
        self.graph.write_counted(
            query, len(rows), "cadre pairings", rows=list(rows), timeout_s=timeout_s
        )

    def pair_helper(self, helper_id: str, household_id: str) -> None:
        self.pair_helper_rows([{"helper_id": helper_id, "household_id": household_id}])

    def pair_cadre(self, cadre_id: str, household_id: str) -> None:
        self.pair_cadre_rows([{"cadre_id": cadre_id, "household_id": household_id}])

    def of_household(self, household_id: str) -> Pairing | None:
        row = self.graph.read_one(OF_HOUSEHOLD, household_id=household_id)
        if row is None:
            return None
        return Pairing(
            household_id=row["household_id"],
            helper_ids=tuple(sorted(row["helper_ids"])),
            cadre_ids=tuple(sorted(row["cadre_ids"])),
        )

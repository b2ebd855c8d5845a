from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Need

SAVE_NEEDS = """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
MERGE (n:Need {id: r.id})
SET n += r
MERGE (h)-[:HAS_NEED]->(n)
WITH n, r
OPTIONAL MATCH (helper:Helper {id: r.claimed_by})
FOREACH (_ IN CASE WHEN helper IS NULL THEN [] ELSE [1] END | MERGE (helper)-[:CLAIMED]->(n))
RETURN count(*) AS written
"""

GET_NEED = "MATCH (n:Need {id: $id}) RETURN n {.*} AS n"

IN_REGION = """
MATCH (n:Need) WHERE n.village_code STARTS WITH $region_code
  AND ($status IS NULL OR n.status = $status)
RETURN n {.*} AS n ORDER BY n.id SKIP $skip LIMIT $limit
"""


def need_row(need: Need) -> dict[str, Any]:
    row: dict[str, Any] = need.model_dump(exclude_none=False)
    for key in ("category", "kind", "urgency", "status"):
        row[key] = getattr(need, key).value
    return row


def need_from_row(row: dict[str, Any]) -> Need:
    fields = dict(row)
    for key in ("created_at", "fulfilled_at"):
        if fields.get(key) is not None:
            fields[key] = fields[key].to_native()
    return Need.model_validate(fields)


class NeedRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def save_rows(self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None) -> None:
        self.graph.write_counted(SAVE_NEEDS, len(rows), "needs", rows=list(rows), timeout_s=timeout_s)

    def save(self, need: Need) -> None:
        self.save_rows([need_row(need)])

    def get(self, need_id: str) -> Need:
        row = self.graph.read_one(GET_NEED, id=need_id)
        if row is None:
            raise NotFoundError(f"need {need_id} not found", message_zh="未找到该需求")
        return need_from_row(row["n"])

    def in_region(
        self, region_code: str, status: str | None = None, skip: int = 0, limit: int = 50
    ) -> list[Need]:
        rows = self.graph.read(
            IN_REGION, region_code=region_code, status=status, skip=skip, limit=limit
        )
        return [need_from_row(r["n"]) for r in rows]

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Helper

# Service regions that do not exist are skipped by the MATCH; the count guards against that.
SAVE_HELPERS = """
UNWIND $rows AS r
MERGE (h:Helper {id: r.id})
SET h += r
WITH h, r
OPTIONAL MATCH (h)-[old:SERVES]->()
DELETE old
WITH DISTINCT h, r
UNWIND r.service_regions AS code
MATCH (region:Region {code: code})
MERGE (h)-[:SERVES]->(region)
RETURN count(*) AS written
"""

GET_HELPER = "MATCH (h:Helper {id: $id}) RETURN h {.*} AS h"

# Admins page through the organisations by id (the id constraint's index gives the order), of
# one kind or all; counted apart.
PAGE_HELPERS = """
MATCH (h:Helper) WHERE h.id IS NOT NULL AND ($kind IS NULL OR h.kind = $kind)
RETURN h {.*} AS h ORDER BY h.id SKIP $skip LIMIT $limit
"""

COUNT_HELPERS = """
MATCH (h:Helper) WHERE $kind IS NULL OR h.kind = $kind
RETURN count(h) AS total
"""

# A helper serves a village when it serves the village or any region above it.
SERVING_VILLAGE = """
MATCH (:Region {code: $village_code})-[:PART_OF*0..4]->(r:Region)<-[:SERVES]-(h:Helper)
RETURN DISTINCT h {.*} AS h ORDER BY h.id
"""


def helper_row(helper: Helper) -> dict[str, Any]:
    row: dict[str, Any] = helper.model_dump(mode="json")
    row["capabilities"] = list(helper.capabilities)
    row["service_regions"] = list(helper.service_regions)
    return row


_HELPER_FIELDS = frozenset(Helper.model_fields)


def helper_from_row(row: dict[str, Any]) -> Helper:
    # Nodes also carry counters and lock bookkeeping: keep the model's fields only.
    return Helper.model_validate(
        {
            **{k: v for k, v in row.items() if k in _HELPER_FIELDS},
            "capabilities": tuple(row.get("capabilities") or ()),
            "service_regions": tuple(row.get("service_regions") or ()),
        }
    )


class HelperRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def save_rows(self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None) -> None:
        expected = sum(len(r["service_regions"]) for r in rows)
        self.graph.write_counted(
            SAVE_HELPERS, expected, "helper service regions", rows=list(rows), timeout_s=timeout_s
        )

    def save(self, helper: Helper) -> None:
        self.save_rows([helper_row(helper)])

    def save_statement(self, helper: Helper) -> tuple[str, dict[str, Any]]:
        """The write for one helper, for a caller that commits it together with its audit
        event (AuditRepository.append(..., statements=[...])). Its service regions must exist
        (checked by the caller): a missing one is skipped by the MATCH."""
        return SAVE_HELPERS, {"rows": [helper_row(helper)]}

    def page(self, kind: str | None, skip: int, limit: int) -> tuple[list[Helper], int]:
        """Helpers (of one kind, or all) ordered by id, and how many there are."""
        rows = self.graph.read(PAGE_HELPERS, kind=kind, skip=skip, limit=limit)
        total = self.graph.read_one(COUNT_HELPERS, kind=kind)
        return [helper_from_row(r["h"]) for r in rows], int(total["total"]) if total else 0

    def get(self, helper_id: str) -> Helper:
        row = self.graph.read_one(GET_HELPER, id=helper_id)
        if row is None:
            raise NotFoundError(f"helper {helper_id} not found", message_zh="未找到该帮扶主体")
        return helper_from_row(row["h"])

    def serving_village(self, village_code: str) -> list[Helper]:
        return [
            helper_from_row(r["h"])
            for r in self.graph.read(SERVING_VILLAGE, village_code=village_code)
        ]

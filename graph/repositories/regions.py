from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Region

# Parents are written before children in one batch, so each row's parent already exists or is in
# an earlier row; OPTIONAL MATCH keeps the province (no parent) in the same statement.
SAVE_REGIONS = """
UNWIND $rows AS r
MERGE (n:Region {code: r.code})
SET n.name = r.name, n.level = r.level, n.parent_code = r.parent_code
WITH n, r
OPTIONAL MATCH (p:Region {code: r.parent_code})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | MERGE (n)-[:PART_OF]->(p))
"""

GET_REGION = """
MATCH (n:Region {code: $code})
RETURN n.code AS code, n.name AS name, n.level AS level, n.parent_code AS parent_code
"""

CHILDREN = """
MATCH (c:Region)-[:PART_OF]->(:Region {code: $code})
RETURN c.code AS code, c.name AS name, c.level AS level, c.parent_code AS parent_code
ORDER BY c.code
"""

ANCESTORS = """
MATCH path = (:Region {code: $code})-[:PART_OF*0..4]->(top:Region)
WHERE NOT (top)-[:PART_OF]->()
UNWIND nodes(path) AS n
RETURN n.code AS code, n.name AS name, n.level AS level, n.parent_code AS parent_code
ORDER BY size(n.code)
"""

COUNT_BY_LEVEL = "MATCH (n:Region) RETURN n.level AS level, count(*) AS regions"

EXISTING_CODES = """
UNWIND $codes AS code
MATCH (r:Region {code: code})
RETURN r.code AS code
"""


def region_row(region: Region) -> dict[str, Any]:
    return region.model_dump(mode="json")


class RegionRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def save_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        ordered = sorted(rows, key=lambda r: len(r["code"]))
        self.graph.write(SAVE_REGIONS, rows=ordered, timeout_s=300)

    def save(self, region: Region) -> None:
        self.save_rows([region_row(region)])

    def get(self, code: str) -> Region:
        row = self.graph.read_one(GET_REGION, code=code)
        if row is None:
            raise NotFoundError(f"region {code} not found", message_zh=f"未找到区划 {code}")
        return Region.model_validate(row)

    def children(self, code: str) -> list[Region]:
        return [Region.model_validate(r) for r in self.graph.read(CHILDREN, code=code)]

    def ancestors(self, code: str) -> list[Region]:
        """The region and every region above it, province first."""
        return [Region.model_validate(r) for r in self.graph.read(ANCESTORS, code=code)]

    def existing(self, codes: Sequence[str]) -> set[str]:
        """Which of these region codes exist."""
        return {str(r["code"]) for r in self.graph.read(EXISTING_CODES, codes=list(codes))}

    def count_by_level(self) -> dict[str, int]:
        return {r["level"]: r["regions"] for r in self.graph.read(COUNT_BY_LEVEL)}

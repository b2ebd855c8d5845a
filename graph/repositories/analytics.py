"""Reads behind the analytics dashboards: a region's precomputed figures and its children's
(RegionStats nodes, see region_stats.py), projects summed live (8,240 Project nodes at province
scale: a label scan of those costs less than keeping a second copy fresh), and the seed
document's headline counts. Every query touches at most a few dozen stats nodes, or the
region-code index, so each answers in milliseconds at province scale."""

from __future__ import annotations

from typing import Any

from graph.client import GraphClient
from graph.models import ProjectGroup, RegionFigures, RegionHeadline
from graph.repositories.region_stats import figures_of

REGION = """
MATCH (r:Region {code: $code})
OPTIONAL MATCH (s:RegionStats {code: r.code})
RETURN r.code AS code, r.name AS name, r.level AS level, properties(s) AS props
"""

CHILDREN = """
MATCH (:Region {code: $code})<-[:PART_OF]-(c:Region)
OPTIONAL MATCH (s:RegionStats {code: c.code})
RETURN c.code AS code, c.name AS name, c.level AS level, properties(s) AS props
ORDER BY code
"""

# The top of the tree for callers whose scope is everything (the level index serves it: 1 ms,
# where looking for regions without a parent scans all 17,707).
ROOTS = """
MATCH (r:Region {level: 'province'})
RETURN r.code AS code ORDER BY code
"""

# A project lies in its village, or in its county when it serves the whole county. Grouped by
# the code of the child region it falls in: `left` of a county code to a town's length is the
# county code itself, which the service shows as the region's own-level row.
PROJECTS_BY_CHILD = """
MATCH (p:Project) WHERE coalesce(p.village_code, p.county_code) STARTS WITH $prefix
WITH left(coalesce(p.village_code, p.county_code), $child_length) AS key, p.stage AS stage,
     p.funds_allocated AS allocated, p.funds_disbursed AS disbursed,
     COUNT { (p)-[:BENEFITS]->() } AS beneficiaries
RETURN key, stage, count(*) AS projects, coalesce(sum(allocated), 0) AS funds_allocated,
       coalesce(sum(disbursed), 0) AS funds_disbursed, sum(beneficiaries) AS beneficiaries
ORDER BY key, stage
"""

PROJECTS_BY_SOURCE = """
MATCH (p:Project) WHERE coalesce(p.village_code, p.county_code) STARTS WITH $prefix
WITH coalesce(p.fund_source, '') AS key, p.funds_allocated AS allocated,
     p.funds_disbursed AS disbursed, COUNT { (p)-[:BENEFITS]->() } AS beneficiaries
RETURN key, count(*) AS projects, coalesce(sum(allocated), 0) AS funds_allocated,
       coalesce(sum(disbursed), 0) AS funds_disbursed, sum(beneficiaries) AS beneficiaries
ORDER BY key
"""

PROJECTS_BY_START_MONTH = """
MATCH (p:Project) WHERE coalesce(p.village_code, p.county_code) STARTS WITH $prefix
  AND p.start_date IS NOT NULL
WITH substring(toString(p.start_date), 0, 7) AS key, p.funds_allocated AS allocated,
     p.funds_disbursed AS disbursed
RETURN key, count(*) AS projects, coalesce(sum(allocated), 0) AS funds_allocated,
       coalesce(sum(disbursed), 0) AS funds_disbursed
ORDER BY key
"""

# Regions per level come from the region tree itself (the code index serves the prefix).
REGIONS_BY_LEVEL = """
MATCH (r:Region) WHERE r.code STARTS WITH $prefix
RETURN r.level AS level, count(*) AS regions
"""

# Counties (6-digit codes) and towns (9) whose registered people reach the thresholds; the
# code length is read from the index, so only those ~1,200 nodes are opened.
BIG_REGIONS = """
MATCH (s:RegionStats) WHERE s.code STARTS WITH $prefix AND size(s.code) IN [6, 9]
RETURN sum(CASE WHEN size(s.code) = 6 AND s.people >= $county_people THEN 1 ELSE 0 END)
         AS big_counties,
       sum(CASE WHEN size(s.code) = 9 AND s.people >= $town_people THEN 1 ELSE 0 END)
         AS big_towns
"""


def _region(row: dict[str, Any]) -> RegionFigures:
    props = row["props"] or {}
    computed = props.get("computed_at")
    return RegionFigures(
        code=row["code"],
        name=row["name"],
        level=row["level"],
        figures=figures_of(props),
        computed_at=computed.to_native() if computed is not None else None,
    )


class AnalyticsRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def region(self, code: str) -> RegionFigures | None:
        row = self.graph.read_one(REGION, code=code)
        return None if row is None else _region(row)

    def children(self, code: str) -> list[RegionFigures]:
        return [_region(r) for r in self.graph.read(CHILDREN, code=code)]

    def roots(self) -> list[str]:
        return [str(r["code"]) for r in self.graph.read(ROOTS)]

    def projects_by_child(self, prefix: str, child_length: int) -> list[ProjectGroup]:
        rows = self.graph.read(PROJECTS_BY_CHILD, prefix=prefix, child_length=child_length)
        return [ProjectGroup.model_validate(r) for r in rows]

    def projects_by_source(self, prefix: str) -> list[ProjectGroup]:
        return [
            ProjectGroup.model_validate(r)
            for r in self.graph.read(PROJECTS_BY_SOURCE, prefix=prefix)
        ]

    def projects_by_start_month(self, prefix: str) -> list[ProjectGroup]:
        rows = self.graph.read(PROJECTS_BY_START_MONTH, prefix=prefix)
        return [ProjectGroup.model_validate(r) for r in rows]

    def headline(self, prefix: str, county_people: int, town_people: int) -> RegionHeadline:
        levels = {
            str(r["level"]): int(r["regions"])
            for r in self.graph.read(REGIONS_BY_LEVEL, prefix=prefix)
        }
        big = (
            self.graph.read_one(
                BIG_REGIONS, prefix=prefix, county_people=county_people, town_people=town_people
            )
            or {}
        )
        return RegionHeadline(
            regions_by_level=levels,
            big_counties=int(big.get("big_counties") or 0),
            big_towns=int(big.get("big_towns") or 0),
        )

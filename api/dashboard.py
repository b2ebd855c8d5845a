"""Region dashboards on the precomputed per-village statistics (graph/repositories/
region_stats.py): a region's totals and one row per sub-region, for the charts, their drill-down
(province → city → county → town → village) and the Excel export of the table behind them.

Scope as for GET /stats/{region}: the region must lie inside the caller's (404 otherwise), and
the breadcrumb shows only the levels the caller may open.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bangfu.errors import NotFoundError
from graph.ingest.export import write_xlsx
from graph.models import Region, RegionStats
from graph.repositories.region_stats import RegionStatsRepository
from graph.repositories.regions import RegionRepository
from matching.needs import Caller

# The tables behind the charts: (column key, heading zh, heading en) after the region's name.
TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "households": (
        ("households", "户数", "Households"),
        ("people", "人数", "People"),
        ("poor", "未脱贫", "Poor"),
        ("exited", "已脱贫", "Exited"),
        ("monitored", "监测对象", "Monitored"),
    ),
    "needs": (
        ("needs", "需求", "Needs"),
        ("open_needs", "待认领需求", "Open needs"),
        ("fulfilled_needs", "已完成需求", "Fulfilled needs"),
    ),
}


class RegionRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    level: str
    stats: RegionStats


class Dashboard(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: RegionRow
    trail: list[RegionRow]  # the caller's own region down to this one, for "up" links
    rows: list[RegionRow]  # one per sub-region (empty for a village)

    def table(self, name: str, lang: str) -> tuple[list[str], list[list[object]]]:
        """Headings and rows of one table behind a chart (KeyError for an unknown table)."""
        columns = TABLES[name]
        headings = ["区划代码" if lang != "en" else "Code", "区划" if lang != "en" else "Region"]
        headings += [en if lang == "en" else zh for _, zh, en in columns]
        rows: list[list[object]] = [
            [row.code, row.name, *(getattr(row.stats, key) for key, _, _ in columns)]
            for row in self.rows or [self.region]
        ]
        return headings, rows


class DashboardService:
    def __init__(self, regions: RegionRepository, stats: RegionStatsRepository) -> None:
        self.regions = regions
        self.stats = stats

    def default_region(self, caller: Caller) -> str:
        """The caller's own region (an admin's "" scope starts at the province, 44)."""
        own = caller.principal.region_code
        if own:
            return own
        return "44"

    def overview(self, caller: Caller, region_code: str) -> Dashboard:
        if not any(region_code.startswith(p) for p in caller.prefixes):
            raise NotFoundError(f"region {region_code} not found", message_zh="未找到该区划")
        ancestors = self.regions.ancestors(region_code)
        if not ancestors:
            raise NotFoundError(f"region {region_code} not found", message_zh="未找到该区划")
        visible = [r for r in ancestors if any(r.code.startswith(p) for p in caller.prefixes)]
        region = self._row(ancestors[-1])
        children = sorted(self.regions.children(region_code), key=lambda r: r.code)
        return Dashboard(
            region=region,
            trail=[self._row(r, with_stats=False) for r in visible[:-1]],
            rows=[self._row(r) for r in children],
        )

    def _row(self, region: Region, with_stats: bool = True) -> RegionRow:
        stats = self.stats.summary(region.code) if with_stats else RegionStats(code=region.code)
        return RegionRow(code=region.code, name=region.name, level=region.level.value, stats=stats)


def excel(headings: list[str], rows: list[list[object]]) -> bytes:
    """The table as an .xlsx file, through the import reports' writer (which neutralises cells
    a spreadsheet would run as formulas)."""
    with tempfile.TemporaryDirectory(prefix="bangfu-export-") as folder:
        path = Path(folder) / "table.xlsx"
        write_xlsx(path, headings, rows)
        return path.read_bytes()

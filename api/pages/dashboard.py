"""Dashboards on the analytics service (api/analytics.py, the same tables as
GET /api/v1/analytics/{table}): one chart per table for the caller's region, its sub-regions
as the bars (click one, or its name in the table, to drill down province → city → county →
town → village), and the table behind each chart as an Excel file.

Which columns a chart draws is a presentation choice made here (CHARTS); the table under it
and the export carry every column."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.analytics import AnalyticsService, AnalyticsTable, ExportFormat, Language, TableName
from api.deps import Graph
from api.pages.deps import page_caller_for
from api.pages.filters import REGION_PATTERN
from api.pages.i18n import Lang, label, lang_of, translate
from api.pages.render import finish, render
from api.policy import Action, can
from api.risk import AlertCounts, Risk
from graph.ingest.export import write_xlsx
from graph.repositories.analytics import AnalyticsRepository
from matching.needs import Caller

router = APIRouter(include_in_schema=False)

Reader = Annotated[Caller, Depends(page_caller_for(Action.READ_ANALYTICS))]
AlertReader = Annotated[Caller, Depends(page_caller_for(Action.READ_RISK_ALERTS))]
RegionCode = Annotated[str | None, Query(pattern=REGION_PATTERN)]
# A region code's parent: its code cut to the length of the level above.
_PARENT_LENGTH = {4: 2, 6: 4, 9: 6, 12: 9}


@dataclass(frozen=True)
class Chart:
    """Which columns of a table the chart draws: named keys, or every count column whose key
    starts with `prefix` (shares in % are left to the table)."""

    keys: tuple[str, ...] = ()
    prefix: str | None = None
    stacked: bool = True

    def columns(self, table: AnalyticsTable) -> list[tuple[str, str]]:
        if self.prefix is not None:
            prefix = self.prefix
            return [
                (c.key, c.label)
                for c in table.columns
                if c.key.startswith(prefix) and c.unit != "%"
            ]
        labels = {c.key: c.label for c in table.columns}
        return [(k, labels[k]) for k in self.keys if k in labels]


CHARTS: dict[TableName, Chart] = {
    TableName.HOUSEHOLDS: Chart(
        keys=("households_poor", "households_exited", "households_monitored")
    ),
    TableName.CAUSES: Chart(prefix="cause_"),
    TableName.INCOME: Chart(keys=("income_per_capita",), stacked=False),
    TableName.NEEDS: Chart(
        keys=(
            "needs_pending_review",
            "needs_open",
            "needs_claimed",
            "needs_in_progress",
            "needs_fulfilled",
            "needs_confirmed",
            "needs_closed",
        )
    ),
    TableName.NEED_CATEGORIES: Chart(prefix="category_"),
    TableName.FULFILMENT: Chart(keys=("fulfil_le7", "fulfil_le30", "fulfil_le90", "fulfil_gt90")),
    TableName.EXITS: Chart(prefix="exits_", stacked=False),
}


def chart_data(table: AnalyticsTable, chart: Chart) -> dict[str, object]:
    """What dashboard.js draws: one bar per sub-region (the region itself when it has none)."""
    rows = table.rows or [table.total]
    return {
        "categories": [str(r.get("region_name") or r.get("region_code")) for r in rows],
        "codes": [r.get("region_code") for r in rows],
        "drill": bool(table.rows) and table.child_level is not None,
        "stacked": chart.stacked,
        "series": [
            {"name": label, "data": [r.get(key) or 0 for r in rows]}
            for key, label in chart.columns(table)
        ],
    }


def analytics_service(graph: Graph) -> AnalyticsService:
    return AnalyticsService(AnalyticsRepository(graph))


Analytics = Annotated[AnalyticsService, Depends(analytics_service)]


@router.get("/dashboard")
def dashboard(
    request: Request, caller: Reader, analytics: Analytics, risk: Risk, region: RegionCode = None
) -> Response:
    lang = Language(lang_of(request))
    tables = [analytics.table(caller, name, region, lang) for name in CHARTS]
    here = tables[0]
    parent = here.region_code[: _PARENT_LENGTH.get(len(here.region_code), 0)]
    up = parent if parent and any(parent.startswith(p) for p in caller.prefixes) else None
    charts = [(t, chart_data(t, CHARTS[t.table])) for t in tables]
    alerts = None
    if can(caller.principal, Action.READ_RISK_ALERTS):
        counts = risk.status_counts(caller, here.region_code)
        alerts = {"counts": counts, "data": alert_chart(counts, lang_of(request))}
    context = {"here": here, "up": up, "charts": charts, "alerts": alerts}
    return render(request, "dashboard.html", context)


def alert_chart(counts: AlertCounts, lang: Lang) -> dict[str, object]:
    """The alerts chart: one bar per step of the procedure, for the region itself."""
    steps = list(counts.counts)
    return {
        "categories": [label(lang, s) for s in steps],
        "codes": [],
        "drill": False,
        "stacked": False,
        "series": [
            {
                "name": translate(lang, "alerts_title"),
                "data": [counts.counts[s] for s in steps],
            }
        ],
    }


@router.get("/dashboard/export")
def export(
    request: Request,
    caller: Reader,
    analytics: Analytics,
    table: TableName,
    region: RegionCode = None,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.XLSX,
) -> Response:
    exported = analytics.export(caller, table, fmt, region, Language(lang_of(request)))
    response = Response(exported.content, media_type=exported.media_type, headers=exported.headers)
    return finish(request, response)


@router.get("/dashboard/alerts.xlsx")
def export_alerts(
    request: Request, caller: AlertReader, risk: Risk, region: RegionCode
) -> Response:
    """The table behind the alerts chart."""
    lang = lang_of(request)
    code = region or caller.principal.region_code or ""
    counts = risk.status_counts(caller, code)
    buffer = io.BytesIO()
    header = [translate(lang, "region_code"), translate(lang, "status"), translate(lang, "count")]
    write_xlsx(
        buffer,
        header,
        [[code, label(lang, s), n] for s, n in counts.counts.items()],
        sheet_title="alerts",
    )
    headers = {"Content-Disposition": f'attachment; filename="alerts_{code}.xlsx"'}
    return finish(
        request,
        Response(buffer.getvalue(), media_type=ExportFormat.XLSX.media_type, headers=headers),
    )

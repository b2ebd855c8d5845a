"""Officials' dashboards: charts of their region's households and needs by sub-region, drill
down a level per click, and the table behind each chart as an Excel file."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.dashboard import TABLES, DashboardService, excel
from api.deps import Graph
from api.pages.deps import page_caller_for
from api.pages.filters import REGION_PATTERN
from api.pages.i18n import lang_of
from api.pages.render import finish, render
from api.policy import Action
from graph.repositories.region_stats import RegionStatsRepository
from graph.repositories.regions import RegionRepository
from matching.needs import Caller

router = APIRouter(include_in_schema=False)

# The same admission as GET /api/v1/stats/{region}.
Reader = Annotated[Caller, Depends(page_caller_for(Action.READ_HOUSEHOLD))]
RegionCode = Annotated[str | None, Query(pattern=REGION_PATTERN)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def dashboard_service(graph: Graph) -> DashboardService:
    return DashboardService(RegionRepository(graph), RegionStatsRepository(graph))


Dashboards = Annotated[DashboardService, Depends(dashboard_service)]


@router.get("/dashboard")
def dashboard(
    request: Request, caller: Reader, service: Dashboards, region: RegionCode = None
) -> Response:
    view = service.overview(caller, region or service.default_region(caller))
    lang = lang_of(request)
    tables = {name: view.table(name, lang) for name in TABLES}
    return render(request, "dashboard.html", {"view": view, "tables": tables})


@router.get("/dashboard/export.xlsx")
def export(
    request: Request,
    caller: Reader,
    service: Dashboards,
    table: Literal["households", "needs"],
    region: RegionCode = None,
) -> Response:
    view = service.overview(caller, region or service.default_region(caller))
    headings, rows = view.table(table, lang_of(request))
    filename = f"bangfu-{table}-{view.region.code}.xlsx"
    response = Response(
        excel(headings, rows),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    return finish(request, response)

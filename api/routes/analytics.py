"""Analytics dashboards and their exports (api/analytics.py). Thin: the policy dependency
admits the role and brings the caller's scope, then one service call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.analytics import (
    AnalyticsService,
    AnalyticsTable,
    ExportFormat,
    Language,
    TableInfo,
    TableName,
)
from api.deps import Graph, caller_for
from api.policy import Action
from graph.repositories.analytics import AnalyticsRepository
from matching.needs import Caller

router = APIRouter(tags=["analytics"])


def analytics_service(graph: Graph) -> AnalyticsService:
    return AnalyticsService(AnalyticsRepository(graph))


Analytics = Annotated[AnalyticsService, Depends(analytics_service)]
Reader = Annotated[Caller, Depends(caller_for(Action.READ_ANALYTICS))]
RegionCode = Annotated[
    str | None,
    Query(
        pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$",
        description="region code; default: your own region (the province for admins, auditors)",
    ),
]
Lang = Annotated[Language, Query(description="labels: zh (default) or en")]


@router.get("/analytics", response_model=list[TableInfo])
def analytics_catalogue(
    caller: Reader, analytics: Analytics, lang: Lang = Language.ZH
) -> list[TableInfo]:
    """The dashboard tables there are."""
    return analytics.catalogue(lang)


@router.get("/analytics/{table}", response_model=AnalyticsTable)
def analytics_table(
    table: TableName,
    caller: Reader,
    analytics: Analytics,
    region: RegionCode = None,
    lang: Lang = Language.ZH,
) -> AnalyticsTable:
    """A region's figures (`total`) and one row per child region (or month, or fund source),
    with how fresh they are (`computed_at`)."""
    return analytics.table(caller, table, region, lang)


@router.get(
    "/analytics/{table}/export",
    response_class=Response,
    responses={
        200: {"content": {ExportFormat.CSV.media_type: {}, ExportFormat.XLSX.media_type: {}}}
    },
)
def analytics_export(
    table: TableName,
    caller: Reader,
    analytics: Analytics,
    fmt: Annotated[
        ExportFormat, Query(alias="format", description="csv or xlsx")
    ] = ExportFormat.CSV,
    region: RegionCode = None,
    lang: Lang = Language.ZH,
) -> Response:
    """The table as a CSV or Excel file (total row first; formula-like cells neutralised)."""
    exported = analytics.export(caller, table, fmt, region, lang)
    return Response(exported.content, media_type=exported.media_type, headers=exported.headers)

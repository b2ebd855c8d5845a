"""Imports: upload a file (then a worker validates and writes it; follow GET /jobs/{id}) and read
its validation report. Admins import anywhere, officials rows of their own region only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, UploadFile, status
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from api.deps import Graph, Pagination, RequestId, require_roles
from api.imports import ImportService
from bangfu.access import Principal, Role
from bangfu.settings import get_settings
from graph.ingest.schemas import SOURCES
from graph.ingest.store import ImportStore
from graph.models import ImportReport, Job
from graph.repositories.audit import AuditRepository
from graph.repositories.imports import ImportRepository
from graph.repositories.jobs import JobRepository

router = APIRouter(tags=["imports"])


def import_service(graph: Graph) -> ImportService:
    settings = get_settings().imports
    return ImportService(
        JobRepository(graph),
        ImportRepository(graph),
        AuditRepository(graph),
        ImportStore(settings.store_dir),
        settings,
    )


Imports = Annotated[ImportService, Depends(import_service)]
Importer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OFFICIAL))]
ImportId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the import's job id")]
_SOURCES = ", ".join(SOURCES)

_DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as JSON, or with format=csv|xlsx as a download",
        "content": {
            "text/csv": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        },
    }
}
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/imports", response_model=Job, status_code=status.HTTP_202_ACCEPTED)
def upload_import(
    file: UploadFile,
    source: Annotated[
        str,
        Form(max_length=60, description=f"the declared schema the file follows: {_SOURCES}"),
    ],
    importer: Importer,
    imports: Imports,
    rid: RequestId,
    good_rows_only: Annotated[
        bool, Form(description="import the good rows even when some rows are bad")
    ] = False,
) -> Job:
    """Upload a CSV or XLSX file. It is stored, checked for format, encoding and headers (422
    at once when it cannot be read), then validated and written by a worker: follow
    GET /jobs/{id}, read GET /imports/{id}/report."""
    return imports.submit(importer, source, file.filename or "", file.file, good_rows_only, rid)


@router.get("/imports/{import_id}/report", response_model=ImportReport, responses=_DOWNLOADS)
def import_report(
    import_id: ImportId,
    importer: Importer,
    imports: Imports,
    page: Pagination,
    fmt: Annotated[
        Literal["json", "csv", "xlsx"],
        Query(alias="format", description="json (paged) or a download"),
    ] = "json",
) -> ImportReport | StreamingResponse | FileResponse:
    """Summary (file hash, counts per code) and every bad cell: row as a spreadsheet shows it,
    column, code, message in Chinese and English, value masked."""
    if fmt == "csv":
        lines = imports.report_csv(importer, import_id)
        return StreamingResponse(
            lines,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="import-{import_id}.csv"'},
        )
    if fmt == "xlsx":
        path = imports.report_xlsx(importer, import_id)
        return FileResponse(
            path,
            media_type=_XLSX,
            filename=f"import-{import_id}.xlsx",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    return imports.report(importer, import_id, page.page, page.page_size)

"""Imports as the API and the CLI start and read them: store the file, check that it can be read
at all (format, encoding, headers: a clear 422 at once instead of a failed job later), create
the job and queue it, and serve the validation report (JSON pages or a CSV / XLSX download
with formulas neutralised)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bangfu.access import Principal, Role
from bangfu.errors import InvalidInputError, NotFoundError
from bangfu.settings import ImportSettings
from graph.ingest.export import REPORT_HEADER, csv_lines, report_rows, write_xlsx
from graph.ingest.pipeline import schema_of
from graph.ingest.reader import open_table
from graph.ingest.store import ImportStore, StoredFile
from graph.ingest.validation import Issue, map_header
from graph.models import (
    AuditEntry,
    ImportIssue,
    ImportReport,
    ImportSummary,
    Job,
    JobState,
)
from graph.repositories.audit import AuditRepository
from graph.repositories.imports import ImportRepository
from graph.repositories.jobs import JobRepository
from workers.dispatch import start_job
from workers.imports import IMPORT, create_import_job

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def importer_scope(principal: Principal) -> tuple[str, ...]:
    """Admins import anywhere; an official only rows of their own region."""
    if principal.role is Role.ADMIN:
        return ("",)
    if principal.role is Role.OFFICIAL and principal.region_code:
        return (principal.region_code,)
    raise InvalidInputError(
        "only admins and officials bound to a region may import",
        message_zh="只有管理员和有管辖区域的干部可以导入数据",
    )


def clean_file_name(name: str) -> str:
    """The uploaded file's base name, without control characters or path parts, for display."""
    base = _UNSAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return base[:200] or "upload"


class ImportService:
    def __init__(
        self,
        jobs: JobRepository,
        imports: ImportRepository,
        audit: AuditRepository,
        store: ImportStore,
        settings: ImportSettings,
    ) -> None:
        self.jobs = jobs
        self.imports = imports
        self.audit = audit
        self.store = store
        self.settings = settings

    # --- starting -------------------------------------------------------------------------

    def store_upload(self, stream: IO[bytes]) -> StoredFile:
        return self.store.save_stream(stream, self.settings.max_file_bytes)

    def store_path(self, path: Path) -> StoredFile:
        return self.store.save_path(path, self.settings.max_file_bytes)

    def probe(self, source: str, stored: StoredFile) -> None:
        """Refuse at once a file that cannot be read as this source (ImportFileError, 422)."""
        schema = schema_of(source)
        with open_table(stored.path, self.settings.max_file_bytes, self.settings.max_rows) as table:
            map_header(table.header, schema)

    def create(
        self,
        *,
        created_by: str,
        actor_role: str,
        scope: tuple[str, ...],
        source: str,
        stored: StoredFile,
        file_name: str,
        good_rows_only: bool,
        request_id: str | None = None,
    ) -> Job:
        """Record the job (and its audit event), without queueing it."""
        job = create_import_job(
            self.jobs,
            created_by=created_by,
            actor_role=actor_role,
            source=source,
            sha256=stored.sha256,
            file_name=clean_file_name(file_name),
            good_rows_only=good_rows_only,
            scope=scope,
        )
        self.audit.append(
            AuditEntry(
                actor_id=created_by,
                actor_role=actor_role,
                action="import.requested",
                subject_type="import",
                subject_id=job.id,
                after={
                    "source": source,
                    "sha256": stored.sha256,
                    "bytes": stored.size,
                    "good_rows_only": good_rows_only,
                },
                request_id=request_id,
            )
        )
        return job

    def submit(
        self,
        principal: Principal,
        source: str,
        file_name: str,
        stream: IO[bytes],
        good_rows_only: bool,
        request_id: str | None = None,
    ) -> Job:
        """Store an upload, check it can be read, record the job and queue its validation."""
        scope = importer_scope(principal)
        schema_of(source)
        stored = self.store_upload(stream)
        self.probe(source, stored)
        job = self.create(
            created_by=principal.user_id,
            actor_role=principal.role.value,
            scope=scope,
            source=source,
            stored=stored,
            file_name=file_name,
            good_rows_only=good_rows_only,
            request_id=request_id,
        )
        start_job(job.id, job.kind)  # the job record has committed
        return job

    # --- reading ----------------------------------------------------------------------------

    def _job(self, principal: Principal | None, import_id: str) -> Job:
        if not re.fullmatch(r"[0-9a-f]{32}", import_id):
            raise NotFoundError(f"import {import_id[:40]} not found", message_zh="未找到该导入")
        job = self.jobs.get(import_id)
        if job.kind != IMPORT or (
            principal is not None
            and principal.role is not Role.ADMIN
            and job.created_by != principal.user_id
        ):
            raise NotFoundError(f"import {import_id} not found", message_zh="未找到该导入")
        return job

    def summary(
        self, principal: Principal | None, import_id: str
    ) -> tuple[Job, ImportSummary | None]:
        job = self._job(principal, import_id)
        return job, ImportSummary.model_validate(job.result) if job.result else None

    def report(
        self, principal: Principal | None, import_id: str, page: int, page_size: int
    ) -> ImportReport:
        job, summary = self.summary(principal, import_id)
        issues = self.store.read_report(import_id, (page - 1) * page_size, page_size)
        return ImportReport(
            import_id=import_id,
            state=job.state,
            summary=summary,
            issues=tuple(ImportIssue(**i._asdict()) for i in issues),
            issues_total=summary.issues if summary else 0,
            page=page,
            page_size=page_size,
        )

    def issues(self, principal: Principal | None, import_id: str) -> Iterator[Issue]:
        self._job(principal, import_id)
        return self.store.iter_report(import_id)

    def report_csv(self, principal: Principal | None, import_id: str) -> Iterator[bytes]:
        return csv_lines(REPORT_HEADER, report_rows(self.issues(principal, import_id)))

    def report_xlsx(self, principal: Principal | None, import_id: str) -> Path:
        """The report as a workbook in a temporary file the caller removes after sending."""
        issues = self.issues(principal, import_id)
        handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
        handle.close()
        path = Path(handle.name)
        write_xlsx(path, REPORT_HEADER, report_rows(issues))
        return path

    def finished(self, import_id: str) -> bool:
        """Whether the job has stopped moving (validated and rejected, or all chunks done)."""
        job = self.jobs.get(import_id)
        return job.state in (JobState.SUCCEEDED, JobState.FAILED)

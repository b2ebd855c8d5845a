"""Auditors search the audit trail: by subject, actor and time range, newest first (the same
search as GET /api/v1/audit; other roles get the 403 page, and their attempt is recorded)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.audit import search_audit
from api.pages.deps import PageAudit
from api.pages.filters import PAGE_SIZE, AuditFilter
from api.pages.render import render
from api.routes.audit import audit_filters

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit(request: Request, trail: PageAudit, filters: Annotated[AuditFilter, Query()]) -> Response:
    query = audit_filters(
        subject_type=filters.subject_type,
        subject_id=filters.subject_id,
        actor_id=filters.actor_id,
        since=filters.since,
        until=filters.until,
    )
    page = search_audit(trail, query, filters.page, PAGE_SIZE)
    return render(request, "audit.html", {"page": page, "filters": filters})

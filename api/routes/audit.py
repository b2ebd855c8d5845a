from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.audit import AuditPage, search_audit
from api.deps import Audit, Pagination
from graph.models import AuditQuery

router = APIRouter(tags=["audit"])

_NAME = r"^[A-Za-z0-9_.:-]{1,100}$"
_NAIVE = "; a time without a zone is UTC"


def _utc(value: datetime | None) -> datetime | None:
    # A time without a zone is taken as UTC, the zone the trail is stored in.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def audit_filters(
    subject_type: Annotated[str | None, Query(pattern=_NAME, description="e.g. need, user")] = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    actor_id: Annotated[str | None, Query(max_length=200, description="user id")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive" + _NAIVE)] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, exclusive" + _NAIVE)] = None,
) -> AuditQuery:
    return AuditQuery(
        subject_type=subject_type,
        subject_id=subject_id,
        actor_id=actor_id,
        since=_utc(since),
        until=_utc(until),
    )


@router.get("/audit", response_model=AuditPage)
def audit_events(
    trail: Audit, page: Pagination, filters: Annotated[AuditQuery, Depends(audit_filters)]
) -> AuditPage:
    """The audit trail, newest first (auditors and admins only)."""
    return search_audit(trail, filters, page.page, page.page_size)

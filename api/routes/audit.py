from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.audit import AuditPage, search_audit
from api.deps import Audit, Pagination
from bangfu.errors import InvalidInputError
from graph.models import AuditQuery

router = APIRouter(tags=["audit"])

_NAME = r"^[A-Za-z0-9_.:-]{1,100}$"
_NAIVE = "; a time without a zone is UTC"


def _utc(value: datetime | None) -> datetime | None:
    """The time in UTC, the zone the trail is stored in; a time without a zone is taken as UTC.
    Offsets beyond Neo4j's +-18:00 and years the driver cannot hold become a 422, not a 500."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise InvalidInputError("time out of range", message_zh="时间超出范围") from None
    if value.year < 1900:
        raise InvalidInputError(
            "time out of range: use a year from 1900", message_zh="时间超出范围：年份应不早于 1900"
        )
    return value


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

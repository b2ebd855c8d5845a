"""The audit trail as services use it: one AuditTrail per request (or per CLI run) records who did
what to which subject, with which outcome; auditors search it.

Every write, every denied attempt and every reveal of personal data goes through `record`,
`denied` or `authorize`. Values are masked by the repository before they are hashed and stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from api.policy import Action, ensure_can, ensure_role
from bangfu.access import Principal, Role
from bangfu.errors import NotFoundError, PermissionDeniedError
from graph.models import AuditEntry, AuditEvent, AuditOutcome, AuditQuery
from graph.repositories.audit import AuditRepository

Snapshot = Mapping[str, Any] | BaseModel | None
Statements = Sequence[tuple[str, Mapping[str, Any]]]


def _snapshot(value: Snapshot) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        # Python mode keeps SecretStr values as SecretStr: the repository masks them by key.
        return value.model_dump()
    return dict(value)


class AuditTrail:
    """Records events for one actor: a signed-in principal, or a named system actor (the CLI)."""

    def __init__(
        self,
        repo: AuditRepository,
        *,
        principal: Principal | None = None,
        system_actor: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.repo = repo
        self.principal = principal
        self.request_id = request_id
        if principal is not None:
            self.actor_id: str | None = principal.user_id
            self.actor_role: str | None = principal.role.value
        else:
            self.actor_id = system_actor
            self.actor_role = "system" if system_actor else None

    @classmethod
    def system(cls, repo: AuditRepository, name: str) -> AuditTrail:
        """A trail for trusted operators outside the API (e.g. "cli")."""
        return cls(repo, system_actor=name)

    def record(
        self,
        action: str,
        subject_type: str,
        subject_id: str | None = None,
        *,
        before: Snapshot = None,
        after: Snapshot = None,
        outcome: AuditOutcome = AuditOutcome.OK,
        reason: str | None = None,
        statements: Statements = (),
    ) -> AuditEvent:
        """Append one event. Pass the write's own `statements` (graph/ Cypher and parameters) to
        commit the change and its event in one transaction."""
        entry = AuditEntry(
            actor_id=self.actor_id,
            actor_role=self.actor_role,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            outcome=outcome,
            reason=reason,
            before=_snapshot(before),
            after=_snapshot(after),
            request_id=self.request_id,
        )
        return self.repo.append(entry, statements)

    def denied(
        self, action: str, subject_type: str, subject_id: str | None = None, *, reason: str
    ) -> AuditEvent:
        return self.record(
            action, subject_type, subject_id, outcome=AuditOutcome.DENIED, reason=reason
        )

    def authorize(
        self,
        action: Action,
        subject_type: str,
        subject_id: str | None = None,
        *,
        region_code: str | None = None,
        claimed_by: str | None = None,
        helper_id: str | None = None,
    ) -> None:
        """`policy.ensure_can` for this trail's principal; a refusal is recorded, then raised."""
        principal = self._require_principal(action.value, subject_type, subject_id)
        subject = f"{subject_type} {subject_id}" if subject_id else subject_type
        try:
            ensure_can(
                principal,
                action,
                region_code=region_code,
                claimed_by=claimed_by,
                helper_id=helper_id,
                subject=subject,
            )
        except (PermissionDeniedError, NotFoundError) as exc:
            reason = "out_of_scope" if isinstance(exc, NotFoundError) else "not_permitted"
            self.denied(action.value, subject_type, subject_id, reason=reason)
            raise

    def require_roles(self, roles: frozenset[Role], endpoint: str) -> Principal:
        """`policy.ensure_role` for a whole endpoint; a refusal is recorded, then raised."""
        principal = self._require_principal("call_endpoint", "endpoint", endpoint)
        try:
            ensure_role(principal, roles)
        except PermissionDeniedError:
            self.denied("call_endpoint", "endpoint", endpoint, reason="not_permitted")
            raise
        return principal

    def _require_principal(
        self, action: str, subject_type: str, subject_id: str | None
    ) -> Principal:
        if self.principal is None:
            self.denied(action, subject_type, subject_id, reason="no_principal")
            raise PermissionDeniedError("no signed-in caller", message_zh="未登录的调用方")
        return self.principal


class AuditPage(BaseModel):
    items: list[AuditEvent]
    page: int
    page_size: int
    has_more: bool


def search_audit(trail: AuditTrail, query: AuditQuery, page: int, page_size: int) -> AuditPage:
    """Auditors and admins only; newest events first."""
    trail.authorize(Action.READ_AUDIT, "audit_trail")
    # One extra row tells whether another page exists without counting the whole trail.
    rows = trail.repo.search(query, skip=(page - 1) * page_size, limit=page_size + 1)
    return AuditPage(
        items=rows[:page_size], page=page, page_size=page_size, has_more=len(rows) > page_size
    )

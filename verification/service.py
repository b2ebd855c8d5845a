"""Verification tasks (核查任务) as field workers and officials use them: start a cross-check of
a region, list the findings of one's region, read one, resolve it, and the error-rate report.

Region scope is the caller's prefixes (api/policy.py `scope_for`): a task outside them is "not
found", the same answer as a task that does not exist. A resolution, its record changes and its
audit event commit in one transaction (graph/repositories/crosscheck.py `resolve`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from bangfu.access import Principal, Role
from bangfu.errors import NotFoundError
from graph.models import AuditEntry, Finding, FindingPage, FindingQuery, FindingState, Job
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from verification import resolution
from verification.jobs import CROSS_CHECK, create_cross_check_job
from verification.report import ErrorRateReport, error_rates

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class Actor(BaseModel):
    """Who acts and where they may act (region-code prefixes from api/policy.py)."""

    model_config = ConfigDict(frozen=True)

    principal: Principal
    prefixes: tuple[str, ...]
    request_id: str | None = None

    def covers(self, region: str) -> bool:
        return any(region.startswith(p) for p in self.prefixes)


def _snapshot(finding: Finding) -> dict[str, Any]:
    return {
        "status": finding.status.value,
        "rule": finding.rule.value,
        "household_id": finding.household_id,
        "person_id": finding.person_id,
    }


class VerificationService:
    def __init__(
        self, repo: CrossCheckRepository, jobs: JobRepository, clock: Clock = _now
    ) -> None:
        self.repo = repo
        self.jobs = jobs
        self.clock = clock

    def create_job(
        self,
        actor: Actor,
        region: str | None,
        as_of: date | None = None,
        villages_per_chunk: int | None = None,
    ) -> Job:
        """The job record of a cross-check of `region` (default: the caller's own region);
        the caller sends its task once this has committed."""
        target = region if region is not None else _own_region(actor)
        if not actor.covers(target):
            raise NotFoundError(f"region {target} not found", message_zh="未找到该区划")
        return create_cross_check_job(
            self.jobs,
            created_by=actor.principal.user_id,
            region=target,
            as_of=as_of,
            villages_per_chunk=villages_per_chunk,
        )

    def get_job(self, actor: Actor, job_id: str) -> Job:
        """A cross-check job's record, as GET /jobs/{id} guards it (its creator or an admin)
        and further: only a cross-check, and only of a region inside the caller's scope (a
        creator moved to another county no longer sees the old county's job). Anything else is
        "not found", the same answer as a job that does not exist."""
        job = self.jobs.get(job_id)
        own = actor.principal.role is Role.ADMIN or job.created_by == actor.principal.user_id
        region = str(job.params.get("region", ""))
        if job.kind != CROSS_CHECK or not own or not actor.covers(region):
            raise NotFoundError(f"job {job_id} not found", message_zh="未找到该任务")
        return job

    def list_tasks(self, actor: Actor, query: FindingQuery) -> FindingPage:
        return self.repo.list_findings(query, actor.prefixes)

    def get_task(self, actor: Actor, key: str) -> Finding:
        return self.repo.get_in_scope(key, actor.prefixes)

    def resolve(self, actor: Actor, key: str, body: resolution.Resolution) -> Finding:
        now = self.clock()

        def decide(state: FindingState) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            change = resolution.decide(state, body, actor.principal.user_id, now)
            return change.finding_props, change.person_props, change.household_props

        def audit(state: FindingState, written: dict[str, Any]) -> AuditEntry:
            return AuditEntry(
                actor_id=actor.principal.user_id,
                actor_role=actor.principal.role.value,
                action=f"finding.{body.outcome}",
                subject_type="finding",
                subject_id=key,
                reason=body.note,
                before=_snapshot(state.finding),
                after={k: v for k, v in written.items() if k != "resolution_note"},
                request_id=actor.request_id,
            )

        return self.repo.resolve(key, actor.prefixes, decide, audit)

    def error_rates(self, actor: Actor, region: str | None = None) -> ErrorRateReport:
        """Per county, the part inside the caller's scope (or inside `region`, which must be)."""
        if region is not None:
            if not actor.covers(region):
                raise NotFoundError(f"region {region} not found", message_zh="未找到该区划")
            prefixes = [region]
        else:
            prefixes = list(actor.prefixes)
        stats = [s for prefix in prefixes for s in self.repo.county_stats(prefix)]
        return error_rates(stats)


def _own_region(actor: Actor) -> str:
    if actor.principal.region_code:
        return actor.principal.region_code
    if "" in actor.prefixes:
        return ""
    raise NotFoundError("no region to check", message_zh="未指定区划")

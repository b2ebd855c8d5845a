"""Projects (扶贫项目): the Project node, its milestones, funds by source, beneficiaries and
their income effect, changes under the project's lock, and the anomaly checks.

Milestones, fund lines, income effects and flags are nodes keyed by the project's id (an
indexed `project_id` property), not linked by relationships: Neo4j 5 deadlocks transactions that
create relationships on a node others queue to lock (graph/repositories/needs.py measured it),
so a change takes the lock of a separate ProjectLock node, and BENEFITS is the one relationship
a change creates.

Scope: a project belongs to its village, or to its county when it is county-wide
(`coalesce(village_code, county_code)`); a caller sees it when that code starts with one of
the caller's prefixes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from neo4j import ManagedTransaction

from bangfu.errors import ConflictError, NotFoundError
from bangfu.vocabulary import ProjectAnomaly
from graph.client import GraphClient
from graph.models import AuditEntry, Project
from graph.project_records import (
    AnomalyFlag,
    Beneficiary,
    FundLine,
    IncomeEffect,
    Milestone,
    ProjectChange,
    ProjectDetails,
    ProjectPage,
    ProjectQuery,
    ProjectState,
    ProjectSummary,
)
from graph.repositories.audit import append_in_transaction
from graph.repositories.jobs import complete_chunk_in, lock_chunk

SAVE_PROJECTS = """
UNWIND $rows AS r
MATCH (region:Region {code: coalesce(r.village_code, r.county_code)})
MERGE (p:Project {id: r.id})
SET p += r
MERGE (p)-[:IN_REGION]->(region)
RETURN count(*) AS written
"""

ADD_BENEFICIARIES = """
UNWIND $rows AS r
MATCH (p:Project {id: r.project_id})
MATCH (h:Household {id: r.household_id})
MERGE (p)-[:BENEFITS]->(h)
RETURN count(*) AS written
"""

SAVE_MILESTONES = """
UNWIND $rows AS r
MERGE (m:ProjectMilestone {id: r.id})
SET m += r
RETURN count(*) AS written
"""

SAVE_FUNDS = """
UNWIND $rows AS r
MERGE (f:ProjectFund {id: r.id})
SET f += r
RETURN count(*) AS written
"""

GET_PROJECT = "MATCH (p:Project {id: $id}) RETURN p {.*} AS p"

BENEFICIARIES = """
MATCH (:Project {id: $id})-[:BENEFITS]->(h:Household)
RETURN h.id AS household_id ORDER BY household_id
"""

_IN_SCOPE = (
    "any(prefix IN $prefixes WHERE coalesce(p.village_code, p.county_code) STARTS WITH prefix)"
)

CREATE_PROJECT = """
MATCH (region:Region {code: $region_code})
CREATE (p:Project)
SET p = $props
CREATE (p)-[:IN_REGION]->(region)
RETURN p.id AS id
"""

# Changes serialise on one ProjectLock node per project, which never gets relationships: adding
# beneficiaries creates BENEFITS on the project node, and 40 concurrent additions locking the
# project node itself deadlocked (retried by the driver, measured); on the lock node they queue.
LOCK_PROJECT_IN_SCOPE = (
    """
MATCH (p:Project {id: $id})
WHERE """
    + _IN_SCOPE
    + """
MERGE (lock:ProjectLock {project_id: p.id})
SET lock.lock_version = coalesce(lock.lock_version, 0) + 1
RETURN p.id AS id
"""
)

IN_SCOPE = "MATCH (p:Project {id: $id}) WHERE " + _IN_SCOPE + " RETURN p.id AS id"

READ_PROJECT = """
MATCH (p:Project {id: $id})
CALL (p) {
  OPTIONAL MATCH (m:ProjectMilestone {project_id: p.id})
  RETURN collect(m {.*}) AS milestones
}
CALL (p) {
  OPTIONAL MATCH (f:ProjectFund {project_id: p.id})
  RETURN collect(f {.*}) AS funds
}
CALL (p) {
  OPTIONAL MATCH (p)-[:BENEFITS]->(h:Household)
  RETURN collect(CASE WHEN h IS NULL THEN null
                 ELSE {household_id: h.id, village_code: h.village_code, status: h.status} END)
         AS beneficiaries
}
CALL (p) {
  OPTIONAL MATCH (e:ProjectIncome {project_id: p.id})
  RETURN collect(e {.*}) AS effects
}
RETURN p {.*} AS p, milestones, funds, beneficiaries, effects
"""

# Households a change may add: inside the project's own region and the caller's.
CANDIDATE_HOUSEHOLDS = """
UNWIND $ids AS hid
MATCH (h:Household {id: hid})
WHERE h.village_code STARTS WITH $project_region
  AND any(prefix IN $prefixes WHERE h.village_code STARTS WITH prefix)
RETURN h.id AS household_id, h.village_code AS village_code, h.status AS status
"""

SET_PROJECT = "MATCH (p:Project {id: $id}) SET p += $props"

CREATE_MILESTONE = "CREATE (m:ProjectMilestone) SET m = $props"

ACHIEVE_MILESTONE = """
MATCH (m:ProjectMilestone {id: $milestone_id, project_id: $id})
SET m.achieved_date = $achieved
"""

SET_FUND = "MERGE (f:ProjectFund {id: $fund_id}) SET f += $props"

LINK_BENEFICIARIES = """
MATCH (p:Project {id: $id})
UNWIND $household_ids AS hid
MATCH (h:Household {id: hid})
MERGE (p)-[:BENEFITS]->(h)
"""

SET_INCOME = "MERGE (e:ProjectIncome {id: $key}) SET e += $props"

# --- listing ---------------------------------------------------------------------------------
# 8,240 projects in the province: a scan of the label filtered by prefix is a few ms, so no
# second shape for wide scopes as needs have.
_LIST_FILTERS = """
UNWIND $prefixes AS prefix
MATCH (p:Project)
WHERE coalesce(p.village_code, p.county_code) STARTS WITH prefix
  AND ($stage IS NULL OR p.stage = $stage)
  AND ($type IS NULL OR p.type = $type)
  AND ($region_code IS NULL OR coalesce(p.village_code, p.county_code) STARTS WITH $region_code)
  AND ($text IS NULL OR p.name CONTAINS $text)
"""

LIST_PROJECTS = (
    _LIST_FILTERS
    + """
WITH DISTINCT p ORDER BY p.id SKIP $skip LIMIT $limit
RETURN p {.*} AS p, COUNT { (p)-[:BENEFITS]->() } AS beneficiaries
"""
)

COUNT_PROJECTS = _LIST_FILTERS + "RETURN count(DISTINCT p) AS total"

# --- anomaly checks --------------------------------------------------------------------------
# Each takes the prefixes to check (a caller's scope, or a scan chunk's county codes) and the
# thresholds from ProjectSettings; each returns the numbers that make its finding.

_PROJECTS_UNDER = """
UNWIND $prefixes AS prefix
MATCH (p:Project)
WHERE coalesce(p.village_code, p.county_code) STARTS WITH prefix
"""

# Progress of projects without the property (loaded before milestones existed) follows from
# their stage: running or finished projects are done, others have not started.
_PROGRESS = (
    "coalesce(p.progress_pct, CASE WHEN p.stage IN ['operation', 'completed'] THEN 100 ELSE 0 END)"
)

CHECK_DISBURSED_WITHOUT_PROGRESS = (
    _PROJECTS_UNDER
    + """
  AND p.stage IN ['approved', 'implementation', 'operation', 'completed']
  AND p.funds_allocated > 0
WITH DISTINCT p, toFloat(p.funds_disbursed) / p.funds_allocated AS share, """
    + _PROGRESS
    + """ AS progress
WHERE share - progress / 100.0 > $advance_share
RETURN p.id AS project_id, p.county_code AS county_code,
       coalesce(p.village_code, p.county_code) AS region_code,
       p.funds_allocated AS allocated, p.funds_disbursed AS disbursed, share, progress
ORDER BY project_id
"""
)

CHECK_STALLED = (
    _PROJECTS_UNDER
    + """
  AND p.stage IN ['approved', 'implementation']
WITH DISTINCT p, coalesce(p.last_milestone_at, p.approved_at, p.start_date) AS since
WHERE since < $as_of - duration({days: $stall_days})
RETURN p.id AS project_id, p.county_code AS county_code,
       coalesce(p.village_code, p.county_code) AS region_code, p.stage AS stage,
       since, p.last_milestone_at AS last_milestone_at,
       duration.inDays(since, $as_of).days AS idle_days
ORDER BY project_id
"""
)

CHECK_INELIGIBLE = (
    _PROJECTS_UNDER
    + """
  AND p.stage <> 'rejected'
WITH DISTINCT p
MATCH (p)-[:BENEFITS]->(h:Household)
WHERE NOT h.status IN $eligible
RETURN p.id AS project_id, p.county_code AS county_code,
       coalesce(p.village_code, p.county_code) AS region_code,
       h.id AS household_id, h.status AS status
ORDER BY project_id, household_id
"""
)

# From the projects (8,240 in the province, ~83,000 BENEFITS): the same cost at every scope,
# where starting from the households would walk 664,000 of them for the province.
CHECK_TOO_MANY = """
UNWIND $prefixes AS prefix
MATCH (p:Project)-[:BENEFITS]->(h:Household)
WHERE h.village_code STARTS WITH prefix AND p.stage <> 'rejected'
WITH h, collect(DISTINCT p.id) AS projects
WHERE size(projects) > $max_projects
RETURN h.id AS household_id, left(h.village_code, 6) AS county_code,
       h.village_code AS region_code, projects
ORDER BY household_id
"""

# --- stored flags (the scan) -----------------------------------------------------------------

COUNTY_CODES = """
MATCH (c:Region {level: 'county'}) WHERE c.code STARTS WITH $prefix
RETURN c.code AS code ORDER BY code
"""

CLEAR_FLAGS = """
MATCH (f:ProjectFlag) WHERE f.county_code IN $counties
DETACH DELETE f
"""

SAVE_FLAGS = """
UNWIND $flags AS flag
CREATE (f:ProjectFlag)
SET f = flag
"""

FLAGS_UNDER = """
UNWIND $prefixes AS prefix
MATCH (f:ProjectFlag) WHERE f.region_code STARTS WITH prefix
  AND ($rule IS NULL OR f.rule = $rule)
WITH DISTINCT f ORDER BY f.rule, f.id
RETURN f {.*} AS f
"""


def project_row(project: Project) -> dict[str, Any]:
    row: dict[str, Any] = project.model_dump()
    row["type"] = project.type.value
    row["stage"] = project.stage.value
    return row


_PROJECT_FIELDS = frozenset(Project.model_fields)


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def project_from_row(row: dict[str, Any]) -> Project:
    # Nodes also carry the lifecycle's bookkeeping (version, progress ...): keep the model's.
    fields = {k: _native(v) for k, v in row.items() if k in _PROJECT_FIELDS}
    return Project.model_validate(fields)


def _progress(row: dict[str, Any]) -> int:
    value = row.get("progress_pct")
    if value is None:
        return 100 if row.get("stage") in ("operation", "completed") else 0
    return int(value)


def details_from_row(row: dict[str, Any]) -> ProjectDetails:
    p = dict(row["p"])
    return ProjectDetails(
        project=project_from_row(p),
        version=int(p.get("version") or 0),
        progress_pct=_progress(p),
        budget=float(p.get("budget") or p.get("funds_allocated") or 0),
        proposed_by=p.get("proposed_by"),
        approved_by=p.get("approved_by"),
        approved_at=_native(p.get("approved_at")),
        decision_note=p.get("decision_note"),
        last_milestone_at=_native(p.get("last_milestone_at")),
        milestones=tuple(
            sorted(
                (
                    Milestone.model_validate(
                        {k: _native(v) for k, v in m.items() if k in Milestone.model_fields}
                    )
                    for m in row["milestones"]
                ),
                key=lambda m: m.seq,
            )
        ),
        funds=tuple(
            sorted(
                (
                    FundLine.model_validate(
                        {k: v for k, v in f.items() if k in FundLine.model_fields}
                    )
                    for f in row["funds"]
                ),
                key=lambda f: f.source.value,
            )
        ),
        beneficiaries=tuple(
            sorted(
                (Beneficiary.model_validate(b) for b in row["beneficiaries"]),
                key=lambda b: b.household_id,
            )
        ),
        income_effects=tuple(
            sorted(
                (
                    IncomeEffect.model_validate(
                        {k: _native(v) for k, v in e.items() if k in IncomeEffect.model_fields}
                    )
                    for e in row["effects"]
                ),
                key=lambda e: (e.household_id, e.year),
            )
        ),
    )


AuditFactory = Callable[[ProjectState, ProjectChange], AuditEntry]


def _flag(
    rule: ProjectAnomaly,
    county: str,
    region: str,
    evidence: dict[str, Any],
    project_id: str | None = None,
    household_id: str | None = None,
) -> AnomalyFlag:
    subject = ":".join(s for s in (project_id, household_id) if s)
    return AnomalyFlag(
        id=f"{rule.value}:{subject}",
        rule=rule,
        project_id=project_id,
        household_id=household_id,
        county_code=county,
        region_code=region,
        evidence=evidence,
    )


class ProjectRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    # --- bulk loading (the generator, imports) -------------------------------------------------

    def save_rows(self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None) -> None:
        self.graph.write_counted(
            SAVE_PROJECTS, len(rows), "projects", rows=list(rows), timeout_s=timeout_s
        )

    def save(self, project: Project) -> None:
        self.save_rows([project_row(project)])

    def add_beneficiary_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None
    ) -> None:
        self.graph.write_counted(
            ADD_BENEFICIARIES,
            len(rows),
            "project beneficiaries",
            rows=list(rows),
            timeout_s=timeout_s,
        )

    def add_beneficiaries(self, project_id: str, household_ids: Sequence[str]) -> None:
        self.add_beneficiary_rows(
            [{"project_id": project_id, "household_id": h} for h in household_ids]
        )

    def save_milestone_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None
    ) -> None:
        self.graph.write_counted(
            SAVE_MILESTONES, len(rows), "project milestones", rows=list(rows), timeout_s=timeout_s
        )

    def save_fund_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None
    ) -> None:
        self.graph.write_counted(
            SAVE_FUNDS, len(rows), "project funds", rows=list(rows), timeout_s=timeout_s
        )

    def get(self, project_id: str) -> Project:
        row = self.graph.read_one(GET_PROJECT, id=project_id)
        if row is None:
            raise NotFoundError(f"project {project_id} not found", message_zh="未找到该项目")
        return project_from_row(row["p"])

    def beneficiaries(self, project_id: str) -> list[str]:
        return [r["household_id"] for r in self.graph.read(BENEFICIARIES, id=project_id)]

    # --- scoped reads --------------------------------------------------------------------------

    def details_in_scope(self, project_id: str, prefixes: Sequence[str]) -> ProjectDetails:
        if self.graph.read_one(IN_SCOPE, id=project_id, prefixes=list(prefixes)) is None:
            raise NotFoundError(f"project {project_id} not found", message_zh="未找到该项目")
        row = self.graph.read_one(READ_PROJECT, id=project_id)
        if row is None:  # pragma: no cover - deleted between the two reads
            raise NotFoundError(f"project {project_id} not found", message_zh="未找到该项目")
        return details_from_row(row)

    def list_in_scope(self, query: ProjectQuery, prefixes: Sequence[str]) -> ProjectPage:
        params: dict[str, Any] = {
            "prefixes": list(prefixes),
            "stage": query.stage.value if query.stage else None,
            "type": query.type.value if query.type else None,
            "region_code": query.region_code,
            "text": query.text,
        }
        rows = self.graph.read(LIST_PROJECTS, skip=query.skip, limit=query.limit, **params)
        total_row = self.graph.read_one(COUNT_PROJECTS, **params)
        items = [
            ProjectSummary(
                project=project_from_row(r["p"]),
                version=int(r["p"].get("version") or 0),
                progress_pct=_progress(r["p"]),
                beneficiaries=int(r["beneficiaries"]),
            )
            for r in rows
        ]
        return ProjectPage(items=items, total=int(total_row["total"]) if total_row else 0)

    # --- writes under the lock -----------------------------------------------------------------

    def create(
        self, props: dict[str, Any], region_code: str, audit: Callable[[str], AuditEntry]
    ) -> str:
        """Create a proposed project in `region_code` with its audit event; NotFound when the
        region does not exist."""

        def work(tx: ManagedTransaction) -> str:
            row = tx.run(CREATE_PROJECT, props=props, region_code=region_code).single()
            if row is None:
                raise NotFoundError(f"region {region_code} not found", message_zh="未找到该地区")
            append_in_transaction(tx, audit(str(row["id"])))
            return str(row["id"])

        return self.graph.run_write(work)

    def change(
        self,
        project_id: str,
        prefixes: Sequence[str],
        decide: Callable[[ProjectState, tuple[Beneficiary, ...]], ProjectChange],
        audit: AuditFactory,
        candidate_ids: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Lock the project, read its latest state (and the candidate households inside both
        its region and the caller's), let `decide` choose the change, write it and its audit
        event; one transaction. Returns the decider's response."""

        def work(tx: ManagedTransaction) -> dict[str, Any]:
            locked = tx.run(LOCK_PROJECT_IN_SCOPE, id=project_id, prefixes=list(prefixes))
            if locked.single() is None:
                raise NotFoundError(f"project {project_id} not found", message_zh="未找到该项目")
            row = tx.run(READ_PROJECT, id=project_id).single()
            assert row is not None  # the lock statement just matched it
            state = details_from_row(dict(row))
            candidates: tuple[Beneficiary, ...] = ()
            if candidate_ids:
                region = state.project.village_code or state.project.county_code
                found = tx.run(
                    CANDIDATE_HOUSEHOLDS,
                    ids=list(candidate_ids),
                    project_region=region,
                    prefixes=list(prefixes),
                )
                candidates = tuple(Beneficiary.model_validate(r.data()) for r in found)
            change = decide(state, candidates)
            _apply(tx, project_id, change)
            # Last: the audit chain lock is global, so it is held only until the commit.
            append_in_transaction(tx, audit(state, change))
            return change.response

        return self.graph.run_write(work)

    # --- anomaly checks ------------------------------------------------------------------------

    def anomalies(
        self,
        prefixes: Sequence[str],
        as_of: date,
        advance_share: float,
        stall_days: int,
        eligible: Sequence[str],
        max_projects: int,
        timeout_s: float | None = None,
    ) -> list[AnomalyFlag]:
        return self._anomalies(
            self.graph.read,
            prefixes,
            as_of,
            advance_share,
            stall_days,
            eligible,
            max_projects,
            timeout_s,
        )

    def _anomalies(
        self,
        read: Callable[..., list[dict[str, Any]]],
        prefixes: Sequence[str],
        as_of: date,
        advance_share: float,
        stall_days: int,
        eligible: Sequence[str],
        max_projects: int,
        timeout_s: float | None = None,
    ) -> list[AnomalyFlag]:
        p = list(prefixes)
        flags: list[AnomalyFlag] = []
        for r in read(
            CHECK_DISBURSED_WITHOUT_PROGRESS,
            timeout_s=timeout_s,
            prefixes=p,
            advance_share=advance_share,
        ):
            flags.append(
                _flag(
                    ProjectAnomaly.DISBURSED_WITHOUT_PROGRESS,
                    r["county_code"],
                    r["region_code"],
                    {
                        "funds_allocated": r["allocated"],
                        "funds_disbursed": r["disbursed"],
                        "disbursed_share": round(float(r["share"]), 4),
                        "progress_pct": int(r["progress"]),
                        "advance_share": advance_share,
                    },
                    project_id=r["project_id"],
                )
            )
        for r in read(
            CHECK_STALLED, timeout_s=timeout_s, prefixes=p, as_of=as_of, stall_days=stall_days
        ):
            last = _native(r["last_milestone_at"])
            flags.append(
                _flag(
                    ProjectAnomaly.STALLED,
                    r["county_code"],
                    r["region_code"],
                    {
                        "stage": r["stage"],
                        "last_milestone_at": last.isoformat() if last else None,
                        "idle_since": _native(r["since"]).isoformat(),
                        "idle_days": int(r["idle_days"]),
                        "stall_days": stall_days,
                        "as_of": as_of.isoformat(),
                    },
                    project_id=r["project_id"],
                )
            )
        for r in read(CHECK_INELIGIBLE, timeout_s=timeout_s, prefixes=p, eligible=list(eligible)):
            flags.append(
                _flag(
                    ProjectAnomaly.INELIGIBLE_BENEFICIARY,
                    r["county_code"],
                    r["region_code"],
                    {"household_status": r["status"], "eligible_statuses": list(eligible)},
                    project_id=r["project_id"],
                    household_id=r["household_id"],
                )
            )
        for r in read(CHECK_TOO_MANY, timeout_s=timeout_s, prefixes=p, max_projects=max_projects):
            projects = sorted(r["projects"])
            flags.append(
                _flag(
                    ProjectAnomaly.TOO_MANY_PROJECTS,
                    r["county_code"],
                    r["region_code"],
                    {
                        "projects": len(projects),
                        "project_ids": projects,
                        "max_projects_per_household": max_projects,
                    },
                    household_id=r["household_id"],
                )
            )
        return flags

    def county_codes(self, prefix: str = "") -> list[str]:
        return [r["code"] for r in self.graph.read(COUNTY_CODES, prefix=prefix, timeout_s=60)]

    def scan_chunk(
        self,
        job_id: str,
        no: int,
        as_of: date,
        advance_share: float,
        stall_days: int,
        eligible: Sequence[str],
        max_projects: int,
    ) -> int | None:
        """Check one planned chunk of counties and replace their stored flags; the flags and the
        chunk's completion commit together. None when the chunk was already applied."""

        def work(tx: ManagedTransaction) -> int | None:
            locked = lock_chunk(tx, job_id, no)
            if locked is None or locked[0] != "pending":
                return None
            counties = locked[1]

            def read(query: str, timeout_s: float | None = None, **params: Any) -> list[Any]:
                return [rec.data() for rec in tx.run(query, params)]

            flags = self._anomalies(
                read, counties, as_of, advance_share, stall_days, eligible, max_projects
            )
            now = datetime.now(UTC)
            rows = [
                {
                    **f.model_dump(mode="json", exclude={"evidence"}),
                    "evidence": json.dumps(f.evidence, ensure_ascii=False, sort_keys=True),
                    "as_of": as_of,
                    "job_id": job_id,
                    "computed_at": now,
                }
                for f in flags
            ]
            tx.run(CLEAR_FLAGS, counties=counties).consume()
            tx.run(SAVE_FLAGS, flags=rows).consume()
            complete_chunk_in(tx, job_id, no)
            return len(rows)

        return self.graph.run_write(work, timeout_s=300)

    def stored_flags(
        self, prefixes: Sequence[str], rule: ProjectAnomaly | None = None
    ) -> list[AnomalyFlag]:
        rows = self.graph.read(
            FLAGS_UNDER, prefixes=list(prefixes), rule=rule.value if rule else None
        )
        return [
            AnomalyFlag.model_validate(
                {
                    **{k: v for k, v in r["f"].items() if k in AnomalyFlag.model_fields},
                    "evidence": json.loads(r["f"]["evidence"]),
                }
            )
            for r in rows
        ]


def _apply(tx: ManagedTransaction, project_id: str, change: ProjectChange) -> None:
    if change.project_props:
        tx.run(SET_PROJECT, id=project_id, props=change.project_props).consume()
    if change.add_milestone is not None:
        props = change.add_milestone.model_dump()
        tx.run(CREATE_MILESTONE, props=props).consume()
    if change.achieve_milestone is not None:
        milestone_id, achieved = change.achieve_milestone
        summary = tx.run(
            ACHIEVE_MILESTONE, id=project_id, milestone_id=milestone_id, achieved=achieved
        ).consume()
        if summary.counters.properties_set != 1:  # pragma: no cover - the decider checked it
            raise ConflictError("milestone not found", message_zh="未找到该里程碑")
    for line in change.fund_lines:
        props = line.model_dump(mode="json")
        tx.run(SET_FUND, fund_id=f"{project_id}:{line.source.value}", props=props).consume()
    if change.add_beneficiaries:
        tx.run(
            LINK_BENEFICIARIES, id=project_id, household_ids=list(change.add_beneficiaries)
        ).consume()
    for effect in change.income_effects:
        props = effect.model_dump()
        key = f"{project_id}:{effect.household_id}:{effect.year}"
        tx.run(SET_INCOME, key=key, props=props).consume()

"""Cross-checks (数据比对) in the graph: the households a chunk checks with their members'
department records, the findings (and verification tasks) they raise, their resolution, and the
figures of the error-rate report.

(:Finding {key})-[:FINDING_FOR]->(:Household), -[:CITES]->(:DeptRecord) for each record it
rests on. Findings are MERGEd on their deterministic key (verification/rules.py `finding_key`),
so running a check again adds nothing and keeps every finding's status and resolution. A
village's check is recorded on its Region node (crosscheck_at, households checked), which is
what the error rate divides by.

A chunk reads its villages, evaluates the rules (pure code passed in), writes the findings and
the villages' marks and completes the chunk in ONE transaction: exactly once however often its
worker is killed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from neo4j import ManagedTransaction

from bangfu.errors import NotFoundError
from bangfu.vocabulary import ELIGIBILITY_RULES, HouseholdStatus, Schooling
from graph.client import GraphClient
from graph.models import (
    AuditEntry,
    CheckedHousehold,
    CheckedMember,
    CheckedRecord,
    CountyCheckStats,
    EvidenceItem,
    Finding,
    FindingDraft,
    FindingPage,
    FindingQuery,
    FindingState,
)
from graph.repositories.audit import append_in_transaction
from graph.repositories.jobs import complete_chunk_in, lock_chunk

VILLAGE_HOUSEHOLDS = """
MATCH (h:Household) WHERE h.village_code STARTS WITH $prefix
RETURN h.village_code AS code, count(*) AS households ORDER BY code
"""

# Which department sources were imported for which region: absence rules (a child with no
# enrolment record) only run where the source exists at all. One scan of the records' region
# codes; a record of a wider region (a city's file) covers every county under it.
SOURCES_BY_REGION = """
MATCH (d:DeptRecord)
WHERE d.source IN $sources
  AND (d.region_code STARTS WITH $prefix OR $prefix STARTS WITH d.region_code)
RETURN DISTINCT substring(d.region_code, 0, 6) AS region, d.source AS source
"""

# Everything the rules read, for whole villages at once, as few and as simple values as possible
# (the driver hydrates every value on its own, which cost more than the rules: measured 8.1 s
# for a county's 6,850 households read as nested maps with every record property, against
# ~2 s as below). A member is one string "id|birth date|disability grade|schooling|deceased".
CHUNK_HOUSEHOLDS = """
UNWIND $villages AS code
MATCH (h:Household {village_code: code})
RETURN h.id AS id, h.village_code AS village_code, h.status AS status, h.size AS size,
       coalesce(h.income_wage, 0) AS wage,
       coalesce(h.income_wage, 0) + coalesce(h.income_farm, 0) + coalesce(h.income_business, 0)
       + coalesce(h.income_transfer, 0) + coalesce(h.income_property, 0) AS total,
       coalesce(h.income_per_capita, 0) AS per_capita, coalesce(h.flags, []) AS flags,
       COLLECT {
         MATCH (p:Person)-[:MEMBER_OF]->(h)
         RETURN p.id + '|' + toString(p.birth_date) + '|'
                + toString(coalesce(p.disability_grade, 0)) + '|' + p.schooling + '|'
                + toString(coalesce(p.deceased, false))
       } AS members
"""

# The members' department records of those villages, reached through people (the ABOUT
# relationship made at import by the keyed hash of the ID number), never by ID number; only the
# facts the rules read, as [name, value] pairs (no sealed identifiers, no bookkeeping).
CHUNK_RECORDS = """
UNWIND $villages AS code
MATCH (:Household {village_code: code})<-[:MEMBER_OF]-(p:Person)<-[:ABOUT]-(d:DeptRecord)
WHERE d.source IN $sources
RETURN p.id AS person, d.key AS key, d.source AS source,
       [k IN $fields WHERE d[k] IS NOT NULL | [k, d[k]]] AS facts
"""

# The cadre a village's tasks go to: its first secretary (驻村第一书记), else a work-team member,
# else a responsible person; the lowest id among equals, so routing is deterministic.
VILLAGE_CADRES = """
UNWIND $villages AS code
OPTIONAL MATCH (c:Cadre {village_code: code})
WITH code, c
ORDER BY code, CASE c.role WHEN 'first_secretary' THEN 0 WHEN 'work_team' THEN 1 ELSE 2 END, c.id
RETURN code, head(collect(c.id)) AS cadre_id
"""

# The rules' context is fixed when a job is planned (which sources each county has) and read
# by every chunk: stored on the job as JSON.
SAVE_PLAN_CONTEXT = "MATCH (j:Job {id: $id}) SET j.crosscheck_sources = $context"
PLAN_CONTEXT = "MATCH (j:Job {id: $id}) RETURN j.crosscheck_sources AS context"

SAVE_FINDINGS = """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
MERGE (f:Finding {key: r.key})
ON CREATE SET f += r.props, f.status = 'open', f.created_at = $now, f.job_id = $job_id
ON MATCH SET f.last_seen_at = $now, f.last_job_id = $job_id
MERGE (f)-[:FINDING_FOR]->(h)
RETURN count(*) AS written
"""

CITE_RECORDS = """
UNWIND $cites AS c
MATCH (f:Finding {key: c.finding}), (d:DeptRecord {key: c.record})
MERGE (f)-[:CITES]->(d)
"""

# `crosscheck_applied` counts how often a village's chunk was applied: once per job, however
# often its worker is killed (tests/integration/test_crosscheck.py checks it).
MARK_VILLAGES = """
UNWIND $marks AS m
MATCH (v:Region {code: m.code})
SET v.crosscheck_at = $now, v.crosscheck_job = $job_id, v.crosscheck_as_of = $as_of,
    v.crosscheck_households = m.households, v.crosscheck_subjects = m.subjects,
    v.crosscheck_applied = coalesce(v.crosscheck_applied, 0) + 1
"""

_FINDING_FILTERS = """
WHERE any(prefix IN $prefixes WHERE f.village_code STARTS WITH prefix)
  AND (size($statuses) = 0 OR f.status IN $statuses)
  AND ($region_code IS NULL OR f.village_code STARTS WITH $region_code)
  AND ($rule IS NULL OR f.rule = $rule)
  AND ($household_id IS NULL OR f.household_id = $household_id)
"""

# Grouped by village and household: the order a field worker visits them in.
LIST_FINDINGS = (
    "MATCH (f:Finding)"
    + _FINDING_FILTERS
    + "RETURN f {.*} AS f ORDER BY f.village_code, f.household_id, f.rule, f.key "
    + "SKIP $skip LIMIT $limit"
)
COUNT_FINDINGS = "MATCH (f:Finding)" + _FINDING_FILTERS + "RETURN count(f) AS total"

GET_FINDING_IN_SCOPE = """
MATCH (f:Finding {key: $key})
WHERE any(prefix IN $prefixes WHERE f.village_code STARTS WITH prefix)
RETURN f {.*} AS f
"""

# The lock (a SET on the finding) comes before the state is read: two field workers resolving
# one task run one after the other and the second sees the first's answer.
LOCK_FINDING_IN_SCOPE = """
MATCH (f:Finding {key: $key})
WHERE any(prefix IN $prefixes WHERE f.village_code STARTS WITH prefix)
SET f.lock_version = coalesce(f.lock_version, 0) + 1
RETURN f.key AS key
"""

READ_FINDING_STATE = """
MATCH (f:Finding {key: $key})-[:FINDING_FOR]->(h:Household)
RETURN f {.*} AS f, h.size AS size, coalesce(h.income_wage, 0) AS income_wage,
       coalesce(h.income_wage, 0) + coalesce(h.income_farm, 0) + coalesce(h.income_business, 0)
       + coalesce(h.income_transfer, 0) + coalesce(h.income_property, 0) AS income_total,
       coalesce(h.flags, []) AS flags
"""

SET_FINDING = "MATCH (f:Finding {key: $key}) SET f += $props"
SET_PERSON = "MATCH (p:Person {id: $id}) SET p += $props"
SET_HOUSEHOLD = "MATCH (h:Household {id: $id}) SET h += $props"

# Per county (or the caller's part of it): villages checked and households counted at check
# time, and the findings with their outcomes.
CHECK_STATS = """
MATCH (v:Region {level: 'village'})
WHERE v.code STARTS WITH $prefix AND v.crosscheck_at IS NOT NULL
WITH substring(v.code, 0, 6) AS county, count(v) AS villages,
     sum(v.crosscheck_households) AS households, sum(v.crosscheck_subjects) AS subjects,
     max(v.crosscheck_at) AS checked_at
CALL (county) {
  OPTIONAL MATCH (f:Finding)
  WHERE f.village_code STARTS WITH county AND f.village_code STARTS WITH $prefix
  RETURN count(f) AS findings,
         sum(CASE f.status WHEN 'open' THEN 1 ELSE 0 END) AS open,
         sum(CASE f.status WHEN 'confirmed' THEN 1 ELSE 0 END) AS confirmed,
         sum(CASE f.status WHEN 'dismissed' THEN 1 ELSE 0 END) AS dismissed,
         count(DISTINCT CASE WHEN f.status = 'confirmed' THEN f.household_id END)
           AS households_confirmed,
         count(DISTINCT CASE WHEN f.status = 'confirmed' AND f.rule IN $eligibility
                             THEN f.household_id END) AS households_misidentified,
         count(DISTINCT CASE WHEN f.status IN ['open', 'confirmed'] AND f.rule IN $eligibility
                             THEN f.household_id END) AS households_suspect
}
RETURN county, villages, households, subjects, checked_at, findings, open, confirmed,
       dismissed, households_confirmed, households_misidentified, households_suspect
ORDER BY county
"""

_FINDING_FIELDS = frozenset(Finding.model_fields)
_SUBJECT_STATUSES = ("poor", "monitored")

Evaluate = Callable[[list[CheckedHousehold]], list[FindingDraft]]


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def finding_from_row(row: dict[str, Any]) -> Finding:
    fields = {k: _native(v) for k, v in row.items() if k in _FINDING_FIELDS}
    evidence = json.loads(row.get("evidence") or "[]")
    fields["evidence"] = tuple(EvidenceItem.model_validate(e) for e in evidence)
    return Finding.model_validate(fields)


def households_from_rows(
    rows: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]]
) -> list[CheckedHousehold]:
    """The rules' input from CHUNK_HOUSEHOLDS and CHUNK_RECORDS rows. Values come from the graph
    the import validated, so models are constructed without validating again (validation was
    a third of a chunk's time)."""
    by_person: dict[str, list[CheckedRecord]] = {}
    for r in records:
        facts = {k: _native(v) for k, v in r["facts"]}
        by_person.setdefault(r["person"], []).append(
            CheckedRecord.model_construct(key=r["key"], source=r["source"], facts=facts)
        )
    out = []
    for h in rows:
        members = []
        for text in h["members"]:
            pid, born, grade, schooling, deceased = text.split("|")
            members.append(
                CheckedMember.model_construct(
                    person_id=pid,
                    birth_date=date.fromisoformat(born),
                    disability_grade=int(grade),
                    schooling=Schooling(schooling),
                    deceased=deceased == "true",
                    records=tuple(by_person.get(pid, ())),
                )
            )
        out.append(
            CheckedHousehold.model_construct(
                household_id=h["id"],
                village_code=h["village_code"],
                status=HouseholdStatus(h["status"]),
                size=int(h["size"]),
                income_wage=float(h["wage"]),
                income_total=float(h["total"]),
                income_per_capita=float(h["per_capita"]),
                housing_safe=True,
                water_safe=True,
                flags=tuple(h["flags"]),
                members=tuple(members),
            )
        )
    return out


def _finding_row(draft: FindingDraft, cadre_id: str | None) -> dict[str, Any]:
    return {
        "key": draft.key,
        "household_id": draft.household_id,
        "props": {
            "key": draft.key,
            "rule": draft.rule.value,
            "household_id": draft.household_id,
            "person_id": draft.person_id,
            "village_code": draft.village_code,
            "county_code": draft.village_code[:6],
            "household_status": draft.household_status.value,
            "evidence": json.dumps(
                [e.model_dump(mode="json") for e in draft.evidence], ensure_ascii=False
            ),
            "summary_zh": draft.summary_zh,
            "summary_en": draft.summary_en,
            "assignee_cadre_id": cadre_id,
        },
    }


class CrossCheckRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    # --- running a check -------------------------------------------------------------------

    def village_households(self, prefix: str) -> list[tuple[str, int]]:
        rows = self.graph.read(VILLAGE_HOUSEHOLDS, prefix=prefix, timeout_s=120)
        return [(r["code"], int(r["households"])) for r in rows]

    def sources_by_region(self, prefix: str, sources: Sequence[str]) -> dict[str, list[str]]:
        """Region code (6 digits, or shorter for a wider region's file) -> sources imported."""
        out: dict[str, list[str]] = {}
        rows = self.graph.read(
            SOURCES_BY_REGION, prefix=prefix, sources=list(sources), timeout_s=300
        )
        for r in rows:
            out.setdefault(r["region"], []).append(r["source"])
        return {k: sorted(v) for k, v in out.items()}

    def save_plan_context(self, job_id: str, context: str) -> None:
        self.graph.write(SAVE_PLAN_CONTEXT, id=job_id, context=context)

    def plan_context(self, job_id: str) -> str | None:
        row = self.graph.read_one(PLAN_CONTEXT, id=job_id)
        return None if row is None else row["context"]

    def check_chunk(
        self,
        job_id: str,
        no: int,
        sources: Sequence[str],
        fields: Sequence[str],
        evaluate: Evaluate,
        now: datetime,
        as_of: str,
    ) -> tuple[int, int] | None:
        """Apply one planned chunk: read its villages, evaluate, write findings and marks and
        complete the chunk, in one transaction. (households checked, findings raised), or None
        when the chunk was already done (or set aside)."""

        def work(tx: ManagedTransaction) -> tuple[int, int] | None:
            locked = lock_chunk(tx, job_id, no)
            if locked is None or locked[0] != "pending":
                return None
            villages = locked[1]
            rows = tx.run(CHUNK_HOUSEHOLDS, villages=villages).data()
            records = tx.run(
                CHUNK_RECORDS, villages=villages, sources=list(sources), fields=list(fields)
            ).data()
            households = households_from_rows(rows, records)
            drafts = evaluate(households)
            cadres = {
                r["code"]: r["cadre_id"] for r in tx.run(VILLAGE_CADRES, villages=villages).data()
            }
            if drafts:
                tx.run(
                    SAVE_FINDINGS,
                    rows=[_finding_row(d, cadres.get(d.village_code)) for d in drafts],
                    now=now,
                    job_id=job_id,
                ).consume()
                cites = [
                    {"finding": d.key, "record": e.record_key}
                    for d in drafts
                    for e in d.evidence
                    if e.record_key
                ]
                if cites:
                    tx.run(CITE_RECORDS, cites=cites).consume()
            marks: dict[str, dict[str, Any]] = {
                code: {"code": code, "households": 0, "subjects": 0} for code in villages
            }
            for h in households:
                mark = marks[h.village_code]
                mark["households"] += 1
                mark["subjects"] += int(h.status.value in _SUBJECT_STATUSES)
            tx.run(
                MARK_VILLAGES, marks=list(marks.values()), now=now, job_id=job_id, as_of=as_of
            ).consume()
            complete_chunk_in(tx, job_id, no)
            return len(households), len(drafts)

        return self.graph.run_write(work, timeout_s=600)

    # --- tasks -----------------------------------------------------------------------------

    def list_findings(self, query: FindingQuery, prefixes: Sequence[str]) -> FindingPage:
        params: dict[str, Any] = {
            "prefixes": list(prefixes),
            "statuses": list(query.statuses),
            "region_code": query.region_code,
            "rule": query.rule,
            "household_id": query.household_id,
        }
        rows = self.graph.read(LIST_FINDINGS, skip=query.skip, limit=query.limit, **params)
        total = self.graph.read_one(COUNT_FINDINGS, **params)
        return FindingPage(
            items=[finding_from_row(r["f"]) for r in rows],
            total=int(total["total"]) if total else 0,
        )

    def get_in_scope(self, key: str, prefixes: Sequence[str]) -> Finding:
        row = self.graph.read_one(GET_FINDING_IN_SCOPE, key=key, prefixes=list(prefixes))
        if row is None:
            raise NotFoundError(f"verification task {key} not found", message_zh="未找到该核查任务")
        return finding_from_row(row["f"])

    def resolve(
        self,
        key: str,
        prefixes: Sequence[str],
        decide: Callable[[FindingState], tuple[dict[str, Any], dict[str, Any], dict[str, Any]]],
        audit: Callable[[FindingState, dict[str, Any]], AuditEntry],
    ) -> Finding:
        """Lock the finding, read its state, let `decide` choose (finding, person, household)
        properties, write them and the audit event in one transaction."""

        def work(tx: ManagedTransaction) -> Finding:
            if tx.run(LOCK_FINDING_IN_SCOPE, key=key, prefixes=list(prefixes)).single() is None:
                raise NotFoundError(
                    f"verification task {key} not found", message_zh="未找到该核查任务"
                )
            row = tx.run(READ_FINDING_STATE, key=key).single()
            if row is None:  # pragma: no cover - the lock statement just matched it
                raise NotFoundError(
                    f"verification task {key} not found", message_zh="未找到该核查任务"
                )
            state = FindingState(
                finding=finding_from_row(dict(row["f"])),
                household_size=int(row["size"]),
                income_total=float(row["income_total"]),
                income_wage=float(row["income_wage"]),
                flags=tuple(row["flags"]),
            )
            finding_props, person_props, household_props = decide(state)
            tx.run(SET_FINDING, key=key, props=finding_props).consume()
            if person_props and state.finding.person_id:
                tx.run(SET_PERSON, id=state.finding.person_id, props=person_props).consume()
            if household_props:
                tx.run(
                    SET_HOUSEHOLD, id=state.finding.household_id, props=household_props
                ).consume()
            # Last: the audit chain lock is global, so it is held only until the commit.
            append_in_transaction(
                tx, audit(state, {**finding_props, **person_props, **household_props})
            )
            updated = tx.run(GET_FINDING_IN_SCOPE, key=key, prefixes=list(prefixes)).single()
            return finding_from_row(dict(updated["f"])) if updated else state.finding

        return self.graph.run_write(work)

    # --- report ----------------------------------------------------------------------------

    def county_stats(self, prefix: str) -> list[CountyCheckStats]:
        rows = self.graph.read(
            CHECK_STATS,
            prefix=prefix,
            eligibility=sorted(r.value for r in ELIGIBILITY_RULES),
            timeout_s=120,
        )
        return [
            CountyCheckStats(
                county_code=r["county"],
                villages_checked=int(r["villages"]),
                households_checked=int(r["households"] or 0),
                subject_households_checked=int(r["subjects"] or 0),
                findings=int(r["findings"]),
                open=int(r["open"] or 0),
                confirmed=int(r["confirmed"] or 0),
                dismissed=int(r["dismissed"] or 0),
                households_confirmed=int(r["households_confirmed"]),
                households_misidentified=int(r["households_misidentified"]),
                households_suspect=int(r["households_suspect"]),
                checked_at=_native(r["checked_at"]),
            )
            for r in rows
        ]

    def finding_keys(self, prefix: str) -> list[tuple[str, str, str | None, str]]:
        """(rule, household, person, status) of every finding under `prefix` (for the
        detection report)."""
        rows = self.graph.read(ALL_FINDINGS, prefix=prefix, timeout_s=120)
        return [(r["rule"], r["household_id"], r["person_id"], r["status"]) for r in rows]


ALL_FINDINGS = """
MATCH (f:Finding) WHERE f.village_code STARTS WITH $prefix
RETURN f.rule AS rule, f.household_id AS household_id, f.person_id AS person_id,
       f.status AS status
"""

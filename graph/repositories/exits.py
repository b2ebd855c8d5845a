"""Exits (退出) in the graph: what a household's exit and a village's 出列 are judged on, the
proposals (:ExitProposal {id})-[:EXIT_OF]->(:Household | :Region), and the officials'
decisions. Proposals are MERGEd on their id (kind, subject, year): proposing again adds none
and keeps every decision. A decision, its change of the household or village and its audit
event commit in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from neo4j import ManagedTransaction

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import (
    AuditEntry,
    ExitDraft,
    ExitHousehold,
    ExitMember,
    ExitPage,
    ExitProposal,
    ExitQuery,
    GuaranteeCheck,
    VillageExitInput,
)
from graph.repositories.audit import append_in_transaction

EXIT_HOUSEHOLDS = """
MATCH (h:Household)
WHERE h.village_code STARTS WITH $prefix AND h.status IN ['poor', 'monitored']
RETURN h {.id, .village_code, .status, .size, .income_per_capita, .housing_safe, .water_safe,
          .flags} AS h,
       COUNT { MATCH (f:Finding)-[:FINDING_FOR]->(h) WHERE f.status = 'open' } AS open_findings,
       COLLECT {
         MATCH (p:Person)-[:MEMBER_OF]->(h)
         RETURN p {.id, .birth_date, .schooling, .deceased,
                   medical: COLLECT {
                     MATCH (d:DeptRecord)-[:ABOUT]->(p)
                     WHERE d.source = 'medical_insurance.enrolment' AND d.year = $year
                     RETURN d.status
                   },
                   school: COLLECT {
                     MATCH (d:DeptRecord)-[:ABOUT]->(p)
                     WHERE d.source = 'education.enrolment' AND d.school_year = $school_year
                     RETURN d.status
                   }}
       } AS members
ORDER BY h.id
"""

EXIT_VILLAGES = """
MATCH (v:Region {level: 'village'}) WHERE v.code STARTS WITH $prefix
CALL (v) {
  OPTIONAL MATCH (h:Household)-[:IN_VILLAGE]->(v)
  RETURN count(h) AS households, coalesce(sum(h.size), 0) AS people,
         coalesce(sum(CASE WHEN h.status IN ['poor', 'monitored'] THEN h.size ELSE 0 END), 0)
           AS poor_people
}
CALL (v) {
  OPTIONAL MATCH (f:Finding) WHERE f.village_code = v.code AND f.status = 'open'
  RETURN count(f) AS open_findings
}
RETURN v.code AS code, households, people, poor_people, open_findings, v.exited_year AS exited
ORDER BY code
"""

# A household's proposal hangs off the household, a village's off its Region node.
SAVE_PROPOSALS = """
UNWIND $rows AS r
OPTIONAL MATCH (h:Household {id: r.subject_id}) WHERE r.kind = 'household'
OPTIONAL MATCH (v:Region {code: r.subject_id}) WHERE r.kind = 'village'
WITH r, coalesce(h, v) AS subject
WHERE subject IS NOT NULL
MERGE (x:ExitProposal {id: r.id})
ON CREATE SET x += r.props, x.status = 'proposed', x.created_at = $now, x.created_by = $by
ON MATCH SET x.last_proposed_at = $now
MERGE (x)-[:EXIT_OF]->(subject)
RETURN count(*) AS written, sum(CASE WHEN x.created_at = $now THEN 1 ELSE 0 END) AS created
"""

_EXIT_FILTERS = """
WHERE any(prefix IN $prefixes WHERE x.village_code STARTS WITH prefix)
  AND (size($statuses) = 0 OR x.status IN $statuses)
  AND ($kind IS NULL OR x.kind = $kind)
  AND ($region_code IS NULL OR x.village_code STARTS WITH $region_code)
"""
LIST_EXITS = (
    "MATCH (x:ExitProposal)"
    + _EXIT_FILTERS
    + "RETURN x {.*} AS x ORDER BY x.kind, x.village_code, x.subject_id SKIP $skip LIMIT $limit"
)
COUNT_EXITS = "MATCH (x:ExitProposal)" + _EXIT_FILTERS + "RETURN count(x) AS total"

GET_EXIT_IN_SCOPE = """
MATCH (x:ExitProposal {id: $id})
WHERE any(prefix IN $prefixes WHERE x.village_code STARTS WITH prefix)
RETURN x {.*} AS x
"""

LOCK_EXIT_IN_SCOPE = """
MATCH (x:ExitProposal {id: $id})
WHERE any(prefix IN $prefixes WHERE x.village_code STARTS WITH prefix)
SET x.lock_version = coalesce(x.lock_version, 0) + 1
RETURN x {.*} AS x
"""

SET_EXIT = "MATCH (x:ExitProposal {id: $id}) SET x += $props"
SET_HOUSEHOLD = "MATCH (h:Household {id: $id}) SET h += $props"
SET_VILLAGE = "MATCH (v:Region {code: $code, level: 'village'}) SET v += $props"

_FIELDS = frozenset(ExitProposal.model_fields)


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def proposal_from_row(row: dict[str, Any]) -> ExitProposal:
    fields = {k: _native(v) for k, v in row.items() if k in _FIELDS}
    fields["checks"] = tuple(
        GuaranteeCheck.model_validate(c) for c in json.loads(row.get("checks") or "[]")
    )
    return ExitProposal.model_validate(fields)


def _household(row: dict[str, Any], members: Sequence[dict[str, Any]], open_: int) -> ExitHousehold:
    return ExitHousehold(
        household_id=row["id"],
        village_code=row["village_code"],
        status=row["status"],
        size=int(row["size"]),
        income_per_capita=float(row.get("income_per_capita") or 0),
        housing_safe=bool(row.get("housing_safe", True)),
        water_safe=bool(row.get("water_safe", True)),
        flags=tuple(row.get("flags") or ()),
        open_findings=open_,
        members=tuple(
            ExitMember(
                person_id=m["id"],
                birth_date=_native(m["birth_date"]),
                schooling=m["schooling"],
                deceased=bool(m.get("deceased")),
                medical_statuses=tuple(m.get("medical") or ()),
                school_statuses=tuple(m.get("school") or ()),
            )
            for m in members
        ),
    )


class ExitRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def households(self, prefix: str, year: int, school_year: int) -> list[ExitHousehold]:
        rows = self.graph.read(
            EXIT_HOUSEHOLDS, prefix=prefix, year=year, school_year=school_year, timeout_s=300
        )
        return [_household(r["h"], r["members"], int(r["open_findings"])) for r in rows]

    def villages(self, prefix: str) -> list[VillageExitInput]:
        return [
            VillageExitInput(
                village_code=r["code"],
                households=int(r["households"]),
                people=int(r["people"]),
                poor_people=int(r["poor_people"]),
                open_findings=int(r["open_findings"]),
                exited_year=r["exited"],
            )
            for r in self.graph.read(EXIT_VILLAGES, prefix=prefix, timeout_s=300)
        ]

    def save(self, drafts: Sequence[ExitDraft], by: str, now: datetime, audit: AuditEntry) -> int:
        """Merge the proposals and append the run's audit event, in one transaction; returns
        how many proposals are new."""
        rows = [
            {
                "id": d.id,
                "kind": d.kind.value,
                "subject_id": d.subject_id,
                "props": {
                    **d.model_dump(mode="json", exclude={"checks"}),
                    "checks": json.dumps(
                        [c.model_dump(mode="json") for c in d.checks], ensure_ascii=False
                    ),
                },
            }
            for d in drafts
        ]

        def work(tx: ManagedTransaction) -> int:
            created = 0
            if rows:
                row = tx.run(SAVE_PROPOSALS, rows=rows, now=now, by=by).single()
                created = int(row["created"] or 0) if row else 0
            append_in_transaction(
                tx, audit.model_copy(update={"after": {**(audit.after or {}), "new": created}})
            )
            return created

        return self.graph.run_write(work, timeout_s=300)

    def list(self, query: ExitQuery, prefixes: Sequence[str]) -> ExitPage:
        params: dict[str, Any] = {
            "prefixes": list(prefixes),
            "statuses": list(query.statuses),
            "kind": query.kind,
            "region_code": query.region_code,
        }
        rows = self.graph.read(LIST_EXITS, skip=query.skip, limit=query.limit, **params)
        total = self.graph.read_one(COUNT_EXITS, **params)
        return ExitPage(
            items=[proposal_from_row(r["x"]) for r in rows],
            total=int(total["total"]) if total else 0,
        )

    def get_in_scope(self, proposal_id: str, prefixes: Sequence[str]) -> ExitProposal:
        row = self.graph.read_one(GET_EXIT_IN_SCOPE, id=proposal_id, prefixes=list(prefixes))
        if row is None:
            raise NotFoundError(
                f"exit proposal {proposal_id} not found", message_zh="未找到该退出建议"
            )
        return proposal_from_row(row["x"])

    def decide(
        self,
        proposal_id: str,
        prefixes: Sequence[str],
        decide: Callable[[ExitProposal], tuple[dict[str, Any], dict[str, Any], dict[str, Any]]],
        audit: Callable[[ExitProposal, dict[str, Any]], AuditEntry],
    ) -> ExitProposal:
        """Lock the proposal, let `decide` choose (proposal, household, village) properties,
        write them and the audit event in one transaction."""

        def work(tx: ManagedTransaction) -> ExitProposal:
            row = tx.run(LOCK_EXIT_IN_SCOPE, id=proposal_id, prefixes=list(prefixes)).single()
            if row is None:
                raise NotFoundError(
                    f"exit proposal {proposal_id} not found", message_zh="未找到该退出建议"
                )
            proposal = proposal_from_row(dict(row["x"]))
            own, household, village = decide(proposal)
            tx.run(SET_EXIT, id=proposal_id, props=own).consume()
            if household:
                tx.run(SET_HOUSEHOLD, id=proposal.subject_id, props=household).consume()
            if village:
                tx.run(SET_VILLAGE, code=proposal.subject_id, props=village).consume()
            append_in_transaction(tx, audit(proposal, {**own, **household, **village}))
            updated = tx.run(GET_EXIT_IN_SCOPE, id=proposal_id, prefixes=list(prefixes)).single()
            return proposal_from_row(dict(updated["x"])) if updated else proposal

        return self.graph.run_write(work)

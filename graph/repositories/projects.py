from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Project

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

GET_PROJECT = "MATCH (p:Project {id: $id}) RETURN p {.*} AS p"

BENEFICIARIES = """
MATCH (:Project {id: $id})-[:BENEFITS]->(h:Household)
RETURN h.id AS household_id ORDER BY household_id
"""


def project_row(project: Project) -> dict[str, Any]:
    row: dict[str, Any] = project.model_dump()
    row["type"] = project.type.value
    row["stage"] = project.stage.value
    return row


def project_from_row(row: dict[str, Any]) -> Project:
    return Project.model_validate({**row, "start_date": row["start_date"].to_native()})


class ProjectRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

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

    def get(self, project_id: str) -> Project:
        row = self.graph.read_one(GET_PROJECT, id=project_id)
        if row is None:
            raise NotFoundError(f"project {project_id} not found", message_zh="未找到该项目")
        return project_from_row(row["p"])

    def beneficiaries(self, project_id: str) -> list[str]:
        return [r["household_id"] for r in self.graph.read(BENEFICIARIES, id=project_id)]

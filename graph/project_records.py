"""Record types for projects (扶贫项目) beyond the Project node itself: milestones, funds by
source, beneficiaries and their reported income effect, the state a change is decided on, the
change written back, listings and anomaly flags.

Like graph/claims.py for needs: graph/ takes the project's lock, reads a ProjectState, hands it
to a pure decider (matching/project_lifecycle.py) and writes the ProjectChange it returns, with
its audit event, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bangfu.vocabulary import FundSource, ProjectAnomaly, ProjectStage, ProjectType
from graph.models import Project


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Milestone(Record):
    """One step of implementation (e.g. 招标, 主体完工, 验收) with its planned and actual dates."""

    id: str
    project_id: str
    seq: int
    name: str
    planned_date: date
    achieved_date: date | None = None
    # The project's progress once this milestone is achieved (0-100).
    progress_pct: int = Field(ge=0, le=100)


class FundLine(Record):
    """Money of one source for one project: allocated (下达) and disbursed (拨付) so far."""

    project_id: str
    source: FundSource
    allocated: float = Field(ge=0)
    disbursed: float = Field(ge=0)


class IncomeEffect(Record):
    """Income a beneficiary household gained from a project in one year (yuan), as reported."""

    project_id: str
    household_id: str
    year: int
    amount: float
    reported_by: str | None = None
    reported_at: datetime | None = None


class Beneficiary(Record):
    household_id: str
    village_code: str
    status: str  # the household's status now (poor, monitored, exited)


class ProjectDetails(Record):
    """A project with what hangs off it. `version` changes with every write (optimistic token)."""

    project: Project
    version: int
    progress_pct: int
    budget: float
    proposed_by: str | None = None
    approved_by: str | None = None
    approved_at: date | None = None
    decision_note: str | None = None
    last_milestone_at: date | None = None
    milestones: tuple[Milestone, ...] = ()
    funds: tuple[FundLine, ...] = ()
    beneficiaries: tuple[Beneficiary, ...] = ()
    income_effects: tuple[IncomeEffect, ...] = ()


ProjectState = ProjectDetails  # what a decider sees: the latest committed details, under lock


class ProjectChange(Record):
    """What to write. Empty fields are not touched."""

    project_props: dict[str, Any] = Field(default_factory=dict)
    add_milestone: Milestone | None = None
    achieve_milestone: tuple[str, date] | None = None  # (milestone id, achieved date)
    fund_lines: tuple[FundLine, ...] = ()  # replace these (project, source) lines
    add_beneficiaries: tuple[str, ...] = ()
    income_effects: tuple[IncomeEffect, ...] = ()
    response: dict[str, Any] = Field(default_factory=dict)


ProjectDecider = Callable[[ProjectState], ProjectChange]


class ProjectQuery(Record):
    stage: ProjectStage | None = None
    type: ProjectType | None = None
    region_code: str | None = None
    text: str | None = None
    skip: int = 0
    limit: int = 20


class ProjectSummary(Record):
    project: Project
    version: int
    progress_pct: int
    beneficiaries: int


class ProjectPage(Record):
    items: list[ProjectSummary]
    total: int


class AnomalyFlag(Record):
    """One finding of the project checks, with the numbers that made it a finding."""

    id: str  # rule:subject, stable, so a re-run finds the same flag
    rule: ProjectAnomaly
    project_id: str | None = None  # None for a household's too-many-projects flag
    household_id: str | None = None
    county_code: str
    region_code: str  # the project's village (or county) or the household's village
    evidence: dict[str, Any]

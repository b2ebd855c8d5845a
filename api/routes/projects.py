"""Projects (扶贫项目): the chain from proposal to operation, money by source, beneficiaries
and their income effect, and the anomaly checks. Thin: the policy dependency admits the role
and brings the caller's region, then one call; matching/project_lifecycle.py decides each step
(including which level of official may take it)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import Pagination, caller_for
from api.policy import Action
from api.projects import AnomalyListView, ProjectPageView, Projects, ProjectView
from bangfu.vocabulary import ProjectAnomaly, ProjectStage, ProjectType
from graph.project_records import ProjectQuery
from matching import project_lifecycle as lifecycle
from matching.needs import Caller
from matching.project_lifecycle import ProjectAction

router = APIRouter(prefix="/projects", tags=["projects"])

Reader = Annotated[Caller, Depends(caller_for(Action.READ_PROJECTS))]
Proposer = Annotated[Caller, Depends(caller_for(Action.PROPOSE_PROJECT))]
Decider = Annotated[Caller, Depends(caller_for(Action.DECIDE_PROJECT))]
Updater = Annotated[Caller, Depends(caller_for(Action.UPDATE_PROJECT))]
Treasurer = Annotated[Caller, Depends(caller_for(Action.MANAGE_PROJECT_FUNDS))]
Inspector = Annotated[Caller, Depends(caller_for(Action.READ_PROJECT_ANOMALIES))]
RegionCode = Annotated[str | None, Query(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")]
Text = Annotated[str | None, Query(min_length=1, max_length=50)]


@router.get("", response_model=ProjectPageView)
def list_projects(
    caller: Reader,
    projects: Projects,
    page: Pagination,
    stage: ProjectStage | None = None,
    type_: Annotated[ProjectType | None, Query(alias="type")] = None,
    region: RegionCode = None,
    q: Text = None,
) -> ProjectPageView:
    """Projects of the caller's regions, by stage, type, sub-region and name."""
    query = ProjectQuery(
        stage=stage, type=type_, region_code=region, text=q, skip=page.skip, limit=page.page_size
    )
    return projects.list(caller, query, page.page, page.page_size)


@router.get("/anomalies", response_model=AnomalyListView)
def anomalies(
    caller: Inspector,
    projects: Projects,
    rule: ProjectAnomaly | None = None,
    as_of: date | None = None,
    stored: bool = False,
) -> AnomalyListView:
    """Findings of the project checks in the caller's regions, each with its evidence: checked
    now (default; `as_of` moves the day stalls are counted to), or as the last nightly scan
    stored them (`stored=true`)."""
    return projects.anomalies(caller, rule, as_of, stored)


@router.post("", response_model=ProjectView, status_code=status.HTTP_201_CREATED)
def propose(draft: lifecycle.ProjectDraft, caller: Proposer, projects: Projects) -> ProjectView:
    """Propose a project (立项申报) for a village or a whole county inside the caller's region."""
    return projects.propose(caller, draft)


@router.get("/{project_id}", response_model=ProjectView)
def get_project(project_id: str, caller: Reader, projects: Projects) -> ProjectView:
    return projects.get(caller, project_id)


@router.post("/{project_id}/approve", response_model=ProjectView)
def approve(
    project_id: str, body: lifecycle.DecisionIn, caller: Decider, projects: Projects
) -> ProjectView:
    """County officials or above; the city above the county's budget limit; not the proposer."""
    return projects.approve(caller, project_id, body)


@router.post("/{project_id}/reject", response_model=ProjectView)
def reject(
    project_id: str, body: lifecycle.RejectionIn, caller: Decider, projects: Projects
) -> ProjectView:
    return projects.reject(caller, project_id, body)


@router.post(
    "/{project_id}/milestones", response_model=ProjectView, status_code=status.HTTP_201_CREATED
)
def add_milestone(
    project_id: str, body: lifecycle.MilestoneIn, caller: Updater, projects: Projects
) -> ProjectView:
    return projects.add_milestone(caller, project_id, body)


@router.post("/{project_id}/milestones/{milestone_id}/achieve", response_model=ProjectView)
def achieve_milestone(
    project_id: str,
    milestone_id: str,
    body: lifecycle.AchievementIn,
    caller: Updater,
    projects: Projects,
) -> ProjectView:
    """Mark a milestone achieved; the first one starts implementation."""
    return projects.achieve_milestone(caller, project_id, milestone_id, body)


@router.post("/{project_id}/operation", response_model=ProjectView)
def start_operation(
    project_id: str, body: lifecycle.StepIn, caller: Treasurer, projects: Projects
) -> ProjectView:
    """Accepted as built (验收): every milestone achieved, the project starts operating."""
    return projects.step(caller, project_id, ProjectAction.START_OPERATION, body)


@router.post("/{project_id}/complete", response_model=ProjectView)
def complete(
    project_id: str, body: lifecycle.StepIn, caller: Treasurer, projects: Projects
) -> ProjectView:
    return projects.step(caller, project_id, ProjectAction.COMPLETE, body)


@router.post("/{project_id}/allocations", response_model=ProjectView)
def allocate(
    project_id: str, body: lifecycle.FundsIn, caller: Treasurer, projects: Projects
) -> ProjectView:
    """Allocate (下达) money of one source, up to the approved budget."""
    return projects.funds(caller, project_id, ProjectAction.ALLOCATE, body)


@router.post("/{project_id}/disbursements", response_model=ProjectView)
def disburse(
    project_id: str, body: lifecycle.FundsIn, caller: Treasurer, projects: Projects
) -> ProjectView:
    """Disburse (拨付) money of one source, up to what it allocated."""
    return projects.funds(caller, project_id, ProjectAction.DISBURSE, body)


@router.post("/{project_id}/beneficiaries", response_model=ProjectView)
def add_beneficiaries(
    project_id: str, body: lifecycle.BeneficiariesIn, caller: Updater, projects: Projects
) -> ProjectView:
    """Households of the project's region that benefit from it (带贫益贫)."""
    return projects.add_beneficiaries(caller, project_id, body)


@router.post("/{project_id}/income-effects", response_model=ProjectView)
def report_income(
    project_id: str, body: lifecycle.IncomeIn, caller: Updater, projects: Projects
) -> ProjectView:
    """Income one beneficiary household gained from the project in one year."""
    return projects.report_income(caller, project_id, body)

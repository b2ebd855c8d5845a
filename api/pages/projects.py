"""Projects (扶贫项目) for officials and field workers: the region's projects by stage, one
project with its milestones, money per source, bodies, beneficiary count and anomalies, the
approve and reject forms for officials who may decide, and the region's anomalies with their
evidence. Projects are ProjectView, the view the API gives the same roles (households named by
internal id, village and status only: no names, ID numbers or phones).

matching/project_lifecycle.py decides every step; the page only leaves out forms the caller's
role or level cannot use (a direct post by anyone else still gets the service's error page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.pages.deps import CheckedForm, page_caller_for
from api.pages.filters import PAGE_SIZE, AnomalyFilter, ProjectFilter
from api.pages.forms import FormResult, parse_form
from api.pages.i18n import lang_of
from api.pages.project_forms import FORMS, usable_forms
from api.pages.render import redirect, render
from api.policy import Action, can
from api.projects import AnomalyView, ProjectDesk, Projects, ProjectView
from bangfu.settings import get_settings
from bangfu.vocabulary import ProjectAnomaly, ProjectStage, ProjectType
from matching import project_lifecycle as lifecycle
from matching.needs import Caller
from matching.project_lifecycle import ProjectAction

router = APIRouter(include_in_schema=False)

Reader = Annotated[Caller, Depends(page_caller_for(Action.READ_PROJECTS))]
Inspector = Annotated[Caller, Depends(page_caller_for(Action.READ_PROJECT_ANOMALIES))]
Decider = Annotated[Caller, Depends(page_caller_for(Action.DECIDE_PROJECT))]
Updater = Annotated[Caller, Depends(page_caller_for(Action.UPDATE_PROJECT))]
Treasurer = Annotated[Caller, Depends(page_caller_for(Action.MANAGE_PROJECT_FUNDS))]


@router.get("/projects")
def projects(
    request: Request, caller: Reader, desk: Projects, filters: Annotated[ProjectFilter, Query()]
) -> Response:
    page = desk.list(caller, filters.query(), filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "stages": [s.value for s in ProjectStage],
        "types": [t.value for t in ProjectType],
        "has_more": page.page * PAGE_SIZE < page.total,
        "can_inspect": can(caller.principal, Action.READ_PROJECT_ANOMALIES),
    }
    return render(request, "projects.html", context)


@router.get("/projects/anomalies")
def anomalies(
    request: Request, caller: Inspector, desk: Projects, filters: Annotated[AnomalyFilter, Query()]
) -> Response:
    found = desk.anomalies(caller, filters.rule, None, filters.stored)
    context = {
        "found": found,
        "filters": filters,
        "rules": [r.value for r in ProjectAnomaly],
    }
    return render(request, "project_anomalies.html", context)


def _anomalies_of(desk: ProjectDesk, caller: Caller, project: ProjectView) -> list[AnomalyView]:
    """The live findings that concern this project, checked over the project's own region
    only (a village, or its county): it lies inside the caller's region, or the caller could
    not have read it, and a city official's page does not check the whole city."""
    if not can(caller.principal, Action.READ_PROJECT_ANOMALIES):
        return []
    narrowed = caller.model_copy(
        update={"prefixes": (project.village_code or project.county_code,)}
    )
    return [
        a
        for a in desk.anomalies(narrowed, None, None, False).items
        if a.project_id == project.id or project.id in a.evidence.get("project_ids", ())
    ]


def _project_page(
    request: Request,
    desk: ProjectDesk,
    caller: Caller,
    project: ProjectView,
    forms: Mapping[str, FormResult[Any]] | None = None,
    status: int = 200,
) -> Response:
    blank: dict[str, FormResult[Any]] = {f: FormResult(values={}) for f in FORMS}
    context = {
        "project": project,
        "anomalies": _anomalies_of(desk, caller, project),
        "usable": usable_forms(
            caller.principal,
            ProjectStage(project.stage),
            project.budget,
            unpaid=any(f.allocated > f.disbursed for f in project.funds),
            open_milestones=any(m.achieved_date is None for m in project.milestones),
            settings=get_settings().projects,
            own_proposal=project.proposed_by_you,
        ),
        "forms": {**blank, **(forms or {})},
        "sources": [f.source for f in project.funds if f.allocated > f.disbursed],
        "open_milestones": [m for m in project.milestones if m.achieved_date is None],
    }
    return render(request, "project.html", context, status)


@router.get("/projects/{project_id}")
def project(request: Request, project_id: str, caller: Reader, desk: Projects) -> Response:
    return _project_page(request, desk, caller, desk.get(caller, project_id))


@router.post("/projects/{project_id}/approve")
def approve(
    request: Request, project_id: str, form: CheckedForm, caller: Decider, desk: Projects
) -> Response:
    result = parse_form(lifecycle.DecisionIn, form, lang_of(request))
    if result.model is None:
        current = desk.get(caller, project_id)
        return _project_page(request, desk, caller, current, {"approve": result}, 422)
    desk.approve(caller, project_id, result.model)
    return redirect(request, f"/projects/{project_id}?done=project_approved_ok")


@router.post("/projects/{project_id}/reject")
def reject(
    request: Request, project_id: str, form: CheckedForm, caller: Decider, desk: Projects
) -> Response:
    result = parse_form(lifecycle.RejectionIn, form, lang_of(request))
    if result.model is None:
        current = desk.get(caller, project_id)
        return _project_page(request, desk, caller, current, {"reject": result}, 422)
    desk.reject(caller, project_id, result.model)
    return redirect(request, f"/projects/{project_id}?done=project_rejected_ok")


@router.post("/projects/{project_id}/disbursements")
def disburse(
    request: Request, project_id: str, form: CheckedForm, caller: Treasurer, desk: Projects
) -> Response:
    result = parse_form(lifecycle.FundsIn, form, lang_of(request))
    if result.model is None:
        current = desk.get(caller, project_id)
        return _project_page(request, desk, caller, current, {"disburse": result}, 422)
    desk.funds(caller, project_id, ProjectAction.DISBURSE, result.model)
    return redirect(request, f"/projects/{project_id}?done=disbursed_ok")


@router.post("/projects/{project_id}/milestones/{milestone_id}/achieve")
def achieve_milestone(
    request: Request,
    project_id: str,
    milestone_id: str,
    form: CheckedForm,
    caller: Updater,
    desk: Projects,
) -> Response:
    result = parse_form(lifecycle.AchievementIn, form, lang_of(request))
    if result.model is None:
        result.values["milestone_id"] = milestone_id
        current = desk.get(caller, project_id)
        return _project_page(request, desk, caller, current, {"achieve": result}, 422)
    desk.achieve_milestone(caller, project_id, milestone_id, result.model)
    return redirect(request, f"/projects/{project_id}?done=milestone_achieved_ok")

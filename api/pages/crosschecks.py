"""Cross-checks (数据比对) for officials: the identification error rate (识别错误率) per county of
their region, the form that starts a cross-check of their region (or a region inside it), and
the job page that follows it to the end and links to the tasks (核查任务) it made.

The figures are the API's ErrorRateReport (verification/report.py: the definitions come with
it, in both languages); starting a check is the API's CrossCheckRequest; a job is shown only
if it is a cross-check of the caller's, inside their scope (VerificationService.get_job), else
the 404 page. These routes are registered before api/pages/checks.py, whose /checks/{task_id}
would otherwise take /checks/error-rates for a task id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.pages.deps import CheckedForm, page_caller_for
from api.pages.forms import FormResult, parse_form
from api.pages.i18n import lang_of
from api.pages.render import redirect, render
from api.policy import Action, can
from api.verification import CrossCheckRequest, Verification
from graph.models import JobState
from matching.needs import Caller
from verification.report import CountyErrorRate

router = APIRouter(include_in_schema=False)

RateReader = Annotated[Caller, Depends(page_caller_for(Action.READ_ERROR_RATE))]
Starter = Annotated[Caller, Depends(page_caller_for(Action.RUN_CROSS_CHECK))]

# The form's fields: the batch size (villages_per_chunk) stays the workers' setting.
RUN_FIELDS = ("region", "as_of")
# Seconds between the job page's progress reads while the job is queued or running.
POLL_SECONDS = 3


def worst_first(counties: Iterable[CountyErrorRate]) -> list[CountyErrorRate]:
    """Highest error rate first, then highest suspect rate (what the open tasks may still
    confirm), then the county code; counties with nothing to rate (no poor or monitored
    household checked) last."""

    def key(c: CountyErrorRate) -> tuple[bool, float, float, str]:
        return (
            c.identification_error_rate is None,
            -(c.identification_error_rate or 0.0),
            -(c.suspect_rate or 0.0),
            c.county_code,
        )

    return sorted(counties, key=key)


def _rates_page(
    request: Request,
    caller: Caller,
    verification: Verification,
    run_form: FormResult[CrossCheckRequest] | None = None,
    status: int = 200,
) -> Response:
    report = verification.error_rates(caller, None)
    context = {
        "report": report,
        "counties": worst_first(report.counties),
        "can_run": can(caller.principal, Action.RUN_CROSS_CHECK),
        "run_form": run_form or FormResult(values={}),
    }
    return render(request, "error_rates.html", context, status)


@router.get("/checks/error-rates")
def error_rates(request: Request, caller: RateReader, verification: Verification) -> Response:
    return _rates_page(request, caller, verification)


@router.post("/checks/run")
def start_cross_check(
    request: Request, form: CheckedForm, caller: Starter, verification: Verification
) -> Response:
    """Start a cross-check as the API's POST /verification/cross-checks does (blank region:
    the caller's own; blank date: today), then follow its job."""
    result = parse_form(CrossCheckRequest, form, lang_of(request), RUN_FIELDS)
    if result.model is None:
        return _rates_page(request, caller, verification, result, 422)
    job = verification.start(caller, result.model)
    return redirect(request, f"/checks/jobs/{quote(job.id, safe='')}?done=cross_check_started_ok")


@router.get("/checks/jobs/{job_id}")
def job(request: Request, job_id: str, caller: Starter, verification: Verification) -> Response:
    """State and progress; while it runs the page reads itself again every few seconds
    (htmx swaps the progress box in place) and offers a reload link without scripts."""
    record = verification.job(caller, job_id)
    context = {
        "job": record,
        "region": str(record.params.get("region", "")),
        "running": record.state in (JobState.QUEUED, JobState.RUNNING),
        "succeeded": record.state is JobState.SUCCEEDED,
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "crosscheck_job.html", context)

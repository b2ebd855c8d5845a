"""Officials start a cross-check (数据比对) from the error-rate page and follow it: a generated
village with its department files imported, a real Celery worker running the job the page
started, the job page (polling with htmx) reaching "succeeded" and linking to the region's
tasks, the error rates equal to the API's answer for the same official, before and after a
field worker confirms a finding; another county's official sees neither the row nor the job;
roles without access get the 403 page; a bad region code is refused beside its field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from bangfu.access import Principal, Role
from bangfu.settings import get_settings
from bangfu.vocabulary import ELIGIBILITY_RULES
from graph.client import GraphClient
from graph.models import FindingQuery, JobState
from graph.pii import PiiVault
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from graph.synthetic import Scale
from graph.synthetic.scales import AS_OF
from tests.browser.conftest import PHONE, OpenPage, check_accessible, sign_in, submit, visit
from tests.integration import conftest as integration
from tests.integration.celery_worker import Worker
from tests.integration.conftest import COUNTY_A, COUNTY_B, Login, MakeUser, bearer
from tests.integration.crosscheck_data import CountyData, seed_county_with_departments
from verification.jobs import CrossCheckJob
from verification.service import Actor, VerificationService
from workers.celery_app import app as celery_app
from workers.jobs import create_region_stats_job

pytestmark = pytest.mark.services

token_of = integration.token_of  # the integration suite's fixture, reused by name

# A job at village scale takes seconds; the margin is for two busy shared cores.
JOB_TIMEOUT_MS = 240_000


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    celery_app.control.purge()
    w = Worker(tmp_path)
    w.start()
    yield w
    w.stop()
    celery_app.control.purge()


@pytest.fixture
def village_data(auth_graph: GraphClient, vault: PiiVault, tmp_path: Path) -> CountyData:
    """One generated village (40 households) with its department files imported: the smallest
    region whose files plant an eligibility discrepancy (a vehicle owner in a poor or
    monitored household), so the error rate has something to move."""
    data = seed_county_with_departments(auth_graph, vault, tmp_path, scale=Scale.VILLAGE)
    assert any(rule in ELIGIBILITY_RULES for rule, _ in data.files.planted)
    return data


def api_rates(http: httpx.Client, token: str) -> dict[str, dict[str, Any]]:
    response = http.get("/api/v1/verification/error-rates", headers=bearer(token))
    assert response.status_code == 200, response.text
    return {c["county_code"]: c for c in response.json()["counties"]}


def shown_rates(page: Page, county: str) -> dict[str, str]:
    row = page.locator(f"tr[data-county='{county}']")
    shown = {
        name: row.locator(f"td[data-field='{name}']").inner_text().strip()
        for name in ("households_checked", "subject_households_checked", "households_misidentified")
    }
    shown["error_rate"] = row.get_attribute("data-error-rate") or ""
    shown["suspect_rate"] = row.get_attribute("data-suspect-rate") or ""
    shown["error_rate_text"] = (
        row.locator("td[data-field='identification_error_rate']").inner_text().strip()
    )
    return shown


def assert_same(shown: dict[str, str], api: dict[str, Any]) -> None:
    assert shown["households_checked"] == str(api["households_checked"])
    assert shown["subject_households_checked"] == str(api["subject_households_checked"])
    assert shown["households_misidentified"] == str(api["households_misidentified"])
    assert float(shown["error_rate"]) == api["identification_error_rate"]
    assert float(shown["suspect_rate"]) == api["suspect_rate"]
    assert shown["error_rate_text"].startswith(f"{api['identification_error_rate'] * 100:.2f}%")


def test_an_official_starts_a_cross_check_follows_it_and_reads_the_error_rates(
    village_data: CountyData,
    auth_graph: GraphClient,
    worker: Worker,
    http: httpx.Client,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
    open_page: OpenPage,
) -> None:
    county = village_data.county_code
    official = make_user(Role.OFFICIAL, county)
    page = sign_in(open_page(viewport=PHONE, is_mobile=True), official)
    visit(page, "/checks/error-rates")
    assert page.locator(f"tr[data-county='{county}']").count() == 0  # nothing checked yet

    # Start it from the form: region blank (the official's own county), the data's date.
    page.get_by_label("比对日期（留空为今天）").fill(AS_OF.isoformat())
    submit(page, "开始比对")
    assert "/checks/jobs/" in page.url
    assert page.locator("p.notice").inner_text() == "数据比对已开始，本页会自动刷新进度。"
    job_id = page.url.split("/checks/jobs/")[1].split("?")[0]

    # The page polls itself (htmx) until the worker has finished; no reload by the test.
    page.wait_for_selector("#job-state[data-state='succeeded']", timeout=JOB_TIMEOUT_MS)
    check_accessible(page)
    job = JobRepository(auth_graph).get(job_id)
    assert job.state is JobState.SUCCEEDED and job.params["region"] == county
    assert job.params["as_of"] == AS_OF.isoformat()
    assert job.chunks_total and job.chunks_done == job.chunks_total
    assert page.locator("#job-chunks").inner_text() == f"{job.chunks_done} / {job.chunks_total}"
    assert page.locator("#job-state-label").inner_text() == "已完成"

    # Its link lists the county's tasks, which the job made.
    with page.expect_navigation():
        page.locator("#region-tasks").click()
    check_accessible(page)
    assert page.url.endswith(f"/checks?region={county}")
    open_findings = CrossCheckRepository(auth_graph).list_findings(
        FindingQuery(statuses=("open",), region_code=county), ("",)
    )
    assert open_findings.total > 0
    assert page.locator("li.task").count() == min(open_findings.total, 20)

    # The error rates: the API's figures for the same official, on the page.
    token = token_of(official)
    before = api_rates(http, token)[county]
    assert before["subject_households_checked"] > 0 and before["households_suspect"] > 0
    visit(page, "/checks/error-rates")
    assert page.locator("#definition").inner_text().startswith("识别错误率 = ")
    assert_same(shown_rates(page, county), before)

    # A field worker confirms the eligibility finding after the visit: the rate goes up.
    eligibility = next(
        f
        for f in open_findings.items
        if f.rule in ELIGIBILITY_RULES and f.household_status.value in ("poor", "monitored")
    )
    field_worker = make_user(Role.FIELD_WORKER, eligibility.village_code)
    worker_page = sign_in(open_page(viewport=PHONE, is_mobile=True), field_worker)
    visit(worker_page, f"/checks/{eligibility.key}")
    worker_page.get_by_label("结果").select_option("confirm")
    worker_page.get_by_label("核实情况").fill("入户核实：家中确有登记车辆")
    submit(worker_page, "提交")
    assert worker_page.locator("section[data-status]").get_attribute("data-status") == "confirmed"

    after = api_rates(http, token)[county]
    assert after["households_misidentified"] == before["households_misidentified"] + 1
    assert after["identification_error_rate"] > before["identification_error_rate"]
    visit(page, "/checks/error-rates")
    assert_same(shown_rates(page, county), after)

    # In English, with the report's English definition.
    visit(page, "/checks/error-rates?lang=en")
    assert page.locator("#definition").inner_text().startswith("identification error rate = ")
    assert page.locator("h1").inner_text() == "Identification error rates"

    # Another county's official: no row for this county, and the job is not found.
    stranger = sign_in(open_page(), make_user(Role.OFFICIAL, COUNTY_A))
    visit(stranger, "/checks/error-rates")
    assert stranger.locator(f"tr[data-county='{county}']").count() == 0
    response = stranger.goto(f"/checks/jobs/{job_id}")
    assert response is not None and response.status == 404
    assert stranger.locator("h1").inner_text() == "未找到"


def test_the_pages_refuse_other_roles_bad_regions_and_other_jobs(
    auth_graph: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    # A role without access to the error rates: the 403 page.
    auditor = sign_in(open_page(), make_user(Role.AUDITOR))
    response = auditor.goto("/checks/error-rates")
    assert response is not None and response.status == 403
    assert auditor.locator("h1").inner_text() == "无权访问"

    # Field workers read the rates of their scope but may not start a check or read a job.
    field_worker = sign_in(open_page(), make_user(Role.FIELD_WORKER, "440223101001"))
    visit(field_worker, "/checks/error-rates")
    assert field_worker.locator("#run-check").count() == 0
    assert field_worker.get_by_role("link", name="识别错误率").count() == 1  # in the nav
    response = field_worker.goto("/checks/jobs/whatever")
    assert response is not None and response.status == 403

    # An invalid region code: the error beside the field, the text kept, nothing started.
    official = make_user(Role.OFFICIAL, COUNTY_A)
    page = sign_in(open_page(viewport=PHONE, is_mobile=True), official)
    visit(page, "/checks/error-rates")
    jobs_before = auth_graph.read_one("MATCH (j:Job) RETURN count(j) AS n")
    page.get_by_label("区划代码（留空为本辖区）").fill("4402x3")
    submit(page, "开始比对")
    assert page.locator("#e-run-region").inner_text() == "格式不正确"
    assert page.get_by_label("区划代码（留空为本辖区）").input_value() == "4402x3"
    assert page.get_by_label("区划代码（留空为本辖区）").get_attribute("aria-invalid") == "true"
    assert auth_graph.read_one("MATCH (j:Job) RETURN count(j) AS n") == jobs_before

    # A region outside the official's county: not found, as through the API.
    page.get_by_label("区划代码（留空为本辖区）").fill(COUNTY_B)
    with page.expect_navigation():
        page.get_by_role("button", name="开始比对", exact=True).click()
    assert page.locator("h1").inner_text() == "未找到"

    # A job of another kind, although this official's own and of their county: not found.
    stats_job = create_region_stats_job(
        JobRepository(auth_graph), created_by=official.user.id, region=COUNTY_A
    )
    response = page.goto(f"/checks/jobs/{stats_job.id}")
    assert response is not None and response.status == 404
    response = page.goto("/checks/jobs/no-such-job")
    assert response is not None and response.status == 404


def test_the_job_page_follows_a_job_without_a_reload(
    auth_graph: GraphClient, make_user: MakeUser, open_page: OpenPage
) -> None:
    """A queued job's page polls (htmx); when the job ends, the box shows it and the link to
    the tasks, with no reload. The job runs in this process once the page is open."""
    official = make_user(Role.OFFICIAL, COUNTY_A)
    principal = Principal(
        user_id=official.user.id,
        username=official.username,
        role=Role.OFFICIAL,
        region_code=COUNTY_A,
    )
    jobs, repo = JobRepository(auth_graph), CrossCheckRepository(auth_graph)
    job = VerificationService(repo, jobs).create_job(
        Actor(principal=principal, prefixes=(COUNTY_A,)), None, AS_OF
    )
    page = sign_in(open_page(viewport=PHONE, is_mobile=True), official)
    visit(page, f"/checks/jobs/{job.id}")
    box = page.locator("#job-state")
    assert box.get_attribute("data-state") == "queued"
    assert box.get_attribute("hx-trigger") == "every 3s"
    assert page.get_by_role("link", name="刷新").count() == 1
    assert page.locator("#region-tasks").count() == 0

    runner = CrossCheckJob(jobs, repo, get_settings().workers, get_settings().risk)
    runner.plan(job.id, lambda job_id, no: print(runner.run_chunk(job_id, no)))
    page.wait_for_selector("#job-state[data-state='succeeded']", timeout=JOB_TIMEOUT_MS)
    assert page.locator("#job-state").get_attribute("hx-trigger") is None  # polling stopped
    assert page.locator("#region-tasks").get_attribute("href") == f"/checks?region={COUNTY_A}"

    # Another official of the same county did not start it: not found, as GET /jobs/{id}.
    colleague = sign_in(open_page(), make_user(Role.OFFICIAL, COUNTY_A))
    response = colleague.goto(f"/checks/jobs/{job.id}")
    assert response is not None and response.status == 404

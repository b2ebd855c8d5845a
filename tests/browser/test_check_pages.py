"""Field workers work through their verification tasks (核查任务) on a phone: a generated village
with its department files imported and cross-checked (the job's own code, run in this
process), the tasks listed with their evidence, and one resolved after the visit (a missing
note is refused next to its field)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bangfu.access import Principal, Role
from bangfu.settings import get_settings
from graph.client import GraphClient
from graph.models import FindingQuery
from graph.pii import PiiVault
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from graph.synthetic import Scale
from graph.synthetic.scales import AS_OF
from tests.browser.conftest import PHONE, OpenPage, sign_in, submit, visit
from tests.integration.conftest import MakeUser
from tests.integration.crosscheck_data import seed_county_with_departments
from verification.jobs import CrossCheckJob
from verification.service import Actor, VerificationService

pytestmark = pytest.mark.services


@pytest.fixture
def checked_village(auth_graph: GraphClient, vault: PiiVault, tmp_path: Path) -> str:
    """The village's code, after a cross-check found at least one task there."""
    data = seed_county_with_departments(auth_graph, vault, tmp_path, scale=Scale.VILLAGE)
    jobs, repo = JobRepository(auth_graph), CrossCheckRepository(auth_graph)
    admin = Principal(user_id="test", username="test", role=Role.ADMIN)
    job = VerificationService(repo, jobs).create_job(
        Actor(principal=admin, prefixes=("",)), data.county_code, AS_OF
    )
    runner = CrossCheckJob(jobs, repo, get_settings().workers, get_settings().risk)
    runner.plan(job.id, lambda job_id, no: print(runner.run_chunk(job_id, no)))
    found = repo.list_findings(FindingQuery(statuses=("open",)), ("",))
    assert found.total > 0, "the generated village planted no discrepancy"
    return found.items[0].village_code


def test_a_field_worker_resolves_a_verification_task_on_a_phone(
    checked_village: str, make_user: MakeUser, open_page: OpenPage
) -> None:
    worker = make_user(Role.FIELD_WORKER, region_code=checked_village)
    page = sign_in(open_page(viewport=PHONE, is_mobile=True), worker)
    visit(page, "/checks")
    tasks = page.locator("li.task")
    assert tasks.count() > 0
    first = tasks.first
    task_id = first.get_attribute("data-task-id")
    first.get_by_role("link").click()
    page.wait_for_url(f"**/checks/{task_id}")
    assert page.locator("section[data-status]").get_attribute("data-status") == "open"

    page.get_by_label("结果").select_option("dismiss")
    submit(page, "提交")
    assert page.locator("#e-note").inner_text() == "必填"
    assert page.get_by_label("结果").input_value() == "dismiss"
    page.get_by_label("核实情况").fill("入户核实：部门数据有误，档案无误")
    submit(page, "提交")
    assert page.locator("p.notice").inner_text() == "已办结。"
    assert page.locator("section[data-status]").get_attribute("data-status") == "dismissed"
    visit(page, "/checks")
    assert page.locator(f"li.task[data-task-id='{task_id}']").count() == 0  # open tasks only

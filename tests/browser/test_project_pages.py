"""Officials and field workers on the project pages: the county's projects (never another
county's), one project with its milestones, money per source and anomalies, approval and
rejection by a county official (a rejection without a reason is refused beside the field), the
proposer refused its own approval, and roles without access refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Page

from bangfu.access import Principal, Role
from bangfu.settings import get_settings
from bangfu.vocabulary import FundSource, ProjectType
from graph.client import GraphClient
from graph.models import AuditQuery
from graph.pii import PiiVault
from graph.repositories.audit import AuditRepository
from graph.repositories.projects import ProjectRepository
from matching import project_lifecycle as lifecycle
from matching.projects import ProjectService
from tests.browser.conftest import PHONE, OpenPage, sign_in, submit, visit
from tests.integration.conftest import (
    COUNTY_A,
    COUNTY_B,
    VILLAGE_A,
    VILLAGE_B,
    LiveServer,
    Login,
    MakeUser,
    fresh_ip,
)
from tests.integration.marketplace_data import add_household

pytestmark = pytest.mark.services

SET_STATUS = "MATCH (h:Household {id: $id}) SET h.status = $status"
PHONE_NUMBER = "13800138000"  # add_household's phone: never on a project page
# Recent, so that the running project is not stalled (180 days without a milestone) whatever
# the day the tests run.
ACHIEVED = date.today() - timedelta(days=10)


@dataclass
class World:
    graph: GraphClient
    service: ProjectService
    official_a: Login  # county A: decides, pays
    field_a: Login  # village A: proposes
    running: str  # approved, funded, one milestone achieved, a beneficiary
    proposed: str  # proposed by the field worker, waiting for a decision
    own: str  # proposed by official_a itself
    advanced: str  # money paid ahead of progress, an exited beneficiary (two anomalies)
    elsewhere: str  # in county B


def actor(who: Login, region: str) -> lifecycle.Actor:
    principal = Principal(
        user_id=who.user.id, username=who.username, role=who.user.role, region_code=region
    )
    return lifecycle.Actor(principal=principal, prefixes=(region,))


def draft(name: str, region: str = VILLAGE_A, budget: float = 200_000) -> lifecycle.ProjectDraft:
    return lifecycle.ProjectDraft(
        name=name,
        type=ProjectType.INDUSTRY,
        region_code=region,
        budget=budget,
        main_source=FundSource.CENTRAL,
        managing_body="甲县农业农村局",
        operating_body="甲村股份经济合作社",
        supervising_body="甲县纪委监委",
        start_date=date(2026, 1, 15),
    )


@pytest.fixture
def world(auth_graph: GraphClient, vault: PiiVault, make_user: MakeUser) -> World:
    add_household(auth_graph, vault, "HA", VILLAGE_A)  # monitored
    add_household(auth_graph, vault, "HA2", VILLAGE_A)
    auth_graph.write(SET_STATUS, id="HA2", status="exited")
    service = ProjectService(
        ProjectRepository(auth_graph), AuditRepository(auth_graph), get_settings().projects
    )
    official_a = make_user(Role.OFFICIAL, region_code=COUNTY_A)
    approver = actor(make_user(Role.OFFICIAL, region_code=COUNTY_A), COUNTY_A)
    field_a = make_user(Role.FIELD_WORKER, region_code=VILLAGE_A)
    field = actor(field_a, VILLAGE_A)
    official_b = actor(make_user(Role.OFFICIAL, region_code=COUNTY_B), COUNTY_B)

    running = service.propose(field, draft("甲村蜜柚种植基地建设项目")).project.id
    service.approve(approver, running, lifecycle.DecisionIn())
    for name, pct, planned in (("设备采购", 50, date(2026, 3, 1)), ("验收", 100, date(2026, 5, 1))):
        service.add_milestone(
            field, running, lifecycle.MilestoneIn(name=name, planned_date=planned, progress_pct=pct)
        )
    for source, amount in ((FundSource.CENTRAL, 150_000), (FundSource.EAST_WEST, 50_000)):
        service.funds(
            approver,
            running,
            lifecycle.ProjectAction.ALLOCATE,
            lifecycle.FundsIn(source=source, amount=amount),
        )
    service.funds(
        approver,
        running,
        lifecycle.ProjectAction.DISBURSE,
        lifecycle.FundsIn(source=FundSource.CENTRAL, amount=60_000),
    )
    service.add_beneficiaries(field, running, lifecycle.BeneficiariesIn(household_ids=("HA",)))
    first = service.get(field, running).milestones[0].id
    service.achieve_milestone(
        field, running, first, lifecycle.AchievementIn(achieved_date=ACHIEVED)
    )

    proposed = service.propose(field, draft("甲村光伏发电项目")).project.id
    own = service.propose(
        actor(official_a, COUNTY_A), draft("甲县农村公路硬化项目", COUNTY_A)
    ).project.id

    advanced = service.propose(field, draft("甲村茶叶加工厂项目", budget=100_000)).project.id
    service.approve(approver, advanced, lifecycle.DecisionIn())
    for step, amount in (
        (lifecycle.ProjectAction.ALLOCATE, 100_000),
        (lifecycle.ProjectAction.DISBURSE, 45_000),
    ):
        service.funds(
            approver, advanced, step, lifecycle.FundsIn(source=FundSource.COUNTY, amount=amount)
        )
    service.add_beneficiaries(field, advanced, lifecycle.BeneficiariesIn(household_ids=("HA2",)))

    elsewhere = service.propose(official_b, draft("乙村饮水安全项目", VILLAGE_B)).project.id
    return World(
        graph=auth_graph,
        service=service,
        official_a=official_a,
        field_a=field_a,
        running=running,
        proposed=proposed,
        own=own,
        advanced=advanced,
        elsewhere=elsewhere,
    )


def csrf_of(page: Page) -> str:
    """The session's form token, as the page's sign-out form carries it."""
    return page.locator("input[name=csrf_token]").first.get_attribute("value") or ""


def stage_of(world: World, project_id: str) -> str:
    return ProjectRepository(world.graph).get(project_id).stage.value


def events(world: World, project_id: str) -> list[tuple[str, str]]:
    found = AuditRepository(world.graph).search(AuditQuery(subject_id=project_id), 0, 100)
    return [(e.action, e.outcome.value) for e in found]


def test_a_county_official_lists_the_countys_projects_and_opens_one(
    world: World, open_page: OpenPage
) -> None:
    page = sign_in(open_page(), world.official_a)
    assert "/projects" in [a.get_attribute("href") for a in page.locator("header nav a").all()]
    visit(page, "/projects")
    listed = {r.get_attribute("data-project-id") for r in page.locator("tr[data-project-id]").all()}
    assert listed == {world.running, world.proposed, world.own, world.advanced}
    visit(page, "/projects?stage=proposed")
    listed = {r.get_attribute("data-project-id") for r in page.locator("tr[data-project-id]").all()}
    assert listed == {world.proposed, world.own}
    visit(page, "/projects?stage=implementation")
    page.get_by_role("link", name="甲村蜜柚种植基地建设项目").click()
    page.wait_for_url(f"**/projects/{world.running}")

    card = page.locator("section[data-project-id]")
    assert card.get_attribute("data-stage") == "implementation"
    assert page.locator("h1").inner_text() == "甲村蜜柚种植基地建设项目"
    assert page.locator("#project-progress").inner_text() == "50%"
    assert page.locator("#beneficiary-count").inner_text() == "1"
    milestones = page.locator("#milestones tbody tr")
    assert milestones.count() == 2
    assert ACHIEVED.isoformat() in milestones.nth(0).inner_text()
    assert milestones.nth(1).get_attribute("data-achieved") == "false"
    central = page.locator("#funds tr[data-source='central_finance']").inner_text()
    assert "150,000.00" in central and "60,000.00" in central
    assert "50,000.00" in page.locator("#funds tr[data-source='east_west']").inner_text()
    assert "甲县纪委监委" in card.inner_text()
    # Households by internal id and status only: no phone (nor any stored identifier).
    assert page.locator("#beneficiaries tr[data-household-id='HA']").count() == 1
    assert PHONE_NUMBER not in page.content()
    # Nothing to decide on a running project.
    assert page.locator(f"form[action='/projects/{world.running}/approve']").count() == 0

    # A disbursement through the page's form (a county official pays).
    form = page.locator(f"form[action='/projects/{world.running}/disbursements']")
    form.get_by_label("资金来源").select_option("east_west")
    form.get_by_label("拨付金额").fill("20000")
    submit(page, "登记拨付")
    assert "done=disbursed_ok" in page.url
    assert "20,000.00" in page.locator("#funds tr[data-source='east_west']").inner_text()
    assert ("project.disburse", "ok") in events(world, world.running)

    # The second milestone achieved through its form: the project reaches 100%.
    second = milestones.nth(1).get_attribute("data-milestone-id")
    form = page.locator(f"form[action$='/milestones/{second}/achieve']")
    form.get_by_label("完成日期").fill(date.today().isoformat())
    submit(page, "登记完成 2")
    assert "done=milestone_achieved_ok" in page.url
    assert page.locator("#project-progress").inner_text() == "100%"
    assert page.locator("#milestones tr[data-achieved='false']").count() == 0

    visit(page, f"/projects/{world.running}?lang=en")
    assert page.locator("#milestones thead").inner_text().startswith("Milestone")


def test_a_county_official_approves_and_rejects_with_a_reason(
    world: World, open_page: OpenPage
) -> None:
    page = sign_in(open_page(viewport=PHONE, is_mobile=True), world.official_a)
    visit(page, f"/projects/{world.proposed}")
    assert page.locator("section[data-project-id]").get_attribute("data-stage") == "proposed"

    # A rejection needs a reason: refused beside the field, what was typed kept.
    reason = page.get_by_role("textbox", name="不予批准的理由")
    reason.fill("")
    submit(page, "不予批准")
    assert page.locator("#e-reject-reason").inner_text() == "必填"
    reason.fill("否")
    submit(page, "不予批准")
    assert page.locator("#e-reject-reason").inner_text() == "至少 2 个字符"
    assert page.get_by_role("textbox", name="不予批准的理由").input_value() == "否"
    assert stage_of(world, world.proposed) == "proposed"

    page.get_by_label("审批意见").fill("符合产业规划，同意立项")
    submit(page, "批准立项")
    assert "done=project_approved_ok" in page.url
    assert page.locator("p.notice").inner_text() == "已批准立项。"
    assert page.locator("section[data-project-id]").get_attribute("data-stage") == "approved"
    assert stage_of(world, world.proposed) == "approved"
    assert ("project.approve", "ok") in events(world, world.proposed)
    assert page.locator(f"form[action='/projects/{world.proposed}/approve']").count() == 0

    # Another proposal rejected with a reason.
    other = world.service.propose(
        actor(world.field_a, VILLAGE_A), draft("甲村重复申报的项目")
    ).project.id
    visit(page, f"/projects/{other}")
    page.get_by_role("textbox", name="不予批准的理由").fill("与已批复项目重复")
    submit(page, "不予批准")
    assert page.locator("section[data-project-id]").get_attribute("data-stage") == "rejected"
    assert ("project.reject", "ok") in events(world, other)


def test_the_proposer_cannot_approve_its_own_project(world: World, open_page: OpenPage) -> None:
    page = sign_in(open_page(), world.official_a)
    visit(page, f"/projects/{world.own}")
    # No decision forms for the proposer, and a note saying who decides instead.
    assert page.get_by_role("button", name="批准立项").count() == 0
    assert page.get_by_role("button", name="不予批准").count() == 0
    assert "须由其他" in page.locator("#own-proposal").inner_text()
    # A hand-made post is still refused by the service (the 403 page), and recorded.
    answer = page.request.post(f"/projects/{world.own}/approve", form={"csrf_token": csrf_of(page)})
    assert answer.status == 403
    assert "项目不能由申报人本人审批" in answer.text()
    assert stage_of(world, world.own) == "proposed"
    assert ("project.approve", "denied") in events(world, world.own)
    assert ("project.approve", "ok") not in events(world, world.own)


def test_another_county_gets_not_found_and_other_roles_are_refused(
    world: World, make_user: MakeUser, open_page: OpenPage, live_server: LiveServer
) -> None:
    official_b = make_user(Role.OFFICIAL, region_code=COUNTY_B)
    page = sign_in(open_page(), official_b)
    visit(page, "/projects")
    listed = {r.get_attribute("data-project-id") for r in page.locator("tr[data-project-id]").all()}
    assert listed == {world.elsewhere}
    response = page.goto(f"/projects/{world.proposed}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "未找到"
    # A direct post from county B finds nothing either, and changes nothing.
    visit(page, "/projects")
    answer = page.request.post(
        f"/projects/{world.proposed}/approve", form={"csrf_token": csrf_of(page)}
    )
    assert answer.status == 404
    assert stage_of(world, world.proposed) == "proposed"

    # A town official is below the county: no decision form; posting anyway is the 403 page.
    town = make_user(Role.OFFICIAL, region_code=VILLAGE_A[:9])
    page = sign_in(open_page(), town)
    visit(page, f"/projects/{world.proposed}")
    assert page.locator(f"form[action='/projects/{world.proposed}/approve']").count() == 0
    answer = page.request.post(
        f"/projects/{world.proposed}/approve", form={"csrf_token": csrf_of(page)}
    )
    assert answer.status == 403 and "县级及以上" in answer.text()
    assert stage_of(world, world.proposed) == "proposed"

    # A field worker reads its village's projects but decides nothing.
    page = sign_in(open_page(), world.field_a)
    visit(page, f"/projects/{world.proposed}")
    assert page.locator("form[action$='/approve'], form[action$='/reject']").count() == 0
    answer = page.request.post(
        f"/projects/{world.proposed}/reject",
        form={"csrf_token": csrf_of(page), "reason": "不同意"},
    )
    assert answer.status == 403

    # Auditors read the trail, not projects.
    page = sign_in(open_page(), make_user(Role.AUDITOR))
    assert "/projects" not in [a.get_attribute("href") for a in page.locator("header nav a").all()]
    response = page.goto("/projects")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    with httpx.Client(
        base_url=live_server.url, headers={"X-Forwarded-For": fresh_ip()}, timeout=30
    ) as client:  # not signed in: to the login page
        assert "/login?next=" in client.get("/projects").headers["location"]


def test_anomalies_with_their_evidence_fit_a_phone(world: World, open_page: OpenPage) -> None:
    page = sign_in(open_page(viewport=PHONE, is_mobile=True), world.official_a)
    visit(page, "/projects")
    page.get_by_role("link", name="项目异常").click()
    page.wait_for_url("**/projects/anomalies")
    visit(page, "/projects/anomalies")
    found = {
        (a.get_attribute("data-rule"), a.get_attribute("data-anomaly-id"))
        for a in page.locator("li.anomaly").all()
    }
    assert found == {
        ("disbursed_without_progress", f"disbursed_without_progress:{world.advanced}"),
        ("ineligible_beneficiary", f"ineligible_beneficiary:{world.advanced}:HA2"),
    }
    money = page.locator("li.anomaly[data-rule='disbursed_without_progress']").inner_text()
    assert "资金拨付超前于项目进度" in money and "拨付比例" in money and "0.45" in money
    ineligible = page.locator("li.anomaly[data-rule='ineligible_beneficiary']").inner_text()
    assert "已脱贫" in ineligible or "exited" in ineligible
    visit(page, "/projects/anomalies?rule=ineligible_beneficiary")
    assert page.locator("li.anomaly").count() == 1
    # As the nightly scan stored them: no scan has run here, so none.
    visit(page, "/projects/anomalies?stored=true")
    assert page.locator("#anomaly-source").get_attribute("data-source") == "scan"
    assert page.locator("li.anomaly").count() == 0

    # The project's own page lists them too; a clean project lists none.
    visit(page, f"/projects/{world.advanced}")
    assert page.locator("li.anomaly").count() == 2
    visit(page, f"/projects/{world.running}")
    assert page.locator("li.anomaly").count() == 0
    visit(page, "/projects")

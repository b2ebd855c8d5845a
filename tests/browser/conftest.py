"""Browser fixtures: the real app (the integration suite's `live_server`, reused, not copied)
driven by Debian's Chromium through Playwright, headless. One browser per test session, a new
context (cookies, viewport) per test; a failed test leaves a screenshot of every page it had
open in $BANGFU_STATE_DIR/browser-failures/ and prints the path.

Every page a test opens through `visit` or `submit` is checked for basic accessibility: a
non-empty <title>, exactly one <h1>, and a label for every visible input, select and textarea;
on a phone-sized viewport, also that the page is no wider than the screen.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.integration import conftest as integration
from tests.integration.conftest import LiveServer, Login, fresh_ip

# The integration suite's fixtures, reused by name (same real server, graph and logins).
live_server = integration.live_server
http = integration.http
auth_graph = integration.auth_graph
make_user = integration.make_user

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
# Generous: two cores shared by several sessions make a first paint take seconds at times.
TIMEOUT_MS = 30_000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
    )
    yield browser
    browser.close()


def failure_dir() -> Path:
    return Path(os.environ.get("BANGFU_STATE_DIR", ".local/test")) / "browser-failures"


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[OpenPage]:
    """Open a page in a fresh context (its own cookies); keyword arguments go to the context
    (e.g. viewport=PHONE). Each context logs in from its own client address, so the login
    throttle per address never trips across tests."""
    opened: list[Page] = []

    def open_one(**options: object) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            extra_http_headers={"X-Forwarded-For": fresh_ip()},
            **options,  # type: ignore[arg-type]
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        opened.append(page)
        return page

    yield open_one
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        target = failure_dir()
        target.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        for n, page in enumerate(opened):
            path = target / f"{name}-{n}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failed test's page {n} ({page.url}): {path}")
    for page in opened:
        page.context.close()


_A11Y_PROBLEMS = """() => {
  const problems = [];
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} h1 elements`);
  if (!document.title.trim()) problems.push('empty title');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button'].includes(el.type)) continue;
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`))
      || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push(`unlabelled ${el.tagName} ${el.name}`);
  }
  return problems;
}"""


PHONE_WIDTH_MAX = 480


def check_accessible(page: Page) -> None:
    """The basic checks; on a phone-sized viewport also that nothing is wider than the screen
    (no sideways scrolling: wide tables scroll inside their own box)."""
    problems = page.evaluate(_A11Y_PROBLEMS)
    assert problems == [], f"{page.url}: {problems}"
    viewport = page.viewport_size
    if viewport is not None and viewport["width"] <= PHONE_WIDTH_MAX:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{page.url}: {width} px wide on a phone"


def visit(page: Page, path: str) -> Page:
    page.goto(path)
    check_accessible(page)
    return page


def submit(page: Page, button: str) -> Page:
    """Press a submit button by its visible text, wait for the answer page, check it."""
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    check_accessible(page)
    return page


def sign_in(page: Page, who: Login) -> Page:
    visit(page, "/login")
    page.get_by_label("用户名").fill(who.username)
    page.get_by_label("密码").fill(who.password)
    return submit(page, "登录")

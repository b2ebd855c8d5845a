"""The error-rate page's pure parts: counties worst first, the link shown to exactly the roles
that may read the rates, and the job states labelled in Chinese."""

from __future__ import annotations

from api.pages.crosschecks import worst_first
from api.pages.i18n import label
from api.pages.render import NAV
from api.policy import ALLOWED, Action
from bangfu.access import Role
from graph.models import JobState
from verification.report import CountyErrorRate


def county(code: str, rate: float | None, suspect: float | None) -> CountyErrorRate:
    return CountyErrorRate(
        county_code=code,
        villages_checked=1,
        households_checked=10,
        subject_households_checked=0 if rate is None else 5,
        findings=0,
        open=0,
        confirmed=0,
        dismissed=0,
        households_confirmed=0,
        households_misidentified=0,
        households_suspect=0,
        identification_error_rate=rate,
        suspect_rate=suspect,
        discrepancy_rate=None,
        within_target=None,
        checked_at=None,
    )


def test_counties_are_listed_worst_first_and_unrated_ones_last() -> None:
    counties = [
        county("440201", None, None),
        county("440202", 0.01, 0.01),
        county("440203", 0.03, 0.03),
        county("440204", 0.01, 0.05),  # same rate, more open suspects: before 440202
        county("440205", 0.0, 0.0),
    ]
    order = [c.county_code for c in worst_first(counties)]
    assert order == ["440203", "440204", "440202", "440205", "440201"]


def test_the_error_rate_link_is_shown_exactly_to_the_roles_that_may_read_the_rates() -> None:
    shown = {r for r in Role if "/checks/error-rates" in [h for h, _ in NAV.get(r, ())]}
    assert shown == set(ALLOWED[Action.READ_ERROR_RATE])


def test_every_job_state_has_a_chinese_label() -> None:
    labels = {label("zh", s.value, "job") for s in JobState}
    assert labels == {"排队中", "进行中", "已完成", "失败"}

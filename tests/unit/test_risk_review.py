"""The monitoring procedure as pure decisions: legal steps, who may take them, deadlines, the
public notice's content, and when risk may be eliminated."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, InvalidInputError, PermissionDeniedError
from bangfu.settings import RiskSettings
from bangfu.vocabulary import AlertStatus, MonitorType, NeedCategory
from graph.models import AlertState, IncomeCheck, RiskAlert
from ml import review
from ml.review import Actor, ReviewAction

SETTINGS = RiskSettings()
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
VILLAGE = "440223101001"


def actor(role: Role = Role.OFFICIAL, region: str = "440223") -> Actor:
    principal = Principal(user_id=f"u-{role}-{region}", username="x", role=role, region_code=region)
    return Actor(principal=principal, prefixes=(region,))


def state(status: AlertStatus = AlertStatus.NEW, **alert: object) -> AlertState:
    fields: dict[str, object] = {
        "id": "RA-H1-2026",
        "household_id": "H1",
        "village_code": VILLAGE,
        "period": "2026",
        "status": status.value,
        "score": 0.3,
        "model_version": "v1",
        "created_at": T0,
    }
    fields.update(alert)
    return AlertState(
        alert=RiskAlert.model_validate(fields),
        household_status="exited",
        household_size=3,
        labour_capable=True,
        housing_safe=True,
        water_safe=True,
        head_name="张建国",
        village_name="甲村",
    )


def test_the_whole_procedure_moves_status_and_stamps_deadlines() -> None:
    a = actor()
    change = review.decide_accept(a, T0 + timedelta(hours=5), SETTINGS)(state())
    assert change.alert_props["status"] == "accepted"
    # Next step (the home visit) is due 6 days after the alert.
    assert change.alert_props["due_at"] == T0 + timedelta(days=6)
    visit = review.Visit(findings="入户核实：户主住院，收入下降", verified_income_per_capita=5_800)
    change = review.decide_visit(a, visit, T0 + timedelta(days=1), SETTINGS)(
        state(AlertStatus.ACCEPTED)
    )
    assert change.alert_props["verified_income"] == 5_800
    notice = review.Notice(appraisal="村民代表评议通过", notice_days=5)
    change = review.decide_notice(a, notice, T0 + timedelta(days=2), SETTINGS)(
        state(AlertStatus.VISITED)
    )
    assert change.alert_props["notice_days"] == 5
    noticed = state(AlertStatus.NOTICED, notice_start=T0 + timedelta(days=2), notice_days=5)
    with pytest.raises(ConflictError):  # the notice has not run its 5 days yet
        review.decide_town_review(
            a, review.TownReview(note="同意"), T0 + timedelta(days=6), SETTINGS
        )(noticed)
    change = review.decide_town_review(
        a, review.TownReview(note="同意"), T0 + timedelta(days=7, hours=1), SETTINGS
    )(noticed)
    assert change.alert_props["status"] == "town_reviewed"
    decision = review.Decision(
        monitor_type=MonitorType.SUDDEN_HARDSHIP,
        measures=(
            review.Measure(
                category=NeedCategory.MEDICAL_AID,
                title="医疗救助",
                text="住院自付费用救助",
                amount=3000,
            ),
        ),
        helper_ids=("U1", "U1"),
    )
    change = review.decide_confirm(a, decision, T0 + timedelta(days=9), SETTINGS)(
        state(AlertStatus.TOWN_REVIEWED)
    )
    assert change.alert_props["status"] == "confirmed"
    assert change.household_props == {
        "status": "monitored",
        "monitor_type": "sudden_hardship",
        "monitored_since": (T0 + timedelta(days=9)).date(),
    }
    assert [m.category for m in change.measures] == ["medical_aid"]
    assert change.helper_ids == ("U1",)
    assert change.alert_props["due_at"] is None  # no deadline after the decision


def test_illegal_steps_are_conflicts_naming_what_is_allowed() -> None:
    with pytest.raises(ConflictError) as info:
        review.decide_visit(actor(), review.Visit(findings="看过了"), T0, SETTINGS)(state())
    assert "accept" in info.value.message
    with pytest.raises(ConflictError):
        review.decide_accept(actor(), T0, SETTINGS)(state(AlertStatus.DISMISSED))
    assert review.allowed_actions("confirmed") == [
        ReviewAction.RECORD_INCOME,
        ReviewAction.ELIMINATE,
    ]


def test_town_review_and_county_decision_need_officials_of_that_level() -> None:
    village_official = actor(region=VILLAGE)
    town_official = actor(region=VILLAGE[:9])
    noticed = state(AlertStatus.NOTICED, notice_start=T0, notice_days=5)
    later = T0 + timedelta(days=6)
    with pytest.raises(PermissionDeniedError):
        review.decide_town_review(
            village_official, review.TownReview(note="同意"), later, SETTINGS
        )(noticed)
    review.decide_town_review(town_official, review.TownReview(note="同意"), later, SETTINGS)(
        noticed
    )
    decision = review.Decision(monitor_type=MonitorType.UNSTABLE)
    with pytest.raises(PermissionDeniedError):
        review.decide_confirm(town_official, decision, later, SETTINGS)(
            state(AlertStatus.TOWN_REVIEWED)
        )
    field_worker = actor(Role.FIELD_WORKER, VILLAGE)
    review.decide_accept(field_worker, T0, SETTINGS)(state())
    with pytest.raises(PermissionDeniedError):
        review.decide_dismiss(field_worker, review.Dismissal(reason="收入稳定"), T0, SETTINGS)(
            state()
        )


def test_a_dismissal_needs_a_reason_and_a_notice_at_least_five_days() -> None:
    with pytest.raises(ValueError):
        review.Dismissal(reason="")
    change = review.decide_dismiss(
        actor(), review.Dismissal(reason="核实后收入稳定"), T0, SETTINGS
    )(state(AlertStatus.VISITED))
    assert change.alert_props["dismissed_reason"] == "核实后收入稳定"
    with pytest.raises(InvalidInputError):
        review.decide_notice(actor(), review.Notice(appraisal="评议", notice_days=3), T0, SETTINGS)(
            state(AlertStatus.VISITED)
        )


def test_overdue_and_late_steps_are_flagged() -> None:
    alert = state().alert
    assert not review.timeliness(alert, T0 + timedelta(days=1), SETTINGS).overdue
    late = review.timeliness(alert, T0 + timedelta(days=3), SETTINGS)
    assert late.overdue and late.due_at == T0 + timedelta(days=2)
    accepted_late = state(AlertStatus.ACCEPTED, accepted_at=T0 + timedelta(days=4)).alert
    t = review.timeliness(accepted_late, T0 + timedelta(days=4), SETTINGS)
    assert t.late_steps == ("accept",) and not t.overdue
    # Everything is due within 15 days: the last step's deadline is the county decision's.
    assert max(review.step_deadlines(SETTINGS).values()) == 15


def test_the_public_notice_shows_no_identifiers_or_health_details() -> None:
    noticed = state(
        AlertStatus.NOTICED,
        notice_start=T0,
        notice_days=5,
        proposed_type="unstable",
        reasons=("model", "medical_burden"),
        factors_zh=("家中有大病或慢性病患者",),
        visit_findings="户主患尿毒症，身份证440223198005170012，电话13912345678",
    )
    zh, en = review.public_notice(noticed, SETTINGS)
    assert "张某某" in zh and "甲村" in zh and "3人" in zh and "脱贫不稳定户" in zh
    assert "2026年04月01日至2026年04月06日" in zh
    for text in (zh, en):
        assert "建国" not in text
        assert not re.search(r"\d{6,}", text)
        for health in ("病", "尿毒症", "medical", "illness", "disab"):
            assert health not in text
    with pytest.raises(ConflictError):
        review.public_notice(state(AlertStatus.VISITED), SETTINGS)


def checks(*pairs: tuple[date, float]) -> tuple[IncomeCheck, ...]:
    return tuple(IncomeCheck(checked_on=d, per_capita_income=v) for d, v in pairs)


def test_months_above_line_counts_the_unbroken_run_ending_with_the_latest_check() -> None:
    line = {2025: 6_800.0, 2026: 7_000.0}
    run = checks((date(2025, 9, 1), 6_000), (date(2025, 10, 1), 7_500), (date(2026, 4, 15), 7_600))
    assert review.months_above_line(run, line.__getitem__) == pytest.approx(6.5, abs=0.1)
    broken = checks((date(2025, 10, 1), 7_500), (date(2026, 4, 15), 6_900))
    assert review.months_above_line(broken, line.__getitem__) == 0.0


def test_risk_is_eliminated_only_when_every_condition_holds() -> None:
    ok = review.Elimination(costs_resolved=True, guarantees_resolved=True, water_resolved=True)
    good_checks = checks((date(2025, 9, 1), 9_000), (date(2026, 3, 20), 9_500))
    confirmed = state(AlertStatus.CONFIRMED, income_checks=good_checks)
    when = T0 + timedelta(days=1)
    change = review.decide_eliminate(actor(), ok, when, SETTINGS)(confirmed)
    assert change.alert_props["status"] == "eliminated"
    assert change.household_props == {"status": "exited", "monitor_type": None}

    short = state(
        AlertStatus.CONFIRMED,
        income_checks=checks((date(2026, 1, 5), 9_000), (date(2026, 3, 20), 9_500)),
    )
    with pytest.raises(ConflictError) as info:
        review.decide_eliminate(actor(), ok, when, SETTINGS)(short)
    assert "6 needed" in info.value.message

    unresolved = review.Elimination(
        costs_resolved=True, guarantees_resolved=False, water_resolved=False
    )
    with pytest.raises(ConflictError) as info:
        review.decide_eliminate(actor(), unresolved, when, SETTINGS)(confirmed)
    assert "三保障未落实" in info.value.message_zh and "饮水" in info.value.message_zh

    no_labour = state(AlertStatus.CONFIRMED, income_checks=good_checks)
    no_labour = no_labour.model_copy(update={"labour_capable": False})
    with pytest.raises(ConflictError) as info:
        review.decide_eliminate(actor(), ok, when, SETTINGS)(no_labour)
    assert "继续监测" in info.value.message_zh
    with pytest.raises(PermissionDeniedError):  # a town official may not eliminate
        review.decide_eliminate(actor(region=VILLAGE[:9]), ok, when, SETTINGS)(confirmed)


def test_income_checks_replace_a_same_day_check_and_refuse_future_dates() -> None:
    confirmed = state(AlertStatus.CONFIRMED, income_checks=checks((date(2026, 3, 1), 7_000)))
    change = review.decide_record_income(
        actor(),
        review.IncomeCheckIn(checked_on=date(2026, 3, 1), per_capita_income=7_200),
        T0,
        SETTINGS,
    )(confirmed)
    assert change.income_checks == checks((date(2026, 3, 1), 7_200))
    with pytest.raises(InvalidInputError):
        review.decide_record_income(
            actor(),
            review.IncomeCheckIn(checked_on=date(2026, 5, 1), per_capita_income=1),
            T0,
            SETTINGS,
        )(confirmed)

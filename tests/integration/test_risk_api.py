"""Reviewing risk alerts over real HTTP against the real Neo4j: officials see only their
region, each step of the monitoring procedure is checked and audited, the public notice carries
no identifiers, a confirmed household is monitored with measures, and risk is eliminated only on
the evidence. Steps that must wait for the 5-day notice run through the same service with a
clock moved forward (the server keeps the real one)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, PermissionDeniedError
from bangfu.identity import make_national_id
from bangfu.settings import RiskSettings
from bangfu.vocabulary import (
    Employment,
    Health,
    HouseholdStatus,
    LabourAbility,
    MonitorType,
    NeedCategory,
    PovertyCause,
    Relation,
    Schooling,
    Sex,
)
from graph.client import GraphClient
from graph.models import AlertDraft, AlertQuery, AuditQuery, Household, Income, Person
from graph.pii import PiiVault
from graph.repositories import (
    AuditRepository,
    HouseholdRepository,
    NeedRepository,
    PairingRepository,
    PersonRepository,
    RiskRepository,
)
from ml import review
from ml.alerts import AlertService
from tests.integration.conftest import (
    COUNTY_A,
    COUNTY_B,
    TOWN_A,
    VILLAGE_A,
    VILLAGE_B,
    Login,
    MakeUser,
    bearer,
)

pytestmark = pytest.mark.services
ALERT_A = "RA-HA-2026"
ALERT_B = "RA-HB-2026"
NID = make_national_id("440223", date(1980, 5, 17), 102)
PHONE = "13912345678"


@dataclass
class RiskWorld:
    http: httpx.Client
    graph: GraphClient
    tokens: dict[str, str]
    users: dict[str, Login]

    def call(self, who: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        return self.http.request(
            method,
            f"/api/v1/risk{path}",
            headers=bearer(self.tokens[who]),
            **kwargs,  # type: ignore[arg-type]
        )

    def actor(self, who: str) -> review.Actor:
        user = self.users[who].user
        principal = Principal(
            user_id=user.id, username=user.username, role=user.role, region_code=user.region_code
        )
        return review.Actor(principal=principal, prefixes=(user.region_code or "",))


def add_exited_household(graph: GraphClient, vault: PiiVault, hid: str, village: str) -> None:
    HouseholdRepository(graph, vault).save(
        Household(
            id=hid,
            village_code=village,
            status=HouseholdStatus.EXITED,
            main_cause=PovertyCause.ILLNESS,
            size=3,
            address="2组15号",
            phone=SecretStr(PHONE),
            income=Income(wage=24_000),
        )
    )
    PersonRepository(graph, vault).save(
        Person(
            id=f"{hid}-01",
            household_id=hid,
            national_id=SecretStr(
                NID if hid == "HA" else make_national_id("440224", date(1975, 1, 2), 7)
            ),
            name="李小红",
            sex=Sex.FEMALE,
            birth_date=date(1980, 5, 17),
            relation=Relation.HEAD,
            health=Health.SERIOUS,
            disability_grade=0,
            schooling=Schooling.JUNIOR,
            labour_ability=LabourAbility.NORMAL,
            employment=Employment.MIGRANT,
            phone=SecretStr(PHONE),
        )
    )


@pytest.fixture
def world(
    auth_graph: GraphClient,
    vault: PiiVault,
    make_user: MakeUser,
    http: httpx.Client,
    token_of: Callable[[Login], str],
) -> RiskWorld:
    add_exited_household(auth_graph, vault, "HA", VILLAGE_A)
    add_exited_household(auth_graph, vault, "HB", VILLAGE_B)
    now = datetime.now(UTC)
    RiskRepository(auth_graph).save_alerts(
        [VILLAGE_A, VILLAGE_B],
        2,
        [
            AlertDraft(
                household_id=hid,
                village_code=village,
                period="2026",
                score=score,
                model_version="test-model",
                reasons=reasons,
                factors_zh=("人均纯收入仅高出监测线5%",),
                factors_en=("per-capita income only 5% above the monitoring line",),
            )
            for hid, village, score, reasons in (
                ("HA", VILLAGE_A, 0.31, ("model", "medical_burden")),
                ("HB", VILLAGE_B, 0.12, ("disaster",)),
            )
        ],
        period="2026",
        model_version="test-model",
        at=now,
        due=now + timedelta(days=2),
    )
    users = {
        "field_a": make_user(Role.FIELD_WORKER, region_code=VILLAGE_A),
        "town_a": make_user(Role.OFFICIAL, region_code=TOWN_A),
        "county_a": make_user(Role.OFFICIAL, region_code=COUNTY_A),
        "county_b": make_user(Role.OFFICIAL, region_code=COUNTY_B),
        "charity": make_user(Role.CHARITY, helper_id="C1"),
    }
    return RiskWorld(
        http=http,
        graph=auth_graph,
        tokens={k: token_of(v) for k, v in users.items()},
        users=users,
    )


def test_officials_see_their_own_region_only(world: RiskWorld) -> None:
    listed = world.call("county_a", "GET", "/alerts")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [a["id"] for a in body["items"]] == [ALERT_A] and body["total"] == 1
    item = body["items"][0]
    assert item["reasons_zh"] == ["模型预警", "医疗支出负担重"] and item["status_zh"] == "待受理"
    assert item["next_steps"] == ["accept", "dismiss"] and not item["overdue"]
    assert world.call("county_b", "GET", f"/alerts/{ALERT_A}").status_code == 404
    assert world.call("county_b", "POST", f"/alerts/{ALERT_A}/accept").status_code == 404
    assert world.call("charity", "GET", "/alerts").status_code == 403
    filtered = world.call(
        "county_b", "GET", "/alerts", params={"reason": "disaster", "sort": "due"}
    )
    assert [a["id"] for a in filtered.json()["items"]] == [ALERT_B]
    assert world.call("county_b", "GET", "/alerts", params={"min_score": 0.5}).json()["total"] == 0
    assert world.call("county_a", "GET", "/alerts", params={"sort": "nonsense"}).status_code == 422


def test_the_monitoring_procedure_from_alert_to_eliminated_risk(
    world: RiskWorld, vault: PiiVault
) -> None:
    ok = world.call("field_a", "POST", f"/alerts/{ALERT_A}/accept")
    assert ok.status_code == 200 and ok.json()["status"] == "accepted", ok.text
    visit = {"findings": "入户核实：户主住院，务工收入减少", "verified_income_per_capita": 6_900}
    assert world.call("field_a", "POST", f"/alerts/{ALERT_A}/visit", json=visit).status_code == 200
    short = {"appraisal": "村民代表评议通过", "notice_days": 3}
    assert world.call("field_a", "POST", f"/alerts/{ALERT_A}/notice", json=short).status_code == 422
    notice = {"appraisal": "村民代表评议通过", "notice_days": 5, "proposed_type": "unstable"}
    started = world.call("field_a", "POST", f"/alerts/{ALERT_A}/notice", json=notice)
    assert started.status_code == 200 and started.json()["status"] == "noticed"

    posted = world.call("field_a", "GET", f"/alerts/{ALERT_A}/notice").json()
    for text in (posted["text_zh"], posted["text_en"]):
        assert "李某某" in text and "小红" not in text
        assert NID not in text and PHONE not in text and not re.search(r"\d{6,}", text)
        assert "病" not in text and "住院" not in text and "medical" not in text
    # The notice runs 5 days: the town cannot review yet; field workers never may.
    review_note = {"note": "乡镇审核同意"}
    early = world.call("town_a", "POST", f"/alerts/{ALERT_A}/town-review", json=review_note)
    assert early.status_code == 409, early.text
    assert (
        world.call(
            "field_a", "POST", f"/alerts/{ALERT_A}/town-review", json=review_note
        ).status_code
        == 403
    )

    # Six days later (the same service the server runs, with its clock moved forward).
    later = AlertService(
        RiskRepository(world.graph),
        AuditRepository(world.graph),
        RiskSettings(),
        clock=lambda: datetime.now(UTC) + timedelta(days=6),
    )
    later.town_review(world.actor("town_a"), ALERT_A, review.TownReview(note="乡镇审核同意"))
    with pytest.raises(PermissionDeniedError):  # a town official cannot take the county decision
        later.confirm(
            world.actor("town_a"), ALERT_A, review.Decision(monitor_type=MonitorType.UNSTABLE)
        )
    decision = review.Decision(
        monitor_type=MonitorType.UNSTABLE,
        measures=(
            review.Measure(
                category=NeedCategory.MEDICAL_AID,
                title="大病医疗救助",
                text="住院自付费用救助",
                amount=5_000,
            ),
        ),
        helper_ids=("U1",),
    )
    confirmed = later.confirm(world.actor("county_a"), ALERT_A, decision)
    assert confirmed.status == "confirmed" and confirmed.monitor_type == "unstable"
    household = HouseholdRepository(world.graph, vault).get("HA")
    assert household.status is HouseholdStatus.MONITORED
    assert household.monitor_type is MonitorType.UNSTABLE
    needs = NeedRepository(world.graph).in_region(VILLAGE_A)
    assert [(n.category, n.status) for n in needs] == [("medical_aid", "open")]
    pairing = PairingRepository(world.graph).of_household("HA")
    assert pairing is not None and "U1" in pairing.helper_ids

    shown = world.call("county_a", "GET", f"/alerts/{ALERT_A}").json()
    assert shown["status"] == "confirmed" and shown["monitor_type_zh"] == "脱贫不稳定户"
    assert shown["next_steps"] == ["record_income", "eliminate"]

    done = {"costs_resolved": True, "guarantees_resolved": True, "water_resolved": True}
    refused = world.call("county_a", "POST", f"/alerts/{ALERT_A}/eliminate", json=done)
    assert (
        refused.status_code == 409 and "收入稳定高于监测线" in refused.json()["error"]["message_zh"]
    )
    today = datetime.now(UTC).date()
    for days_ago, income in ((200, 8_800), (10, 9_400)):
        check = {"checked_on": str(today - timedelta(days=days_ago)), "per_capita_income": income}
        assert (
            world.call(
                "field_a", "POST", f"/alerts/{ALERT_A}/income-checks", json=check
            ).status_code
            == 200
        )
    eliminated = world.call("county_a", "POST", f"/alerts/{ALERT_A}/eliminate", json=done)
    assert eliminated.status_code == 200, eliminated.text
    assert eliminated.json()["status"] == "eliminated"
    assert len(eliminated.json()["income_checks"]) == 2
    assert HouseholdRepository(world.graph, vault).get("HA").status is HouseholdStatus.EXITED

    events = AuditRepository(world.graph).search(AuditQuery(subject_id=ALERT_A), limit=100)
    steps = [(e.action, e.outcome.value) for e in reversed(events)]
    assert ("risk_alert.accept", "ok") in steps and ("risk_alert.eliminate", "ok") in steps
    assert ("risk_alert.confirm", "denied") in steps
    for action in ("visit", "notice", "town_review", "confirm", "record_income"):
        assert (f"risk_alert.{action}", "ok") in steps
    assert all(NID not in str(e.after) and PHONE not in str(e.after) for e in events)


def test_a_confirmed_household_is_monitored_and_one_without_labour_stays_so(
    world: RiskWorld, vault: PiiVault
) -> None:
    later = AlertService(
        RiskRepository(world.graph),
        AuditRepository(world.graph),
        RiskSettings(),
        clock=lambda: datetime.now(UTC) + timedelta(days=6),
    )
    now_service = AlertService(
        RiskRepository(world.graph), AuditRepository(world.graph), RiskSettings()
    )
    b = world.actor("county_b")
    now_service.accept(b, ALERT_B)
    now_service.visit(b, ALERT_B, review.Visit(findings="核实"))
    now_service.start_notice(b, ALERT_B, review.Notice(appraisal="评议通过"))
    later.town_review(b, ALERT_B, review.TownReview(note="同意"))
    later.confirm(b, ALERT_B, review.Decision(monitor_type=MonitorType.SUDDEN_HARDSHIP))
    hb = HouseholdRepository(world.graph, vault).get("HB")
    assert hb.status is HouseholdStatus.MONITORED and hb.monitor_type is MonitorType.SUDDEN_HARDSHIP
    # HB's only member loses the ability to work: the household stays monitored.
    person = PersonRepository(world.graph, vault).get("HB-01")
    PersonRepository(world.graph, vault).save(
        person.model_copy(update={"labour_ability": LabourAbility.NONE})
    )
    today = datetime.now(UTC).date()
    for days_ago in (250, 5):
        later.record_income(
            b,
            ALERT_B,
            review.IncomeCheckIn(
                checked_on=today - timedelta(days=days_ago), per_capita_income=9_000
            ),
        )
    ok = review.Elimination(costs_resolved=True, guarantees_resolved=True, water_resolved=True)
    with pytest.raises(ConflictError) as info:
        later.eliminate(b, ALERT_B, ok)
    assert "继续监测" in info.value.message_zh


def test_dismissal_needs_a_reason_and_overdue_steps_are_flagged(world: RiskWorld) -> None:
    empty = world.call("county_b", "POST", f"/alerts/{ALERT_B}/dismiss", json={"reason": ""})
    assert empty.status_code == 422
    three_days_on = AlertService(
        RiskRepository(world.graph),
        AuditRepository(world.graph),
        RiskSettings(),
        clock=lambda: datetime.now(UTC) + timedelta(days=3),
    )
    overdue = three_days_on.list(world.actor("county_b"), AlertQuery(), overdue=True)
    assert [a.id for a in overdue.items] == [ALERT_B]
    assert three_days_on.timeliness(overdue.items[0]).overdue
    assert world.call("county_b", "GET", "/alerts", params={"overdue": True}).json()["total"] == 0
    dismissed = world.call(
        "county_b",
        "POST",
        f"/alerts/{ALERT_B}/dismiss",
        json={"reason": "核实后收入稳定，非风险户"},
    )
    assert (
        dismissed.status_code == 200
        and dismissed.json()["dismissed_reason"] == "核实后收入稳定，非风险户"
    )
    again = world.call("county_b", "POST", f"/alerts/{ALERT_B}/accept")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"

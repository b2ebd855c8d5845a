"""Exits over HTTP on a generated county with its department data imported: the proposals are
exactly the households and villages the rules admit (read back through the graph), proposing
again adds none, only county officials decide, a decision changes the household and is audited
with it, and other regions see nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest

from bangfu.access import Role
from bangfu.vocabulary import HouseholdStatus, Schooling
from graph.client import GraphClient
from graph.models import ExitHousehold, ExitMember, VillageExitInput
from graph.pii import PiiVault
from graph.synthetic.scales import AS_OF
from tests.integration.conftest import Login, MakeUser, bearer
from tests.integration.crosscheck_data import CountyData, seed_county_with_departments
from verification import exits


@pytest.fixture
def county(auth_graph: GraphClient, vault: PiiVault, tmp_path: Path) -> CountyData:
    return seed_county_with_departments(auth_graph, vault, tmp_path)


def expected(data: CountyData) -> tuple[set[str], set[str]]:
    """Household ids and village codes the rules admit, from the generator's own rows."""
    rules = exits.ExitRules(
        as_of=AS_OF, income_line=data.income_line, sources_present=frozenset(data.files.rows)
    )
    school_year = rules.school_year
    statuses: dict[str, dict[str, list[str]]] = {}
    for source, rows in data.files.rows.items():
        for r in rows:
            if source == "medical_insurance.enrolment" and r["year"] == AS_OF.year:
                statuses.setdefault(str(r["national_id"]), {}).setdefault("m", []).append(
                    str(r["status"])
                )
            if source == "education.enrolment" and r["school_year"] == school_year:
                statuses.setdefault(str(r["national_id"]), {}).setdefault("s", []).append(
                    str(r["status"])
                )
    members: dict[str, list[ExitMember]] = {}
    for p in data.persons:
        seen = statuses.get(str(p["national_id"]), {})
        members.setdefault(str(p["household_id"]), []).append(
            ExitMember(
                person_id=str(p["person_id"]),
                birth_date=date.fromisoformat(str(p["birth_date"])),
                schooling=Schooling(str(p["schooling"])),
                medical_statuses=tuple(seen.get("m", ())),
                school_statuses=tuple(seen.get("s", ())),
            )
        )
    households = set()
    people: dict[str, list[int]] = {}
    for h in data.households:
        code = str(h["village_code"])
        size = int(str(h["size"]))
        poor = str(h["status"]) in ("poor", "monitored")
        people.setdefault(code, [0, 0])
        people[code][0] += size
        people[code][1] += size if poor else 0
        draft = exits.household_proposal(
            ExitHousehold(
                household_id=str(h["household_id"]),
                village_code=code,
                status=HouseholdStatus(str(h["status"])),
                size=size,
                income_per_capita=float(str(h["income_per_capita"])),
                housing_safe=bool(h["housing_safe"]),
                water_safe=bool(h["water_safe"]),
                members=tuple(members.get(str(h["household_id"]), ())),
            ),
            rules,
        )
        if draft is not None:
            households.add(draft.subject_id)
    villages = {
        code
        for code, (total, poor) in people.items()
        if exits.village_proposal(
            VillageExitInput(
                village_code=code, households=1, people=total, poor_people=poor, open_findings=0
            ),
            rules,
        )
    }
    return households, villages


HOUSEHOLD = "MATCH (h:Household {id: $id}) RETURN h.status AS status, h.exit_year AS exit_year"
AUDIT_OF = "MATCH (e:AuditEvent {subject_id: $id}) RETURN e.action AS action, e.outcome AS outcome"


def test_exit_proposals_decisions_and_their_audit(
    county: CountyData,
    auth_graph: GraphClient,
    http: httpx.Client,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
) -> None:
    code = county.county_code
    official = token_of(make_user(Role.OFFICIAL, code))
    run = http.post(
        "/api/v1/exits/proposals",
        json={"region": code, "as_of": AS_OF.isoformat()},
        headers=bearer(official),
    )
    assert run.status_code == 200, run.text
    want_households, want_villages = expected(county)
    assert want_households, "the generated county should have households ready to exit"
    body = run.json()
    assert body["households_proposed"] == len(want_households)
    assert body["villages_proposed"] == len(want_villages)
    assert body["new_proposals"] == len(want_households) + len(want_villages)

    listed = http.get(
        "/api/v1/exits/proposals",
        params={"kind": "household", "page_size": 100},
        headers=bearer(official),
    ).json()
    assert listed["total"] == len(want_households)
    assert {x["subject_id"] for x in listed["items"]} <= want_households
    first, second = listed["items"][0], listed["items"][1]
    assert {c["guarantee"] for c in first["checks"]} >= {"income", "safe_water", "basic_medical"}

    again = http.post(
        "/api/v1/exits/proposals",
        json={"region": code, "as_of": AS_OF.isoformat()},
        headers=bearer(official),
    ).json()
    assert again["new_proposals"] == 0

    # A town official may read but not decide; the refusal is on the trail.
    town = token_of(make_user(Role.OFFICIAL, first["village_code"][:9]))
    decision = {"decision": "approve", "note": "经核实，符合退出标准"}
    refused = http.post(
        f"/api/v1/exits/proposals/{first['id']}/decision", json=decision, headers=bearer(town)
    )
    assert refused.status_code == 403
    assert [e["outcome"] for e in auth_graph.read(AUDIT_OF, id=first["id"])] == ["denied"]
    worker = token_of(make_user(Role.FIELD_WORKER, first["village_code"]))
    assert (
        http.post(
            f"/api/v1/exits/proposals/{first['id']}/decision", json=decision, headers=bearer(worker)
        ).status_code
        == 403
    )

    approved = http.post(
        f"/api/v1/exits/proposals/{first['id']}/decision", json=decision, headers=bearer(official)
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    row = auth_graph.read_one(HOUSEHOLD, id=first["subject_id"])
    assert row == {"status": "exited", "exit_year": AS_OF.year}
    assert [e["action"] for e in auth_graph.read(AUDIT_OF, id=first["id"])] == [
        "exit.approve",
        "exit.approve",
    ]
    assert (
        http.post(
            f"/api/v1/exits/proposals/{first['id']}/decision",
            json=decision,
            headers=bearer(official),
        ).status_code
        == 409
    )

    status_before = auth_graph.read_one(HOUSEHOLD, id=second["subject_id"])
    rejected = http.post(
        f"/api/v1/exits/proposals/{second['id']}/decision",
        json={"decision": "reject", "note": "收入不稳定，暂缓退出"},
        headers=bearer(official),
    )
    assert rejected.json()["status"] == "rejected"
    assert auth_graph.read_one(HOUSEHOLD, id=second["subject_id"]) == status_before

    outsider = token_of(make_user(Role.OFFICIAL, "440223"))
    assert (
        http.get(f"/api/v1/exits/proposals/{second['id']}", headers=bearer(outsider)).status_code
        == 404
    )
    assert http.get("/api/v1/exits/proposals", headers=bearer(outsider)).json()["total"] == 0

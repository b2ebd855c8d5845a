"""Schemathesis against the OpenAPI document the live server serves, once per role with that
role's token (and once anonymously): no answer may be a 5xx, and every answer must be a status
the document lists for the operation, with a body and content type that conform to it.

The generated requests run against a small real world (two villages, households, needs in
several states, a pending transfer) through the real uvicorn server and Neo4j. Half of the
generated path parameters are replaced by ids that exist, so that the requests reach the
services and the graph instead of stopping at "not found". The world changes as the fuzzer
claims, releases and cancels; that is the point: every state must answer within the contract.

Bounded for two cores: a fixed number of examples per operation (about 4,000 requests for the
~50 operations and 9 callers, 1.5-3 min), no Hypothesis deadline, no example database, no
shrinking. Every failure report carries the request as a curl command and the response.
BANGFU_FUZZ_EXAMPLES=60 digs deeper (several times longer).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bangfu.access import Role
from bangfu.identity import make_national_id
from bangfu.vocabulary import (
    Employment,
    Health,
    LabourAbility,
    NeedCategory,
    NeedStatus,
    ProjectStage,
    ProjectType,
    Relation,
    Schooling,
    Sex,
)
from graph.client import GraphClient
from graph.models import Person, Project
from graph.pii import PiiVault
from graph.repositories import PersonRepository
from graph.repositories.projects import ProjectRepository
from tests.integration.conftest import (
    COUNTY_A,
    VILLAGE_A,
    VILLAGE_B,
    LiveServer,
    Login,
    MakeUser,
    bearer,
    fresh_ip,
)
from tests.integration.marketplace_data import add_household, add_need

pytestmark = pytest.mark.services

# Per operation and role. Small on purpose: the value is in covering every operation with every
# role against real data, not in depth on one operation. Override for a longer local run.
MAX_EXAMPLES = int(os.environ.get("BANGFU_FUZZ_EXAMPLES", "10"))
ANONYMOUS_EXAMPLES = 5

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# One login per role; helpers are the conftest's (C1 serves county A, W1 the province, D1 the
# city, U1 village A).
ROLES: dict[str, tuple[Role, dict[str, str]]] = {
    "official": (Role.OFFICIAL, {"region_code": COUNTY_A}),
    "field_worker": (Role.FIELD_WORKER, {"region_code": VILLAGE_A}),
    "charity": (Role.CHARITY, {"helper_id": "C1"}),
    "womens_federation": (Role.WOMENS_FEDERATION, {"helper_id": "W1"}),
    "disabled_federation": (Role.DISABLED_FEDERATION, {"helper_id": "D1"}),
    "helper_unit": (Role.HELPER_UNIT, {"helper_id": "U1"}),
    "auditor": (Role.AUDITOR, {}),
    "admin": (Role.ADMIN, {}),
}

# Operations that take no token: fuzzed once, anonymously, not once per role.
PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/token")}


@dataclass
class FuzzWorld:
    """Ids that exist, by path-parameter name, and a token per role."""

    ids: dict[str, list[str]]
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")


def _person(person_id: str, household_id: str, serial: int) -> Person:
    return Person(
        id=person_id,
        household_id=household_id,
        national_id=SecretStr(make_national_id(VILLAGE_A[:6], date(1980, 5, 17), serial)),
        name="李小红",
        sex=Sex.FEMALE,
        birth_date=date(1980, 5, 17),
        relation=Relation.HEAD,
        health=Health.CHRONIC,
        disability_grade=0,
        schooling=Schooling.JUNIOR,
        labour_ability=LabourAbility.NORMAL,
        employment=Employment.MIGRANT,
        phone=SecretStr("13912345678"),
    )


@pytest.fixture
def fuzz_world(
    auth_graph: GraphClient,
    vault: PiiVault,
    make_user: MakeUser,
    http: httpx.Client,
    token_of: Callable[[Login], str],
) -> Iterator[FuzzWorld]:
    add_household(auth_graph, vault, "HA", VILLAGE_A)
    add_household(auth_graph, vault, "HB", VILLAGE_B)
    persons = PersonRepository(auth_graph, vault)
    persons.save(_person("HA-01", "HA", 102))
    needs = {
        "N-open": (NeedCategory.JOB, 0.0, NeedStatus.OPEN),
        "N-cash": (NeedCategory.MEDICAL_AID, 5000.0, NeedStatus.OPEN),
        "N-pending": (NeedCategory.SKILLS_TRAINING, 0.0, NeedStatus.PENDING_REVIEW),
        "N-held": (NeedCategory.JOB, 0.0, NeedStatus.OPEN),
    }
    for need_id, (category, amount, status) in needs.items():
        add_need(auth_graph, need_id, "HA", VILLAGE_A, category, amount, status)
    add_need(auth_graph, "N-b", "HB", VILLAGE_B)
    logins = {name: make_user(role, **binding) for name, (role, binding) in ROLES.items()}
    tokens = {name: token_of(who) for name, who in logins.items()}
    # A claimed need with a pending transfer request, so that the transfer operations meet a
    # real transfer id.
    held = http.post("/api/v1/needs/N-held/claim", headers=bearer(tokens["charity"]))
    assert held.status_code == 200, held.text
    asked = http.post("/api/v1/needs/N-held/transfers", headers=bearer(tokens["womens_federation"]))
    assert asked.status_code == 201, asked.text
    # An approved project with a milestone, so that the project operations meet real ids.
    projects = ProjectRepository(auth_graph)
    projects.save(
        Project(
            id="P-fuzz",
            name="甲村道路硬底化工程",
            type=ProjectType.INFRASTRUCTURE,
            stage=ProjectStage.APPROVED,
            county_code=VILLAGE_A[:6],
            village_code=VILLAGE_A,
            fund_source="中央财政专项扶贫资金",
            funds_allocated=100_000,
            funds_disbursed=0,
            managing_body="甲县交通运输局",
            operating_body="甲村村民委员会",
            supervising_body="甲县纪委监委",
            start_date=date(2026, 1, 1),
        )
    )
    projects.save_milestone_rows(
        [
            {
                "id": "P-fuzz-M01",
                "project_id": "P-fuzz",
                "seq": 1,
                "name": "开工建设",
                "planned_date": date(2026, 3, 1),
                "achieved_date": None,
                "progress_pct": 50,
            }
        ]
    )
    projects.add_beneficiaries("P-fuzz", ["HA"])
    ids = {
        "project_id": ["P-fuzz"],
        "milestone_id": ["P-fuzz-M01"],
        "need_id": [*needs, "N-b"],
        "household_id": ["HA", "HB"],
        "person_id": ["HA-01"],
        "transfer_id": [str(asked.json()["transfer_id"])],
    }
    yield FuzzWorld(ids=ids, tokens=tokens)


def _operations(schema: Any, *, public: bool) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if ((operation.method.upper(), operation.path) in PUBLIC) == public:
            operations.append(operation)
    assert operations, "the served document lists no operations"
    return operations


def _fuzz(
    operation: Any,
    base_url: str,
    headers: Callable[[], dict[str, str]],
    ids: dict[str, list[str]],
    max_examples: int,
    statuses: Counter[int],
) -> list[str]:
    """Run one operation's examples; returns the failure reports (empty when all conform) and
    counts the statuses of the conforming answers into `statuses`."""
    failures: list[str] = []
    session = requests.Session()
    # Mostly valid requests (they reach the services); a third invalid ones (they must get the
    # documented 422, never a 5xx from a value the validation let through).
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        # One report per operation is enough: shrinking a failure costs minutes on two cores.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(st.sampled_from(strategies).flatmap(lambda s: s))
        for name in case.path_parameters or {}:
            if name in ids and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(ids[name]))
        try:
            response = case.call_and_validate(
                base_url=base_url, session=session, headers=headers(), checks=CHECKS
            )
        except schemathesis.errors.FailureGroup as group:
            # Collected, not raised: one run then reports every failing operation and role.
            failures.append(group.message)
        else:
            statuses[response.status_code] += 1

    try:
        run()
    finally:
        session.close()
    return failures


def _report(failures: dict[str, list[str]]) -> str:
    """A table of contents (operation: distinct failure titles), then the first full report of
    each operation, which carries the request as a curl command and the response."""
    lines = []
    for label, reports in failures.items():
        titles = sorted(
            {ln.strip() for r in reports for ln in r.splitlines() if ln.startswith("- ")}
        )
        lines.append(f"{label}: {len(reports)} failing example(s): {'; '.join(titles)}")
    for label, reports in failures.items():
        lines += ["", f"== {label}", reports[0]]
    return "\n".join(lines)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_conforms_for_role(
    role: str, api_schema: Any, fuzz_world: FuzzWorld, live_server: LiveServer
) -> None:
    token = fuzz_world.tokens[role]
    failures: dict[str, list[str]] = {}
    statuses: Counter[int] = Counter()
    for operation in _operations(api_schema, public=False):
        found = _fuzz(
            operation,
            live_server.url,
            lambda: bearer(token),
            fuzz_world.ids,
            MAX_EXAMPLES,
            statuses,
        )
        if found:
            failures[f"{role} {operation.label}"] = found
    if failures:
        pytest.fail(_report(failures), pytrace=False)
    # Guards the guard: a broken token would make every answer a conforming 401.
    assert any(200 <= status < 300 for status in statuses), statuses


def test_every_operation_conforms_anonymously(
    api_schema: Any, fuzz_world: FuzzWorld, live_server: LiveServer
) -> None:
    failures: dict[str, list[str]] = {}
    guarded: Counter[int] = Counter()
    for operation in _operations(api_schema, public=False):
        found = _fuzz(operation, live_server.url, dict, fuzz_world.ids, ANONYMOUS_EXAMPLES, guarded)
        if found:
            failures[f"anonymous {operation.label}"] = found
    public: Counter[int] = Counter()
    for operation in _operations(api_schema, public=True):
        # Each login from its own address: the per-address throttle would otherwise answer 429
        # to everything after the first few (429 is documented, but it would hide the rest).
        found = _fuzz(
            operation,
            live_server.url,
            lambda: {"X-Forwarded-For": fresh_ip()},
            fuzz_world.ids,
            MAX_EXAMPLES,
            public,
        )
        if found:
            failures[f"anonymous {operation.label}"] = found
    if failures:
        pytest.fail(_report(failures), pytrace=False)
    assert not [s for s in guarded if s < 300], f"anonymous request got through: {guarded}"
    assert public[200], public  # health answered


# --- what the fuzzing found, pinned down --------------------------------------------------------

ERROR_STATUSES = {"401", "403", "404", "409", "413", "422", "429", "503"}


def test_the_document_lists_every_error_status_in_the_one_shape(http: httpx.Client) -> None:
    document = http.get("/api/v1/openapi.json").json()
    # FastAPI's default 422 schema ({"detail": [...]}) is not what the API answers.
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            expected = {"503"} if path == "/api/v1/health" else ERROR_STATUSES
            responses = operation["responses"]
            assert expected <= set(responses), (method, path)
            for status in expected:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)


@pytest.fixture
def charity_token(make_user: MakeUser, token_of: Callable[[Login], str]) -> str:
    return token_of(make_user(Role.CHARITY, helper_id="C1"))


def test_a_body_that_cannot_be_parsed_is_invalid_input(
    http: httpx.Client, charity_token: str
) -> None:
    """FastAPI answers a body it cannot decode with a bare 400 of its own; the API answers 422
    in the one error shape, like every other invalid input."""
    answer = http.post(
        "/api/v1/needs/N-1/release",
        content=b"\xff\xfe\xfd not UTF-8",
        headers={**bearer(charity_token), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["fields"] == [{"path": "body", "message": "could not be parsed"}]


def test_audit_times_with_any_valid_offset_are_answered(
    http: httpx.Client, make_user: MakeUser, token_of: Callable[[Login], str]
) -> None:
    admin = token_of(make_user(Role.ADMIN))
    for since in (
        "2026-01-01T00:00:00+20:29",  # ISO 8601 and Python allow it, Neo4j stops at 18:00
        "2026-01-01T00:00:00-19:16",
        "0001-01-01T01:00:00+08:00",  # before year 1 in UTC
    ):
        answer = http.get("/api/v1/audit", params={"since": since}, headers=bearer(admin))
        assert answer.status_code in (200, 422), (since, answer.text)

"""Logins over real HTTP (uvicorn on loopback), real Neo4j and real Redis: tokens, the same 401
for every bad credential, expiry and deactivation, throttling per account and per address, user
validation, the `bangfu user` commands, and no password or token in any answer or log line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from pydantic import SecretStr

from api.audit import AuditTrail
from api.auth import issue_token
from api.users import DEFAULT_DEMO_PASSWORD, DEMO_USERNAMES, UserService, demo_password
from bangfu.access import Role
from bangfu.errors import ConfigurationError, ConflictError, InvalidInputError
from bangfu.settings import Environment, get_settings
from graph.client import GraphClient
from graph.models import AuditOutcome, AuditQuery
from graph.pii import PiiVault
from graph.repositories import AuditRepository, UserRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale
from tests.integration.conftest import (
    COUNTY_A,
    LOCKOUT_WINDOW_S,
    ROOT,
    TOWN_A,
    VILLAGE_A,
    LiveServer,
    Login,
    MakeUser,
    bearer,
    fresh_ip,
    login,
)

ME = "/api/v1/me"


def denied_logins(graph: GraphClient, user_id: str | None = None) -> list[str | None]:
    query = AuditQuery(subject_type="user", subject_id=user_id)
    events = AuditRepository(graph).search(query, limit=100)
    return [e.reason for e in events if e.action == "login" and e.outcome is AuditOutcome.DENIED]


def test_login_issues_a_short_lived_bearer_token_and_me_returns_the_principal(
    http: httpx.Client, make_user: MakeUser
) -> None:
    official = make_user(Role.OFFICIAL, region_code=COUNTY_A)
    response = login(http, official.username.upper(), official.password)  # names ignore case
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    grant = response.json()
    assert grant["token_type"] == "bearer"
    assert grant["expires_in"] == get_settings().auth.access_token_minutes * 60
    claims = jwt.decode(grant["access_token"], options={"verify_signature": False})
    assert claims["sub"] == official.user.id and claims["role"] == "official"
    assert claims["jti"] and claims["exp"] - claims["iat"] == grant["expires_in"]

    me = http.get(ME, headers=bearer(grant["access_token"]))
    assert me.status_code == 200
    assert me.headers["X-Request-ID"]
    assert me.json() == {
        "user_id": official.user.id,
        "username": official.username,
        "role": "official",
        "region_code": COUNTY_A,
        "helper_id": None,
        "service_regions": [],
    }


def test_helper_login_carries_its_helper_service_regions(
    http: httpx.Client, make_user: MakeUser, token_of: Callable[[Login], str]
) -> None:
    charity = make_user(Role.CHARITY, helper_id="C1")
    me = http.get(ME, headers=bearer(token_of(charity))).json()
    assert me["helper_id"] == "C1" and me["service_regions"] == [COUNTY_A]


def test_wrong_username_and_wrong_password_get_the_same_401(
    http: httpx.Client, make_user: MakeUser, auth_graph: GraphClient
) -> None:
    worker = make_user(Role.FIELD_WORKER, region_code=VILLAGE_A)
    wrong_password = login(http, worker.username, worker.password + "x")
    wrong_username = login(http, "nobody-" + worker.username, worker.password)
    for response in (wrong_password, wrong_username):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    bodies = [r.json()["error"] for r in (wrong_password, wrong_username)]
    for body in bodies:
        body.pop("request_id")
    assert bodies[0] == bodies[1]
    assert bodies[0]["message"] == "wrong username or password"
    assert bodies[0]["message_zh"] == "用户名或密码错误"
    # Both refusals are in the audit trail; the unknown name is not (it may be a typed password).
    assert denied_logins(auth_graph, worker.user.id) == ["bad_credentials"]
    assert "nobody-" not in str(AuditRepository(auth_graph).search(AuditQuery(), limit=100))


def test_expired_forged_and_missing_tokens_get_401(http: httpx.Client, make_user: MakeUser) -> None:
    auditor = make_user(Role.AUDITOR)
    settings = get_settings().auth
    expired = issue_token(auditor.user, settings, now=datetime.now(UTC) - timedelta(hours=2))
    forged = jwt.encode(
        jwt.decode(expired.access_token, options={"verify_signature": False})
        | {"exp": datetime.now(UTC) + timedelta(hours=1)},
        "not-the-server-secret-at-all-0123456789",
        algorithm="HS256",
    )
    unsigned = jwt.encode({"sub": auditor.user.id, "role": "auditor"}, "", algorithm="none")
    cases = {
        "expired": bearer(expired.access_token),
        "forged": bearer(forged),
        "unsigned": bearer(unsigned),
        "garbage": bearer("not.a.token"),
        "missing": {},
    }
    for name, headers in cases.items():
        response = http.get(ME, headers=headers)
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "unauthenticated", name
    assert "expired" in http.get(ME, headers=cases["expired"]).json()["error"]["message"]
    fresh = issue_token(auditor.user, settings)
    assert http.get(ME, headers=bearer(fresh.access_token)).status_code == 200


def test_deactivated_user_loses_its_tokens_and_cannot_log_in(
    http: httpx.Client,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
    auth_graph: GraphClient,
) -> None:
    admin = make_user(Role.ADMIN)
    token = token_of(admin)
    assert http.get(ME, headers=bearer(token)).status_code == 200
    service = UserService(auth_graph, AuditTrail.system(AuditRepository(auth_graph), "test"))
    service.set_active(admin.user.id, False)
    assert http.get(ME, headers=bearer(token)).status_code == 401
    refused = login(http, admin.username, admin.password)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "wrong username or password"
    assert denied_logins(auth_graph, admin.user.id) == ["inactive"]


def test_account_lockout_after_five_failures_then_the_window_passes(
    http: httpx.Client,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
    auth_graph: GraphClient,
) -> None:
    target = make_user(Role.OFFICIAL, region_code=TOWN_A)
    bystander = make_user(Role.OFFICIAL, region_code=TOWN_A)
    ip = fresh_ip()
    started = time.monotonic()
    for _ in range(get_settings().auth.login_failures_per_account):
        assert login(http, target.username, "wrong-password-1", ip).status_code == 401
    # Locked: even the right password is refused, with a Retry-After inside the window.
    locked = login(http, target.username, target.password, ip)
    assert time.monotonic() - started < LOCKOUT_WINDOW_S, "the test machine was too slow"
    assert locked.status_code == 429
    retry_after = int(locked.headers["Retry-After"])
    assert 1 <= retry_after <= LOCKOUT_WINDOW_S
    assert locked.json()["error"]["code"] == "rate_limited"
    # Another account from the same address is not affected.
    assert login(http, bystander.username, bystander.password, ip).status_code == 200
    # A different address does not unlock the account either.
    assert login(http, target.username, target.password).status_code == 429
    time.sleep(retry_after + 0.2)
    assert login(http, target.username, target.password, ip).status_code == 200
    reasons = denied_logins(auth_graph, target.user.id)
    assert reasons.count("rate_limited_account") == 1  # recorded once, not per refusal
    assert reasons.count("bad_credentials") == 5


def test_address_throttle_after_twenty_attempts_other_addresses_unaffected(
    http: httpx.Client, make_user: MakeUser
) -> None:
    user = make_user(Role.AUDITOR)
    ip = fresh_ip()
    limit = get_settings().auth.login_attempts_per_ip
    # Unknown names, so that no account lockout interferes: only the address is counted.
    for n in range(limit):
        assert login(http, f"ghost-{n}", "wrong-password-1", ip).status_code == 401
    refused = login(http, user.username, user.password, ip)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= get_settings().auth.login_ip_window_s
    assert login(http, user.username, user.password, fresh_ip()).status_code == 200


def test_login_form_errors_are_422_without_echoing_the_input(http: httpx.Client) -> None:
    secret = "sekret-password-that-must-not-echo"
    response = http.post(
        "/api/v1/auth/token", data={"password": secret}, headers={"X-Forwarded-For": fresh_ip()}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert {"path": "body.username", "message": "Field required"} in error["fields"]
    assert secret not in response.text


def test_user_creation_checks_role_bindings(auth_graph: GraphClient, make_user: MakeUser) -> None:
    service = UserService(auth_graph, AuditTrail.system(AuditRepository(auth_graph), "test"))
    ok_password = SecretStr("long-enough-password")

    def refused(
        role: Role,
        region: str | None = None,
        helper: str | None = None,
        username: str = "someone",
        password: SecretStr = ok_password,
    ) -> str:
        with pytest.raises(InvalidInputError) as info:
            service.create(username, password, role, region, helper)
        return info.value.message

    assert "town or village" in refused(Role.FIELD_WORKER, region=COUNTY_A)
    assert "does not exist" in refused(Role.OFFICIAL, region="449999")
    assert "needs a region" in refused(Role.OFFICIAL)
    assert "does not exist" in refused(Role.CHARITY, helper="C404")
    assert "kind womens_federation" in refused(Role.CHARITY, helper="W1")
    assert "kind charity" in refused(Role.HELPER_UNIT, helper="C1")
    assert "needs a helper" in refused(Role.DISABLED_FEDERATION, region=COUNTY_A)
    assert "neither" in refused(Role.AUDITOR, region=COUNTY_A)
    assert "at least 10" in refused(Role.ADMIN, password=SecretStr("short"))
    assert "username" in refused(Role.ADMIN, username="x")

    # Field workers may sit in a town or a village; helper units act for units or enterprises.
    make_user(Role.FIELD_WORKER, region_code=TOWN_A, username="worker-town")
    make_user(Role.HELPER_UNIT, helper_id="E1")
    with pytest.raises(ConflictError):
        service.create("Worker-Town", ok_password, Role.AUDITOR)  # case-insensitive names
    created = AuditRepository(auth_graph).search(AuditQuery(actor_id="test"), limit=10)
    assert [e.action for e in created] == ["create_user", "create_user"]
    assert all("password_hash" not in (e.after or {}) for e in created)


def test_demo_password_default_is_for_development_only() -> None:
    assert demo_password(None, Environment.DEVELOPMENT).get_secret_value() == DEFAULT_DEMO_PASSWORD
    assert demo_password("given-password-1", Environment.PRODUCTION).get_secret_value() == (
        "given-password-1"
    )
    with pytest.raises(ConfigurationError):
        demo_password(None, Environment.PRODUCTION)


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_user_commands_create_and_demo_idempotently(
    empty_graph: GraphClient, vault: PiiVault, http: httpx.Client
) -> None:
    seed_graph(empty_graph, vault, Scale.VILLAGE, seed=1)
    users = UserRepository(empty_graph)
    county = users.first_county()
    assert county is not None

    bad = run_cli(
        "user",
        "create",
        "--username",
        "cli-worker",
        "--role",
        "field_worker",
        "--region",
        county,
        BANGFU_NEW_USER_PASSWORD="cli-password-123",
    )
    assert bad.returncode == 1 and "town or village" in bad.stderr
    assert "Traceback" not in bad.stderr and "cli-password-123" not in bad.stderr + bad.stdout
    good = run_cli(
        "user",
        "create",
        "--username",
        "cli-official",
        "--role",
        "official",
        "--region",
        county,
        BANGFU_NEW_USER_PASSWORD="cli-password-123",
    )
    assert good.returncode == 0, good.stderr
    assert login(http, "cli-official", "cli-password-123").status_code == 200

    demo_env = {"BANGFU_DEMO_PASSWORD": "demo-password-for-tests"}
    first = run_cli("user", "demo", **demo_env)
    assert first.returncode == 0, first.stderr
    second = run_cli("user", "demo", **demo_env)
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout  # same logins, same bindings, nothing new
    lines = first.stdout.strip().splitlines()
    assert lines[0].split() == ["role", "username", "password", "region", "or", "helper"]
    table = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert set(table) == {role.value for role in Role}
    assert table["official"] == [DEMO_USERNAMES[Role.OFFICIAL], "demo-password-for-tests", county]
    assert table["field_worker"][2] == users.first_village_in(county)
    assert table["auditor"][2] == table["admin"][2] == "-"
    user_count = empty_graph.read("MATCH (u:User) RETURN count(u) AS n")[0]["n"]
    assert user_count == len(Role) + 1  # the demo logins and cli-official, created once

    # Each demo login works and is bound to a helper of its own kind.
    for role in Role:
        response = login(http, DEMO_USERNAMES[role], "demo-password-for-tests")
        assert response.status_code == 200, role
        me = http.get(ME, headers=bearer(response.json()["access_token"])).json()
        assert me["role"] == role.value
        if role.is_helper:
            assert me["helper_id"] == table[role.value][2]
            kind = empty_graph.read(
                "MATCH (h:Helper {id: $id}) RETURN h.kind AS kind", id=me["helper_id"]
            )[0]["kind"]
            assert kind == role.value or (role is Role.HELPER_UNIT and kind == "enterprise")
            assert me["service_regions"]


def test_no_password_or_token_in_any_answer_or_log_line(
    http: httpx.Client, live_server: LiveServer, make_user: MakeUser, auth_graph: GraphClient
) -> None:
    worker = make_user(Role.FIELD_WORKER, region_code=VILLAGE_A)
    answers: list[httpx.Response] = []
    answers.append(login(http, worker.username, worker.password + "-typo"))
    answers.append(login(http, worker.password, worker.password))  # password typed as name
    granted = login(http, worker.username, worker.password)
    token = granted.json()["access_token"]
    answers.append(http.get(ME, headers=bearer(token)))
    answers.append(http.get("/api/v1/audit", headers=bearer(token)))  # 403
    answers.append(http.get(ME, headers=bearer(token + "x")))  # 401
    answers.append(http.get("/api/v1/audit?page_size=500", headers=bearer(token)))
    time.sleep(0.3)  # let the server flush its log lines
    log_text = live_server.log_text()
    assert "POST /api/v1/auth/token" in log_text  # the access log is really captured
    trail = str(AuditRepository(auth_graph).search(AuditQuery(), limit=100))
    for secret in (
        worker.password,
        token,
        token.split(".")[2],
        worker.user.password_hash.get_secret_value(),
    ):
        assert secret not in log_text
        assert secret not in trail
        for answer in answers:
            assert secret not in answer.text
            assert secret not in str(answer.headers)

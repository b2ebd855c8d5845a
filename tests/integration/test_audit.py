"""The audit trail against the real Neo4j: masked values, a hash chain that verifies and catches
edits and deletions, gap-free sequence numbers under 50 concurrent appends, atomic change+event;
and over real HTTP the audit search (auditors and admins only), page bounds, body size limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import Depends
from pydantic import SecretStr

from api.app import create_app
from api.audit import AuditTrail
from api.deps import require_roles
from api.policy import Action
from bangfu.access import Principal, Role
from bangfu.errors import ConflictError, NotFoundError, PermissionDeniedError
from bangfu.identity import make_national_id
from graph.client import GraphClient
from graph.models import AuditEntry, AuditOutcome, AuditQuery
from graph.repositories import AuditRepository
from graph.repositories.audit import REDACTED
from tests.integration.conftest import (
    COUNTY_A,
    VILLAGE_A,
    VILLAGE_B,
    Login,
    MakeUser,
    bearer,
    login,
)

AUDIT = "/api/v1/audit"
# Tampering happens behind the repository's back, as an intruder with database access would.
EDIT_EVENT = "MATCH (e:AuditEvent {seq: $seq}) SET e.reason = 'looked fine'"
DELETE_EVENT = "MATCH (e:AuditEvent {seq: $seq}) DELETE e"
SET_HASHES = "MATCH (e:AuditEvent {seq: $seq}) SET e.hash = $hash, e.reason = $reason"
RAW_EVENT = "MATCH (e:AuditEvent {seq: $seq}) RETURN e {.*} AS e"
CREATE_USER_NODE = "CREATE (:User {id: $id, username: $username})"
COUNT_USER_NODE = "MATCH (u:User {id: $id}) RETURN count(u) AS n"


def entry(n: int, actor: str = "u1", subject: str = "N1", **extra: object) -> AuditEntry:
    fields: dict[str, object] = {
        "actor_id": actor,
        "actor_role": "field_worker",
        "action": "update_need",
        "subject_type": "need",
        "subject_id": subject,
        "after": {"n": n},
    }
    return AuditEntry.model_validate(fields | extra)


def official(region: str = COUNTY_A) -> Principal:
    return Principal(user_id="off-1", username="off", role=Role.OFFICIAL, region_code=region)


def test_events_are_masked_and_never_hold_secrets(auth_graph: GraphClient) -> None:
    repo = AuditRepository(auth_graph)
    nid = make_national_id("440223", datetime(1980, 5, 17).date(), 123)
    event = AuditTrail(repo, principal=official(), request_id="req-1").record(
        "reveal_pii",
        "person",
        "P1",
        before={
            "national_id": SecretStr(nid),
            "phone": "13800138000",
            "password": "hunter2-xyz",
            "phone_hash": "abcdef",
            "nested": [{"id_number": nid}],
            "contact": 13800138000,
            "count": 3,
        },
        after={"note": f"call 13912345678 about {nid}", "token": SecretStr("tok-123456789")},
    )
    assert event.actor_id == "off-1" and event.actor_role == "official"
    assert event.request_id == "req-1" and event.outcome is AuditOutcome.OK
    assert event.before == {
        "national_id": nid[:6] + "*" * 8 + nid[-4:],
        "phone": "138****8000",
        "password": REDACTED,
        "phone_hash": REDACTED,
        "nested": [{"id_number": nid[:6] + "*" * 8 + nid[-4:]}],
        "contact": "138****8000",
        "count": 3,
    }
    assert event.after == {
        "note": f"call 139****5678 about {nid[:6]}{'*' * 8}{nid[-4:]}",
        "token": REDACTED,
    }
    stored = str(auth_graph.read(RAW_EVENT, seq=event.seq))
    for secret in (nid, "13800138000", "13912345678", "hunter2-xyz", "tok-123456789"):
        assert secret not in stored


def test_authorize_records_denials_and_lets_allowed_calls_through(
    auth_graph: GraphClient,
) -> None:
    repo = AuditRepository(auth_graph)
    trail = AuditTrail(repo, principal=official(), request_id="req-2")
    trail.authorize(Action.VERIFY_NEED, "need", "N1", region_code=VILLAGE_A)
    with pytest.raises(NotFoundError):
        trail.authorize(Action.VERIFY_NEED, "need", "N2", region_code=VILLAGE_B)
    with pytest.raises(PermissionDeniedError):
        trail.authorize(Action.CLAIM_NEED, "need", "N1", region_code=VILLAGE_A)
    events = repo.search(AuditQuery(actor_id="off-1"))
    assert [(e.subject_id, e.outcome.value, e.reason) for e in events] == [
        ("N1", "denied", "not_permitted"),
        ("N2", "denied", "out_of_scope"),
    ]
    assert {e.action for e in events} == {"verify_need", "claim_need"}


def test_chain_verifies_and_pinpoints_an_edited_event(auth_graph: GraphClient) -> None:
    repo = AuditRepository(auth_graph)
    assert repo.verify_chain().ok
    for n in range(1, 6):
        assert repo.append(entry(n)).seq == n
    assert repo.verify_chain().model_dump() == {
        "ok": True,
        "checked": 5,
        "first_broken_seq": None,
        "problem": None,
    }
    auth_graph.write(EDIT_EVENT, seq=3)
    result = repo.verify_chain()
    assert not result.ok and result.first_broken_seq == 3 and result.checked == 2
    assert "hash" in (result.problem or "")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(auth_graph: GraphClient) -> None:
    from graph.repositories.audit import event_hash  # noqa: PLC0415 - what a forger would use

    repo = AuditRepository(auth_graph)
    for n in range(1, 5):
        repo.append(entry(n))
    row = auth_graph.read(RAW_EVENT, seq=2)[0]["e"]
    row["reason"] = "rewritten"
    row["at"] = row["at"].to_native()
    auth_graph.write(SET_HASHES, seq=2, hash=event_hash(row, row["prev_hash"]), reason="rewritten")
    result = repo.verify_chain()
    assert result.first_broken_seq == 3 and "predecessor" in (result.problem or "")


@pytest.mark.parametrize(("deleted", "broken"), [(2, 2), (4, 4)])
def test_a_deleted_event_is_detected(auth_graph: GraphClient, deleted: int, broken: int) -> None:
    repo = AuditRepository(auth_graph)
    for n in range(1, 5):
        repo.append(entry(n))
    auth_graph.write(DELETE_EVENT, seq=deleted)
    result = repo.verify_chain()
    assert not result.ok and result.first_broken_seq == broken


def test_fifty_concurrent_appends_give_a_gap_free_valid_chain(auth_graph: GraphClient) -> None:
    repo = AuditRepository(auth_graph)
    repo.append(entry(0))  # the chain node exists; the first append races are tested below too
    threads = 50
    barrier = Barrier(threads)

    def append(n: int) -> int:
        barrier.wait()
        return repo.append(entry(n, actor=f"u{n}")).seq

    with ThreadPoolExecutor(max_workers=threads) as pool:
        seqs = sorted(pool.map(append, range(threads)))
    assert seqs == list(range(2, threads + 2))
    result = repo.verify_chain()
    assert result.ok and result.checked == threads + 1


def test_concurrent_first_appends_create_one_chain(auth_graph: GraphClient) -> None:
    repo = AuditRepository(auth_graph)
    barrier = Barrier(10)

    def append(n: int) -> int:
        barrier.wait()
        return repo.append(entry(n)).seq

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert sorted(pool.map(append, range(10))) == list(range(1, 11))
    assert auth_graph.read("MATCH (c:AuditChain) RETURN count(c) AS n")[0]["n"] == 1
    assert repo.verify_chain().ok


def test_a_change_and_its_event_commit_together(auth_graph: GraphClient) -> None:
    repo = AuditRepository(auth_graph)
    event = repo.append(entry(1), statements=[(CREATE_USER_NODE, {"id": "p1", "username": "a"})])
    assert auth_graph.read(COUNT_USER_NODE, id="p1")[0]["n"] == 1
    # The second statement breaks the username constraint: the first one and the event go too.
    with pytest.raises(ConflictError):
        repo.append(
            entry(2),
            statements=[
                (CREATE_USER_NODE, {"id": "p2", "username": "b"}),
                (CREATE_USER_NODE, {"id": "p3", "username": "a"}),
            ],
        )
    assert auth_graph.read(COUNT_USER_NODE, id="p2")[0]["n"] == 0
    assert repo.head() == (1, event.hash)
    assert repo.verify_chain().ok


@pytest.fixture
def auditor_token(make_user: MakeUser, token_of: Callable[[Login], str]) -> str:
    return token_of(make_user(Role.AUDITOR))


def test_only_auditors_and_admins_may_search(
    http: httpx.Client,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
    auditor_token: str,
    auth_graph: GraphClient,
) -> None:
    admin = token_of(make_user(Role.ADMIN))
    assert http.get(AUDIT, headers=bearer(auditor_token)).status_code == 200
    assert http.get(AUDIT, headers=bearer(admin)).status_code == 200
    assert http.get(AUDIT).status_code == 401
    for role, kwargs in [
        (Role.OFFICIAL, {"region_code": "44"}),
        (Role.FIELD_WORKER, {"region_code": VILLAGE_A}),
        (Role.CHARITY, {"helper_id": "C1"}),
    ]:
        who = make_user(role, **kwargs)
        response = http.get(AUDIT, headers=bearer(token_of(who)))
        assert response.status_code == 403, role
        assert response.json()["error"]["code"] == "forbidden"
        events = AuditRepository(auth_graph).search(AuditQuery(actor_id=who.user.id))
        assert [(e.action, e.outcome.value) for e in events] == [
            ("read_audit", "denied"),
            ("login", "ok"),
        ]


def test_search_filters_by_subject_actor_and_time_and_pages(
    http: httpx.Client, auditor_token: str, auth_graph: GraphClient
) -> None:
    repo = AuditRepository(auth_graph)
    first = repo.append(entry(1, actor="alice", subject="N1"))
    time.sleep(0.01)
    middle = datetime.now(UTC)
    time.sleep(0.01)
    for n, (actor, subject) in enumerate([("bob", "N1"), ("alice", "N2"), ("bob", "N2")], 2):
        repo.append(entry(n, actor=actor, subject=subject))

    def search(**params: Any) -> dict[str, Any]:
        response = http.get(AUDIT, params=params, headers=bearer(auditor_token))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def seqs(**params: Any) -> list[int]:
        return [item["seq"] for item in search(**params)["items"]]

    base = first.seq
    assert seqs(subject_type="need", subject_id="N1") == [base + 1, base]
    assert seqs(actor_id="alice") == [base + 2, base]
    assert seqs(actor_id="bob", subject_id="N2") == [base + 3]
    assert seqs(actor_id="alice", since=middle.isoformat()) == [base + 2]
    assert seqs(actor_id="bob", until=middle.isoformat()) == []
    assert seqs(until=middle.isoformat(), subject_type="need") == [base]
    naive = (middle - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert seqs(subject_type="need", since=naive) == [base + 3, base + 2, base + 1, base]
    page1 = search(subject_type="need", page_size=3)
    page2 = search(subject_type="need", page_size=3, page=2)
    assert page1["has_more"] is True and page2["has_more"] is False
    assert [i["seq"] for i in page2["items"]] == [base]
    item = search(subject_id="N1", page_size=1)["items"][0]
    assert set(item) >= {
        "seq",
        "at",
        "actor_id",
        "actor_role",
        "action",
        "subject_type",
        "subject_id",
        "outcome",
        "before",
        "after",
        "request_id",
        "prev_hash",
        "hash",
    }


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("page_size=101", "query.page_size"),
        ("page_size=0", "query.page_size"),
        ("page=0", "query.page"),
        ("since=yesterday", "query.since"),
    ],
)
def test_out_of_bounds_queries_are_422_in_the_error_shape(
    http: httpx.Client, auditor_token: str, query: str, path: str
) -> None:
    response = http.get(f"{AUDIT}?{query}", headers=bearer(auditor_token))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["message_zh"]
    assert [f["path"] for f in error["fields"]] == [path]
    assert error["request_id"] == response.headers["X-Request-ID"]


def test_bodies_over_the_limit_are_413(http: httpx.Client) -> None:
    limit = 10 * 1024 * 1024
    declared = http.post(
        "/api/v1/auth/token",
        content=b"u" * (limit + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"
    assert declared.headers["X-Request-ID"]

    def chunks() -> Iterator[bytes]:
        # No Content-Length (chunked), and form fields under the form parser's own 1 MB cap, so
        # only the running total can stop it.
        for _ in range(11):
            yield b"f=" + b"u" * (1000 * 1000) + b"&"

    streamed = http.post(
        "/api/v1/auth/token",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"
    # Under the limit the request goes through to the app as usual.
    small = login(http, "nobody-here", "wrong-password-1")
    assert small.status_code == 401


def test_unknown_paths_and_methods_answer_in_the_error_shape(http: httpx.Client) -> None:
    missing = http.get("/api/v1/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = http.delete("/api/v1/me")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_require_roles_admits_the_listed_roles_and_audits_refusals(
    make_user: MakeUser, token_of: Callable[[Login], str], auth_graph: GraphClient
) -> None:
    # The real app plus one endpoint gated by require_roles, served by uvicorn in a thread.
    app = create_app()

    @app.get("/api/v1/test-admins-only")
    def admins_only(
        principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))],
    ) -> dict[str, str]:
        return {"role": principal.role.value}

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            admin = make_user(Role.ADMIN)
            auditor = make_user(Role.AUDITOR)
            ok = client.get("/api/v1/test-admins-only", headers=bearer(token_of(admin)))
            assert ok.status_code == 200 and ok.json() == {"role": "admin"}
            refused = client.get("/api/v1/test-admins-only", headers=bearer(token_of(auditor)))
            assert refused.status_code == 403
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    events = AuditRepository(auth_graph).search(AuditQuery(actor_id=auditor.user.id))
    newest = events[0]
    assert (newest.action, newest.subject_id, newest.outcome.value) == (
        "call_endpoint",
        "GET /api/v1/test-admins-only",
        "denied",
    )

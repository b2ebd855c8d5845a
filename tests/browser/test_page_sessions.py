"""Page sessions against the real Redis and app: the store slides and ends sessions, a
deactivated login's session stops at its next request, unknown pages are the Chinese 404 page
while /api/ keeps its JSON errors."""

from __future__ import annotations

import httpx
import pytest

from api.audit import AuditTrail
from api.pages.session import SessionStore
from api.rate_limit import get_redis
from api.users import UserService
from bangfu.access import Role
from graph.client import GraphClient
from graph.repositories import AuditRepository
from tests.integration.conftest import LiveServer, Login, MakeUser, fresh_ip

pytestmark = pytest.mark.services


def test_the_store_keeps_slides_and_ends_a_session() -> None:
    store = SessionStore(get_redis(), idle_seconds=60)
    session = store.create("user-1", "charity")
    loaded = store.load(session.session_id)
    assert loaded == session
    # Stored under the id's hash: the cookie value itself is nowhere in Redis.
    assert get_redis().get(f"bangfu:session:{session.session_id}") is None
    assert store.load("not-a-session") is None and store.load(None) is None
    store.delete(session.session_id)
    assert store.load(session.session_id) is None


def _signed_in(live_server: LiveServer, who: Login) -> httpx.Client:
    client = httpx.Client(
        base_url=live_server.url, headers={"X-Forwarded-For": fresh_ip()}, timeout=30
    )
    form = client.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": who.username, "password": who.password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return client


def test_a_deactivated_login_is_signed_out_at_its_next_request(
    auth_graph: GraphClient, make_user: MakeUser, live_server: LiveServer
) -> None:
    auditor = make_user(Role.AUDITOR)
    client = _signed_in(live_server, auditor)
    try:
        assert client.get("/audit").status_code == 200
        users = UserService(auth_graph, AuditTrail.system(AuditRepository(auth_graph), "test"))
        users.set_active(auditor.user.id, False)
        refused = client.get("/audit")
        assert refused.status_code == 303
        assert refused.headers["location"] == "/login?next=%2Faudit"
    finally:
        client.close()


def test_unknown_pages_are_the_404_page_and_the_api_keeps_json(
    auth_graph: GraphClient, live_server: LiveServer
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        page = client.get("/no-such-page")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "<h1>未找到</h1>" in page.text
        english = client.get("/no-such-page?lang=en")
        assert "<h1>Not found</h1>" in english.text
        api = client.get("/api/v1/no-such-thing")
        assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"

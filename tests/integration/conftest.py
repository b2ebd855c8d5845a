"""API test fixtures: the real app served by uvicorn on a loopback port, an httpx client for it,
and a small graph of regions, helpers and logins built through the services (nothing mocked).

The server runs in its own process with the test environment (BANGFU_ENV_FILE etc.), so what it
logs can be read back from `live_server.log_path`. Its account-lockout window is shortened
(LOCKOUT_WINDOW_S) so that a test can wait for it to pass; every other limit is the default.
Client addresses come from X-Forwarded-For, which uvicorn trusts from 127.0.0.1 only: each login
uses a fresh address (`fresh_ip`) unless a test means to share one.
"""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.audit import AuditTrail
from api.rate_limit import KEY_PREFIX, get_redis
from api.users import UserService
from bangfu.access import Role
from bangfu.vocabulary import HelperKind, NeedCategory, RegionLevel
from graph.client import GraphClient
from graph.models import Helper, Region, User
from graph.repositories import AuditRepository, HelperRepository, RegionRepository

ROOT = Path(__file__).resolve().parents[2]
LOCKOUT_WINDOW_S = 5

PROVINCE = "44"
CITY = "4402"
COUNTY_A = "440223"
COUNTY_B = "440224"
TOWN_A = "440223101"
VILLAGE_A = "440223101001"
VILLAGE_B = "440224102003"


@dataclass(frozen=True)
class LiveServer:
    url: str
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clear_throttle() -> None:
    """Forget every login counter (only our keys: the Celery broker shares this Redis)."""
    client = get_redis()
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    clear_throttle()
    port = _free_port()
    log_path = tmp_path_factory.mktemp("api") / "server.log"
    env = {
        **os.environ,
        "BANGFU_AUTH_LOGIN_FAILURE_WINDOW_S": str(LOCKOUT_WINDOW_S),
        "BANGFU_MARKET_EVIDENCE_DIR": str(tmp_path_factory.mktemp("evidence")),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {log_path.read_text()[-2000:]}")
            try:
                httpx.get(f"{url}/api/v1/health", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield LiveServer(url=url, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


_addresses = itertools.count(1)


def fresh_ip() -> str:
    """A client address no other login in this run used (TEST-NET-ish 10/8 space)."""
    n = next(_addresses) + secrets.randbelow(1 << 16) * 1000
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def login(
    http: httpx.Client, username: str, password: str, ip: str | None = None
) -> httpx.Response:
    return http.post(
        "/api/v1/auth/token",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": ip or fresh_ip()},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_graph(empty_graph: GraphClient) -> GraphClient:
    """Two counties with a town and village each, and one Helper of every kind."""
    regions = [
        Region(code=PROVINCE, name="广东省", level=RegionLevel.PROVINCE),
        Region(code=CITY, name="韶关市", level=RegionLevel.CITY, parent_code=PROVINCE),
        Region(code=COUNTY_A, name="甲县", level=RegionLevel.COUNTY, parent_code=CITY),
        Region(code=COUNTY_B, name="乙县", level=RegionLevel.COUNTY, parent_code=CITY),
        Region(code=TOWN_A, name="甲镇", level=RegionLevel.TOWN, parent_code=COUNTY_A),
        Region(code="440224102", name="乙镇", level=RegionLevel.TOWN, parent_code=COUNTY_B),
        Region(code=VILLAGE_A, name="甲村", level=RegionLevel.VILLAGE, parent_code=TOWN_A),
        Region(code=VILLAGE_B, name="乙村", level=RegionLevel.VILLAGE, parent_code="440224102"),
    ]
    RegionRepository(empty_graph).save_rows([r.model_dump(mode="json") for r in regions])
    helpers = HelperRepository(empty_graph)
    for hid, kind, served in [
        ("C1", HelperKind.CHARITY, (COUNTY_A,)),
        ("W1", HelperKind.WOMENS_FEDERATION, (PROVINCE,)),
        ("D1", HelperKind.DISABLED_FEDERATION, (CITY,)),
        ("U1", HelperKind.HELPER_UNIT, (VILLAGE_A,)),
        ("E1", HelperKind.ENTERPRISE, (COUNTY_B,)),
    ]:
        helpers.save(
            Helper(
                id=hid,
                kind=kind,
                name=f"帮扶主体{hid}",
                description="测试",
                capabilities=(NeedCategory.JOB,),
                service_regions=served,
                capacity=10,
                home_region_code=served[0],
            )
        )
    return empty_graph


@dataclass(frozen=True)
class Login:
    user: User
    password: str

    @property
    def username(self) -> str:
        return self.user.username


MakeUser = Callable[..., Login]


@pytest.fixture
def make_user(auth_graph: GraphClient) -> MakeUser:
    """Create a login through the user service (audited as the actor "test")."""
    service = UserService(auth_graph, AuditTrail.system(AuditRepository(auth_graph), "test"))

    def make(
        role: Role,
        region_code: str | None = None,
        helper_id: str | None = None,
        username: str | None = None,
    ) -> Login:
        password = "pw-" + secrets.token_urlsafe(12)
        name = username or f"{role.value.replace('_', '-')}-{secrets.token_hex(3)}"
        user = service.create(name, SecretStr(password), role, region_code, helper_id)
        return Login(user=user, password=password)

    return make


@pytest.fixture
def token_of(http: httpx.Client) -> Callable[[Login], str]:
    def token(who: Login) -> str:
        response = login(http, who.username, who.password)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    return token

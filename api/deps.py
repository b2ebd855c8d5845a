"""Typed FastAPI dependencies shared by the routers: the graph, the caller, the audit trail,
pagination. Routes declare what they need with these and make one service call.

    principal: CurrentPrincipal                        # 401 without a valid bearer token
    audit: Audit                                       # AuditTrail of this caller and request
    page: Pagination                                   # page >= 1, page_size 1..100, else 422
    admin: Annotated[Principal, Depends(require_roles(Role.ADMIN))]

Dependencies that only build objects are `async def`: FastAPI runs a plain `def` dependency in
the thread pool, a thread hop each, and a browse request had seven of them. Those that read or
write the graph stay `def`, so the event loop never waits on the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from kombu.exceptions import OperationalError
from pydantic import BaseModel

from api.audit import AuditTrail
from api.auth import AuthService
from api.evidence import EvidenceStore
from api.helpers import HelperService
from api.households import HouseholdService
from api.policy import ALLOWED, Action, scope_for
from api.rate_limit import login_throttle
from bangfu.access import Principal, Role
from bangfu.errors import AuthenticationError
from bangfu.settings import get_settings
from graph.client import GraphClient, get_graph
from graph.models import Need
from graph.pii import get_vault
from graph.repositories import HouseholdRepository, NeedRepository, PersonRepository
from graph.repositories.audit import AuditRepository
from graph.repositories.helpers import HelperRepository
from graph.repositories.regions import RegionRepository
from graph.repositories.users import UserRepository
from matching.needs import Caller, NeedService
from workers.celery_app import app as celery_app

MAX_PAGE_SIZE = 100
# Deep pages cost the database a scan of everything skipped; nobody pages this far by hand.
MAX_PAGE = 10_000


log = logging.getLogger("bangfu.api")


async def graph_client() -> GraphClient:
    return get_graph()


Graph = Annotated[GraphClient, Depends(graph_client)]


async def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


RequestId = Annotated[str, Depends(request_id)]


async def client_ip(request: Request) -> str:
    """The caller's address as uvicorn resolved it (X-Forwarded-For only from trusted proxies,
    see uvicorn's --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


ClientIp = Annotated[str, Depends(client_ip)]


async def auth_service(graph: Graph) -> AuthService:
    return AuthService(
        UserRepository(graph),
        AuditRepository(graph),
        login_throttle(),
        get_settings().auth,
    )


AuthServiceDep = Annotated[AuthService, Depends(auth_service)]

# auto_error=False: a missing token becomes our AuthenticationError (one error shape), while
# OpenAPI still shows the password flow so the docs page can sign in.
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_principal(
    token: Annotated[str | None, Depends(_bearer)], auth: AuthServiceDep
) -> Principal:
    if not token:
        raise AuthenticationError(
            "not signed in: send 'Authorization: Bearer <token>' from /api/v1/auth/token",
            message_zh="未登录：请先登录获取令牌",
        )
    return auth.authenticate(token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def audit_trail(principal: CurrentPrincipal, graph: Graph, rid: RequestId) -> AuditTrail:
    return AuditTrail(AuditRepository(graph), principal=principal, request_id=rid)


Audit = Annotated[AuditTrail, Depends(audit_trail)]


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only callers with one of `roles`; refusals are 403 and audited.
    Prefer `AuditTrail.authorize(Action...)` in services for anything region-scoped."""
    allowed = frozenset(roles)

    def dependency(trail: Audit, request: Request) -> Principal:
        route = request.scope.get("route")
        endpoint = f"{request.method} {getattr(route, 'path', request.url.path)}"
        return trail.require_roles(allowed, endpoint)

    return dependency


class Page(BaseModel):
    page: int
    page_size: int

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.page_size


async def pagination(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page, at most {MAX_PAGE_SIZE}")
    ] = 20,
) -> Page:
    return Page(page=page, page_size=page_size)


Pagination = Annotated[Page, Depends(pagination)]


def admit(trail: AuditTrail, request: Request, rid: str, action: Action) -> Caller:
    """The caller for `action` if the policy admits the trail's principal (else 403, audited),
    with its region scope for the graph queries. Shared by the API and the web pages."""
    route = request.scope.get("route")
    endpoint = f"{request.method} {getattr(route, 'path', request.url.path)}"
    principal = trail.require_roles(ALLOWED[action], endpoint)
    scope = scope_for(principal, action)
    # "" prefixes every code: the whole province for admins.
    prefixes = ("",) if scope.everything else tuple(scope.prefixes)
    return Caller(principal=principal, prefixes=prefixes, request_id=rid)


def caller_for(action: Action) -> Callable[..., Caller]:
    """A dependency admitting the roles the policy allows for `action` (others: 403, audited)
    and carrying the caller's region scope down to the graph queries."""

    def dependency(trail: Audit, request: Request, rid: RequestId) -> Caller:
        return admit(trail, request, rid, action)

    return dependency


def caller_for_any(*actions: Action) -> Callable[..., Caller]:
    """Like `caller_for`, for an endpoint serving several actions (an admin's and an
    organisation's own edit): the caller is admitted for the first action its role is allowed;
    the service then authorizes the record (api/helpers.py)."""

    def dependency(trail: Audit, request: Request, rid: RequestId) -> Caller:
        role = trail.principal.role if trail.principal is not None else None
        action = next((a for a in actions if role in ALLOWED[a]), actions[0])
        return admit(trail, request, rid, action)

    return dependency


def _embed_new_need(need: Need) -> None:
    # Sent after the need committed: the worker reads it back, embeds it and stores the vector,
    # so ranking never embeds on a request. The need is saved either way: with the broker down
    # the nightly `bangfu matching embed` batch (or the first match request) covers it.
    try:
        celery_app.send_task("bangfu.matching.embed", kwargs={"need_ids": [need.id]}, retry=False)
    except OperationalError:
        log.warning("embedding task for need %s not sent: the broker is unreachable", need.id)


async def need_service(graph: Graph) -> NeedService:
    return NeedService(
        NeedRepository(graph),
        AuditRepository(graph),
        get_settings().market,
        on_created=_embed_new_need,
    )


Needs = Annotated[NeedService, Depends(need_service)]


async def household_service(graph: Graph, needs: Needs) -> HouseholdService:
    vault = get_vault()
    return HouseholdService(
        HouseholdRepository(graph, vault),
        PersonRepository(graph, vault),
        AuditRepository(graph),
        needs,
        RegionRepository(graph),
    )


Households = Annotated[HouseholdService, Depends(household_service)]


def _embed_changed_helper(helper_id: str) -> None:
    # As for a new need: after the commit, best effort; the nightly batch covers a miss.
    try:
        celery_app.send_task(
            "bangfu.matching.embed", kwargs={"helper_ids": [helper_id]}, retry=False
        )
    except OperationalError:
        log.warning("embedding task for helper %s not sent: the broker is unreachable", helper_id)


async def helper_service(graph: Graph) -> HelperService:
    return HelperService(
        HelperRepository(graph),
        RegionRepository(graph),
        AuditRepository(graph),
        on_changed=_embed_changed_helper,
    )


Helpers = Annotated[HelperService, Depends(helper_service)]


async def evidence_store() -> EvidenceStore:
    settings = get_settings().market
    return EvidenceStore(settings.evidence_dir, settings.evidence_max_bytes)


Evidence = Annotated[EvidenceStore, Depends(evidence_store)]

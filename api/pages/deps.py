"""Typed dependencies of the page routes: the session's principal, the caller for an action
(the same policy check and audit as the API's `caller_for`), CSRF-checked form data.

    caller: Annotated[Caller, Depends(page_caller_for(Action.CLAIM_NEED))]
    form: CheckedForm      # POST only: the form's fields, after its CSRF token was checked
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import UploadFile  # what request.form() gives (not FastAPI's)

from api.audit import AuditTrail
from api.deps import AuthServiceDep, Evidence, Graph, RequestId, admit
from api.pages.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Session, SessionStore, tokens_match
from api.policy import Action
from api.rate_limit import get_redis
from bangfu.access import Principal
from bangfu.errors import AuthenticationError, CsrfError
from bangfu.settings import get_settings
from graph.repositories.audit import AuditRepository
from matching.needs import Caller


def session_store() -> SessionStore:
    return SessionStore(get_redis(), get_settings().api.session_idle_minutes * 60)


Sessions = Annotated[SessionStore, Depends(session_store)]


def page_session(request: Request, sessions: Sessions) -> Session | None:
    """The live session of the request's cookie (also kept on request.state for the frame)."""
    session = sessions.load(request.cookies.get(SESSION_COOKIE))
    request.state.page_session = session
    return session


MaybeSession = Annotated[Session | None, Depends(page_session)]


def page_principal(request: Request, session: MaybeSession, auth: AuthServiceDep) -> Principal:
    if session is None:
        raise AuthenticationError("not signed in", message_zh="请先登录")
    principal = auth.principal_by_id(session.user_id, session.role)
    request.state.page_principal = principal
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def page_trail(principal: PagePrincipal, graph: Graph, rid: RequestId) -> AuditTrail:
    return AuditTrail(AuditRepository(graph), principal=principal, request_id=rid)


PageAudit = Annotated[AuditTrail, Depends(page_trail)]


def page_caller_for(action: Action) -> Callable[..., Caller]:
    """Like api.deps.caller_for, for a signed-in page session: roles the policy does not allow
    get the 403 page (audited), the rest carry their region scope down to the services."""

    def dependency(trail: PageAudit, request: Request, rid: RequestId) -> Caller:
        return admit(trail, request, rid, action)

    return dependency


async def checked_form(request: Request, session: MaybeSession) -> dict[str, str]:
    """The posted form's text fields, once its `csrf_token` matched the session's (or, before
    login, the pre-login cookie's); else CsrfError (the 403 page saying the form expired)."""
    form = await request.form()
    submitted = form.get("csrf_token")
    expected = session.csrf_token if session else request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(submitted, str) or not tokens_match(expected, submitted):
        raise CsrfError("the form's security token is missing or does not match")
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


async def evidence_upload(request: Request, evidence: Evidence) -> bytes | None:
    """The file of a form's optional `evidence` field (a photo or PDF), read up to one byte
    past the store's limit so that EvidenceStore.save can refuse a larger one; None when the
    form has no file. Read only from forms whose CSRF token CheckedForm has checked."""
    form = await request.form()
    upload = form.get("evidence")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(evidence.max_bytes + 1)
    return None


EvidenceUpload = Annotated[bytes | None, Depends(evidence_upload)]

"""Sign in, sign out, and the start page of each role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.deps import AuthServiceDep, ClientIp, Graph, RequestId
from api.pages.deps import CheckedForm, MaybeSession, PagePrincipal, Sessions
from api.pages.i18n import lang_of, translate
from api.pages.render import HOME, cookie_options, redirect, render, safe_next
from api.pages.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from api.pages.signin import PageSignIn
from graph.repositories.audit import AuditRepository

router = APIRouter(include_in_schema=False)


def page_sign_in(auth: AuthServiceDep, sessions: Sessions, graph: Graph) -> PageSignIn:
    return PageSignIn(auth, sessions, AuditRepository(graph))


SignInService = Annotated[PageSignIn, Depends(page_sign_in)]


@router.get("/")
def start(principal: PagePrincipal, request: Request) -> Response:
    return redirect(request, HOME[principal.role])


@router.get("/login")
def login_form(
    request: Request,
    target: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    done: str | None = None,
) -> Response:
    notice = translate(lang_of(request), "logged_out") if done == "logged_out" else None
    return render(
        request,
        "login.html",
        {"values": {"username": ""}, "errors": {}, "next": safe_next(target), "notice": notice},
    )


@router.post("/login")
def login(
    request: Request, form: CheckedForm, service: SignInService, ip: ClientIp, rid: RequestId
) -> Response:
    lang = lang_of(request)
    username = form.get("username", "").strip()
    password = form.get("password", "")
    target = safe_next(form.get("next"))
    errors = {}
    if not username:
        errors["username"] = translate(lang, "required")
    if not password:
        errors["password"] = translate(lang, "required")
    result = service.sign_in(username, password, ip, rid) if not errors else None
    if result is None or result.session is None or result.principal is None:
        if result is not None:
            errors["password"] = result.message_en if lang == "en" else result.message_zh
        context = {"values": {"username": username}, "errors": errors, "next": target}
        return render(request, "login.html", context, 422 if not result else 401)
    response = redirect(request, target or HOME[result.principal.role])
    response.set_cookie(SESSION_COOKIE, result.session.session_id, **cookie_options())
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(
    request: Request,
    form: CheckedForm,
    session: MaybeSession,
    principal: PagePrincipal,
    service: SignInService,
    rid: RequestId,
) -> Response:
    if session is not None:
        service.sign_out(session, principal, rid)
    response = redirect(request, "/login?done=logged_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

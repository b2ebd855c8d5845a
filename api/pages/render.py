"""Rendering pages: one Jinja2 environment (autoescaped), the frame every page shares (language,
signed-in principal, CSRF token, navigation for the role) and the security headers.

Also renders the error pages for api/errors.py, so that a page request that fails gets a page
in the reader's language (a 401 becomes a redirect to the login page) while /api/ keeps JSON.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.pages.i18n import LANG_COOKIE, MESSAGES, Lang, label, lang_of, translate
from api.pages.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Session, new_token
from bangfu.access import Principal, Role
from bangfu.settings import get_settings

PAGES_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PAGES_DIR / "templates"
STATIC_DIR = PAGES_DIR / "static"
LANG_COOKIE_DAYS = 365
# Messages a page may show after a redirect (?done=key): only these keys, so the query string
# cannot put arbitrary catalog text on a page.
DONE_KEYS = frozenset(
    {
        "claimed_ok",
        "pledged_ok",
        "released_ok",
        "started_ok",
        "fulfilled_ok",
        "need_added",
        "confirmed_ok",
        "verified_ok",
        "reviewed_ok",
        "saved_ok",
        "resolved_ok",
        "transfer_requested_ok",
        "transfer_approved_ok",
        "transfer_declined_ok",
        "exits_proposed_ok",
        "exit_approved_ok",
        "exit_rejected_ok",
        "project_approved_ok",
        "project_rejected_ok",
        "disbursed_ok",
        "milestone_achieved_ok",
        "cross_check_started_ok",
        "assignment_proposed_ok",
        "assignment_queued_ok",
        "assignment_accepted_ok",
    }
)

# Where each role starts, and the links its navigation shows: only pages the role may open.
HOME: dict[Role, str] = {
    Role.CHARITY: "/market",
    Role.WOMENS_FEDERATION: "/market",
    Role.DISABLED_FEDERATION: "/market",
    Role.HELPER_UNIT: "/market/recommended",
    Role.FIELD_WORKER: "/village",
    Role.OFFICIAL: "/alerts",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/market",
}
_HELPER_NAV = (
    ("/market/recommended", "nav_recommended"),
    ("/market", "nav_market"),
    ("/market/claims", "nav_claims"),
    ("/market/profile", "nav_profile"),
)
NAV: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.CHARITY: _HELPER_NAV,
    Role.WOMENS_FEDERATION: _HELPER_NAV,
    Role.DISABLED_FEDERATION: _HELPER_NAV,
    Role.HELPER_UNIT: _HELPER_NAV,
    Role.FIELD_WORKER: (
        ("/village", "nav_village"),
        ("/village/needs", "nav_needs"),
        ("/checks", "nav_checks"),
        ("/checks/error-rates", "nav_error_rates"),
        ("/alerts", "nav_alerts"),
        ("/exits", "nav_exits"),
        ("/projects", "nav_projects"),
        ("/dashboard", "nav_dashboard"),
    ),
    Role.OFFICIAL: (
        ("/alerts", "nav_alerts"),
        ("/dashboard", "nav_dashboard"),
        ("/village/needs", "nav_needs"),
        ("/village", "nav_village"),
        ("/checks", "nav_checks"),
        ("/checks/error-rates", "nav_error_rates"),
        ("/exits", "nav_exits"),
        ("/projects", "nav_projects"),
        ("/assignments", "nav_assignments"),
    ),
    Role.AUDITOR: (("/audit", "nav_audit"), ("/dashboard", "nav_dashboard")),
    Role.ADMIN: (
        ("/market", "nav_market"),
        ("/dashboard", "nav_dashboard"),
        ("/exits", "nav_exits"),
        ("/checks/error-rates", "nav_error_rates"),
        ("/assignments", "nav_assignments"),
        ("/admin/helpers", "nav_helpers"),
        ("/audit", "nav_audit"),
    ),
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _url_with(request: Request, **changes: object) -> str:
    """This page's URL with some query parameters replaced (None removes one)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: str(v) for k, v in changes.items() if v is not None and v != ""})
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no //host): an open redirect is refused."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def principal_of(request: Request) -> Principal | None:
    principal = getattr(request.state, "page_principal", None)
    return principal if isinstance(principal, Principal) else None


def session_of(request: Request) -> Session | None:
    session = getattr(request.state, "page_session", None)
    return session if isinstance(session, Session) else None


def csrf_token_for(request: Request) -> str:
    """The token forms must send back: the session's, or before login the pre-login cookie's
    (a fresh one is made here and set on the response by `render`)."""
    session = session_of(request)
    if session is not None:
        return session.csrf_token
    existing = request.cookies.get(LOGIN_CSRF_COOKIE)
    if existing:
        return existing
    token = getattr(request.state, "new_login_csrf", None)
    if not isinstance(token, str):
        token = new_token()
        request.state.new_login_csrf = token
    return token


def cookie_options() -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": get_settings().api.session_cookie_secure,
        "path": "/",
    }


def finish(request: Request, response: Response) -> Response:
    """Headers and cookies every page answer carries."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    # Scripts only from this site (vendored htmx and ECharts, app.js); ECharts and htmx set
    # element styles at run time, hence inline styles are allowed.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        response.set_cookie(
            LANG_COOKIE, asked, max_age=LANG_COOKIE_DAYS * 86400, samesite="lax", path="/"
        )
    fresh = getattr(request.state, "new_login_csrf", None)
    if isinstance(fresh, str):
        response.set_cookie(LOGIN_CSRF_COOKIE, fresh, **cookie_options())
    return response


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    lang: Lang = lang_of(request)
    principal = principal_of(request)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    def lbl(code: str | None, kind: str | None = None) -> str:
        return label(lang, code, kind)

    def url_with(**changes: object) -> str:
        return _url_with(request, **changes)

    frame: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "t": t,
        "label": lbl,
        "url_with": url_with,
        "principal": principal,
        "nav": NAV.get(principal.role, ()) if principal else (),
        "csrf_token": csrf_token_for(request),
        "other_lang": "zh" if lang == "en" else "en",
        "done_message": None,
    }
    done = request.query_params.get("done")
    if done in DONE_KEYS:
        frame["done_message"] = t(done)
    html = environment().get_template(template).render({**frame, **(context or {})})
    response = HTMLResponse(html, status_code=status)
    finish(request, response)
    return response


def redirect(request: Request, url: str) -> Response:
    """303 See Other after a form post, so a reload does not post again."""
    return finish(request, RedirectResponse(url, status_code=303))


def is_page_request(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/static/"))


def error_page(
    request: Request, status: int, message_en: str, message_zh: str, code: str
) -> Response:
    """The page for a failed page request. 401: back to the login page, then here again."""
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += f"?{request.url.query}"
        response = RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return finish(request, response)
    lang = lang_of(request)
    if code == "csrf_failed":
        heading_key = "error_403"
        message = translate(lang, "error_csrf")
    else:
        heading_key = f"error_{status}"
        message = message_en if lang == "en" else message_zh
    heading = (
        translate(lang, heading_key) if heading_key in MESSAGES else translate(lang, "error_title")
    )
    principal = principal_of(request)
    context = {
        "heading": heading,
        "message": message,
        "status": status,
        "request_id": getattr(request.state, "request_id", None),
        "home": HOME[principal.role] if principal else "/",
    }
    return render(request, "error.html", context, status)

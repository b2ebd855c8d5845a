"""The FastAPI application: JSON API under /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import (
    ERROR_RESPONSES,
    error_body,
    error_responses,
    install_error_handlers,
    status_of,
)
from api.pages import admin as admin_pages
from api.pages import alerts as alert_pages
from api.pages import assignments as assignment_pages
from api.pages import audit as audit_pages
from api.pages import checks as check_pages
from api.pages import crosschecks as crosscheck_pages
from api.pages import dashboard as dashboard_pages
from api.pages import exits as exit_pages
from api.pages import login as login_pages
from api.pages import market as market_pages
from api.pages import projects as project_pages
from api.pages import village as village_pages
from api.pages.render import STATIC_DIR
from api.request_ids import new_request_id
from api.routes import (
    analytics,
    audit,
    auth,
    exits,
    health,
    helpers,
    households,
    imports,
    jobs,
    matching,
    needs,
    projects,
    risk,
    verification,
)
from bangfu.errors import PayloadTooLargeError
from bangfu.settings import get_settings


class _BodyTooLarge(Exception):
    """Raised into the app when a streamed body passes the limit."""


class BodySizeLimit:
    """Refuses request bodies larger than `max_bytes()` with 413: before reading anything when
    Content-Length declares too much, else as soon as a streamed body passes the limit (the
    app's own answer to the cut-off body is then replaced by the 413)."""

    def __init__(self, app: ASGIApp, max_bytes: Callable[[], int]) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(scope, receive, send, limit)
                return  # the app's answer to a cut-off body is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLargeError(
            f"request body larger than {limit} bytes",
            message_zh=f"请求内容超过 {limit} 字节",
        )
        body = error_body(error.code, error.message, error.message_zh, Request(scope))
        response = JSONResponse(body, status_of(error), {"Connection": "close"})
        await response(scope, receive, send)


class RequestIds:
    """Gives every HTTP request an id (`request.state.request_id`) and answers it in the
    X-Request-ID header. A plain ASGI middleware: Starlette's `@app.middleware("http")` runs each
    request through an extra task and body stream; replacing it took a city-wide browse of the
    province from 143 to 210 requests/s (bench/api_load.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        # The state every Request made from this scope reads, the error handlers' included.
        scope.setdefault("state", {})["request_id"] = rid
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0] != b"x-request-id"]
                message["headers"] = [*headers, header]
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app() -> FastAPI:
    app = FastAPI(
        title="bangfu 帮扶",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    # Added before the request-id middleware, so it runs inside it and its 413s carry the id.
    app.add_middleware(BodySizeLimit, max_bytes=lambda: get_settings().api.max_body_bytes)

    app.add_middleware(RequestIds)

    # Error answers are documented here, once, in the one error shape (api/errors.py); health
    # takes no token and no body, so it can only fail with the database.
    app.include_router(health.router, prefix="/api/v1", responses=error_responses(503))
    for router in (
        auth.router,
        audit.router,
        needs.router,
        households.router,
        helpers.router,
        jobs.router,
        imports.router,
    ):
        app.include_router(router, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(risk.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(matching.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(analytics.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(projects.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(verification.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    app.include_router(exits.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    # Web pages (api/pages/): outside /api/, so their errors are pages rather than JSON.
    for page_router in (
        login_pages.router,
        market_pages.router,
        village_pages.router,
        alert_pages.router,
        dashboard_pages.router,
        audit_pages.router,
        crosscheck_pages.router,  # before check_pages: /checks/{task_id} would take its paths
        check_pages.router,
        exit_pages.router,
        admin_pages.router,
        project_pages.router,
        assignment_pages.router,
    ):
        app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()

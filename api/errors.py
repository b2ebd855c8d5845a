"""The one table from project errors to HTTP statuses, and the one JSON error shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.pages.render import error_page, is_page_request
from bangfu.errors import (
    AuthenticationError,
    BangfuError,
    ConfigurationError,
    ConflictError,
    GraphBusyError,
    GraphTimeoutError,
    GraphUnavailableError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
)

log = logging.getLogger("bangfu.api")

STATUS_BY_ERROR: dict[type[BangfuError], int] = {
    InvalidInputError: 422,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    GraphTimeoutError: 503,
    GraphBusyError: 503,
    GraphUnavailableError: 503,
    ConfigurationError: 500,
    RateLimitedError: 429,
    PayloadTooLargeError: 413,
    ServiceUnavailableError: 503,
}

# Framework-level answers (unknown path, wrong method) in the same shape, by status.
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
_HTTP_ZH = {404: "未找到", 405: "不支持该请求方法", 413: "请求内容过大"}


class FieldError(BaseModel):
    path: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    message_zh: str
    request_id: str | None
    fields: list[FieldError]


class ErrorBody(BaseModel):
    """The one error shape, as `error_body` builds it (documented in OpenAPI, not used to
    build answers: the handlers below write the dict directly)."""

    error: ErrorDetail


_ERROR_DESCRIPTIONS = {
    401: "Not signed in, or the token is invalid or expired (WWW-Authenticate: Bearer)",
    403: "The caller's role may not do this",
    404: "No such record, or it lies outside the caller's regions",
    409: "Conflicts with the record's current state (taken, invalid transition, duplicate)",
    413: "Request body too large",
    422: "Invalid input: `fields` names each invalid parameter",
    429: "Too many attempts (Retry-After gives the seconds to wait)",
    503: "The database is unavailable or timed out; retry later",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries in the one error shape. Declaring 422 here also replaces
    FastAPI's default `HTTPValidationError` schema, which our handler never answers with."""
    return {s: {"model": ErrorBody, "description": _ERROR_DESCRIPTIONS[s]} for s in statuses}


# Every error status the API answers with through the handlers below, for the routers that
# need a caller (any of them can meet an invalid token, a body too large or the database down).
ERROR_RESPONSES = error_responses(*_ERROR_DESCRIPTIONS)


def status_of(error: BangfuError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_body(
    code: str,
    message: str,
    message_zh: str,
    request: Request,
    fields: list[dict[str, str]] | None = None,
) -> dict[str, object]:
    """The one error shape. `fields` lists {path, message} per invalid input (empty otherwise);
    it never echoes the submitted values, which may be passwords or ID numbers."""
    return {
        "error": {
            "code": code,
            "message": message,
            "message_zh": message_zh,
            "request_id": getattr(request.state, "request_id", None),
            "fields": fields or [],
        }
    }


def headers_of(error: BangfuError) -> dict[str, str]:
    if isinstance(error, RateLimitedError):
        return {"Retry-After": str(error.retry_after_s)}
    if isinstance(error, AuthenticationError):
        return {"WWW-Authenticate": "Bearer"}
    return {}


def _validation_fields(exc: RequestValidationError) -> list[dict[str, str]]:
    return [
        {"path": ".".join(str(part) for part in err.get("loc", ())), "message": str(err["msg"])}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BangfuError)
    async def _bangfu_error(request: Request, exc: BangfuError) -> Response:
        status = status_of(exc)
        if status >= 500:
            log.warning(
                "request %s failed: %s", getattr(request.state, "request_id", "-"), exc.code
            )
        if is_page_request(request):
            return error_page(request, status, exc.message, exc.message_zh, exc.code)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.message_zh, request), status, headers_of(exc)
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if is_page_request(request):
            fields = ", ".join(f["path"] for f in _validation_fields(exc))
            return error_page(
                request,
                422,
                f"invalid input: {fields}",
                f"输入无效：{fields}",
                InvalidInputError.code,
            )
        body = error_body(
            InvalidInputError.code,
            "the request is invalid: see fields",
            "请求参数无效，请检查各字段",
            request,
            _validation_fields(exc),
        )
        return JSONResponse(body, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page_request(request) and exc.status_code in _HTTP_ZH:
            code = _HTTP_CODES[exc.status_code]
            return error_page(
                request, exc.status_code, code.replace("_", " "), _HTTP_ZH[exc.status_code], code
            )
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot parse at all (not UTF-8, a broken multipart
            # form; broken JSON syntax is already a validation error): invalid input, so the
            # documented 422 like every other, not a status of its own.
            body = error_body(
                InvalidInputError.code,
                "the request body could not be parsed",
                "请求内容无法解析",
                request,
                [{"path": "body", "message": "could not be parsed"}],
            )
            return JSONResponse(body, 422)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code
        body = error_body(code, message, _HTTP_ZH.get(exc.status_code, "请求无法处理"), request)
        return JSONResponse(body, exc.status_code, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The type name only: messages of unexpected errors may carry personal data.
        log.error(
            "request %s raised %s", getattr(request.state, "request_id", "-"), type(exc).__name__
        )
        # This answer comes from outside the request-id middleware: set the header here.
        rid = getattr(request.state, "request_id", None)
        if is_page_request(request):
            page = error_page(request, 500, "internal error", "服务器内部错误", "internal")
            if rid:
                page.headers["X-Request-ID"] = rid
            return page
        return JSONResponse(
            error_body("internal", "internal error", "服务器内部错误", request),
            500,
            {"X-Request-ID": rid} if rid else None,
        )

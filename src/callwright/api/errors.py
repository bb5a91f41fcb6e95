"""Every error leaves the API in Ringg's shapes: ``{"detail": …}`` and ``{"error": {…}}``.

Both shapes travel in one body, so clients written for either read what they expect.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from callwright.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    Unauthorized,
)

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    Unauthorized: 401,
    InsufficientCredits: 402,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}
_HTTP_CODES = {401: "401 Unauthorized", 404: "not_found", 405: "method_not_allowed"}


class RateLimited(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__("rate limit exceeded")
        self.retry_after_s = retry_after_s


def error_body(request: Request, code: str, message: str, detail: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "detail": message if detail is None else detail,
        "error": {"code": code, "message": message},
    }
    if "/public/" in request.url.path:
        body["success"] = False  # the /public/agent envelope
    return body


def status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_for(exc)
    return JSONResponse(error_body(request, exc.code, exc.message), status_code=status)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail)
    code = _HTTP_CODES.get(exc.status_code, str(exc.status_code))
    return JSONResponse(
        error_body(request, code, message), status_code=exc.status_code, headers=exc.headers
    )


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors(), custom_encoder={bytes: lambda b: repr(b)[2:-1]})
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
    for err in errors:
        err.pop("input", None)  # never echo the caller's data back in full
        err.pop("ctx", None)
    return JSONResponse(error_body(request, "invalid_request", message, errors), status_code=422)


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return JSONResponse(
        error_body(request, "rate_limited", "Too Many Requests – rate limit exceeded"),
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


async def _bad_data(request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value (e.g. a NUL character in text on PostgreSQL): the caller's fault.
    return JSONResponse(
        error_body(request, "invalid_request", "Invalid characters or values in the request"),
        status_code=400,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {
            "detail": "An unexpected error occurred on the server.",
            "error": {
                "code": "500 Internal Server Error",
                "message": "An unexpected error occurred on the server.",
            },
        },
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(DataError, _bad_data)
    app.add_exception_handler(Exception, _unexpected)

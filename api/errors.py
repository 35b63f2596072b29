"""The one place where errors become HTTP answers: ``{"code", "detail", …}``.

``classify`` turns any exception into a ``Problem`` (status, code, detail, headers);
the JSON API renders it as an error body (``install``), the dashboard as a page, and
the request gate (``api.limits``) uses it for what it refuses before any route runs.
Domain errors carry their own code; infrastructure failures (the database is down,
read-only or full) become a clean 503 or 507 with ``Retry-After``; anything else is a
logged 500 that never leaks internals.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import errors as e
from ledger.screening import EXPLANATION, PERSONAL_DATA

log = logging.getLogger("trygg.api")

STATUS: dict[type[e.LedgerError], int] = {
    e.InvalidInput: 422,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.Unavailable: 503,
}

HTTP_CODES = {
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "body_too_large",
    429: "rate_limited",
    415: "unsupported_media_type",
}

#: Failures of the database underneath, not of the request.
INFRASTRUCTURE_ERRORS: tuple[type[Exception], ...] = (
    PersistenceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    psycopg.OperationalError,
)


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


class BodyTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive within {seconds:g} s")
        self.seconds = seconds


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after:.1f} s")
        self.retry_after = retry_after


class FieldErrorOut(BaseModel):
    field: str
    reason: str


class ErrorOut(BaseModel):
    """Every error: a machine-readable ``code``, a human ``detail``, per-field ``errors``."""

    model_config = ConfigDict(extra="allow")
    code: str
    detail: str
    errors: list[FieldErrorOut] | None = None


@dataclass(frozen=True)
class Problem:
    """What went wrong, as HTTP: the status, a machine-readable code, a human detail,
    extra body fields and headers."""

    status: int
    code: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] | None = None

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.detail, **self.extra)

    def json(self) -> JSONResponse:
        return JSONResponse(self.body(), self.status, headers=self.headers)


def status_of(error: e.LedgerError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


def _field(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where = parts.pop(0)
        if not parts:
            return "body" if where == "body" else where
    return ".".join(str(p) for p in parts)


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        {"field": _field(tuple(err.get("loc", ()))), "reason": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]
    types = {err.get("type") for err in exc.errors()}
    if "json_invalid" in types:
        code = "invalid_json"
    elif PERSONAL_DATA in types:
        code = PERSONAL_DATA
    else:
        code = e.InvalidInput.code
    detail = "; ".join(f"{x['field']}: {x['reason']}" for x in errors[:5])
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    extra: dict[str, Any] = {"errors": errors}
    if code == PERSONAL_DATA:
        extra["explanation"] = EXPLANATION
    return Problem(422, code, detail, extra)


def _infrastructure_problem(exc: Exception) -> Problem:
    text = str(exc).lower()
    if "disk is full" in text or "no space left" in text or "disk full" in text:
        log.error("storage is full: %s", exc)
        return Problem(
            507,
            "storage_full",
            "the ledger's storage is full; nothing was stored",
            headers={"Retry-After": "60"},
        )
    if "read-only" in text or "readonly" in text:
        log.error("database is read-only: %s", exc)
        return Problem(
            503,
            "read_only",
            "the ledger's database is read-only; nothing was stored",
            headers={"Retry-After": "60"},
        )
    log.warning("database unavailable: %s", exc)
    return Problem(
        503,
        "unavailable",
        "the database is unavailable right now; retry shortly",
        headers={"Retry-After": "5"},
    )


def classify(exc: Exception) -> Problem:
    """The HTTP answer to ``exc``; unexpected exceptions are logged here, once."""
    if isinstance(exc, e.LedgerError):
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": str(exc.extra.get("retry_after", 5))}
        extra = dict(exc.extra)
        if exc.code == PERSONAL_DATA:
            extra["explanation"] = EXPLANATION
        return Problem(status, exc.code, exc.detail, extra, headers)
    if isinstance(exc, RequestValidationError):
        return _validation_problem(exc)
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 400:  # FastAPI's "error parsing the body": not JSON
            return Problem(422, "invalid_json", "the body is not valid UTF-8 JSON")
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return Problem(exc.status_code, code, str(exc.detail), headers=headers)
    if isinstance(exc, BodyTooLarge):
        return Problem(413, "body_too_large", f"{exc}; split a large batch into several requests")
    if isinstance(exc, BodyTimeout):
        return Problem(
            408, "request_timeout", f"{exc}; send it again", headers={"Connection": "close"}
        )
    if isinstance(exc, RateLimited):
        seconds = max(1, math.ceil(exc.retry_after))
        return Problem(
            429,
            "rate_limited",
            f"too many requests with this key; retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    if isinstance(exc, INFRASTRUCTURE_ERRORS):
        return _infrastructure_problem(exc)
    log.exception("unexpected error", exc_info=exc)
    return Problem(500, "internal_error", "an unexpected error; it was logged")


async def _as_json(_: Request, exc: Exception) -> JSONResponse:
    return classify(exc).json()


def install(app: FastAPI) -> None:
    for kind in (
        e.LedgerError,
        RequestValidationError,
        StarletteHTTPException,
        BodyTooLarge,
        RateLimited,
        *INFRASTRUCTURE_ERRORS,
        Exception,
    ):
        app.add_exception_handler(kind, _as_json)

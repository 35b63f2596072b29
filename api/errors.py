"""The one place where errors become HTTP responses: ``{"code", "detail", …}``.

Domain errors carry their own code; infrastructure failures (the database is
down or read-only) become a clean 503 with ``Retry-After``; anything else is a
logged 500 that never leaks internals.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.limits import BodyTooLarge, RateLimited
from ledger import errors as e
from ledger.screening import PERSONAL_DATA

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
    413: "body_too_large",
    429: "rate_limited",
    415: "unsupported_media_type",
}


class FieldErrorOut(BaseModel):
    field: str
    reason: str


class ErrorOut(BaseModel):
    """Every error: a machine-readable ``code``, a human ``detail``, per-field ``errors``."""

    model_config = ConfigDict(extra="allow")
    code: str
    detail: str
    errors: list[FieldErrorOut] | None = None


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


#: Declared on every route, so the OpenAPI document says what a client may receive.
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("no key, or an unknown or revoked key (`unauthenticated`)"),
    403: _documented("the key's role may not do this (`forbidden`)"),
    404: _documented("no such thing (`not_found`)"),
    409: _documented("a conflict: `external_id_conflict`, `version_conflict`, `already_exists`…"),
    413: _documented("the body is too large (`body_too_large`)"),
    422: _documented("bad input; `errors` names each field and why"),
    429: _documented("too many requests with this key (`rate_limited`); see Retry-After"),
    503: _documented("the database is unavailable or the views are behind; see Retry-After"),
    507: _documented("the storage is full (`storage_full`); nothing was stored"),
}


def status_of(error: e.LedgerError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


async def _ledger_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.LedgerError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": str(exc.extra.get("retry_after", 5))}
    return JSONResponse(error_body(exc.code, exc.detail, **exc.extra), status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where = parts.pop(0)
        if not parts:
            return "body" if where == "body" else where
    return ".".join(str(p) for p in parts)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
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
    return JSONResponse(error_body(code, detail, errors=errors), 422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's "error parsing the body": bytes that are not JSON
        return JSONResponse(error_body("invalid_json", "the body is not valid UTF-8 JSON"), 422)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    text = str(exc).lower()
    if "disk is full" in text or "no space left" in text or "disk full" in text:
        log.error("storage is full: %s", exc)
        return JSONResponse(
            error_body("storage_full", "the ledger's storage is full; nothing was stored"),
            507,
            headers={"Retry-After": "60"},
        )
    if "read-only" in text or "readonly" in text:
        log.error("database is read-only: %s", exc)
        return JSONResponse(
            error_body("read_only", "the ledger's database is read-only; nothing was stored"),
            503,
            headers={"Retry-After": "60"},
        )
    log.warning("database unavailable: %s", exc)
    return JSONResponse(
        error_body("unavailable", "the database is unavailable right now; retry shortly"),
        503,
        headers={"Retry-After": "5"},
    )


async def _body_too_large(request: Request, _: Exception) -> JSONResponse:
    limit = request.app.state.settings.max_body_bytes
    return JSONResponse(
        error_body("body_too_large", f"the request body is larger than {limit} bytes"), 413
    )


async def _rate_limited(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    seconds = max(1, math.ceil(exc.retry_after))
    return JSONResponse(
        error_body("rate_limited", f"too many requests with this key; retry in {seconds} s"),
        429,
        headers={"Retry-After": str(seconds)},
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "an unexpected error; it was logged"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(e.LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(BodyTooLarge, _body_too_large)
    app.add_exception_handler(RateLimited, _rate_limited)
    for infra in (
        PersistenceError,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        psycopg.OperationalError,
    ):
        app.add_exception_handler(infra, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)

"""The dashboard's HTTP routes. Each one signs the reader in (or sends them to sign in),
builds the page model from the read side, and renders it. Errors are pages, not JSON:
``HtmlRoute`` turns every failure into a friendly page in the reader's language."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.dashboard import exports, pages, render
from api.dashboard import tables as tb
from api.dashboard.context import Ctx, PageError, parse_filters
from api.dashboard.i18n import t
from api.dashboard.sessions import COOKIE, LIFETIME_SECONDS, Session, store_of
from api.errors import classify
from ledger.access import Permission, Role
from ledger.errors import LedgerError
from ledger.inputs import IdeaDecisionIn, parse

log = logging.getLogger("trygg.dashboard")

LOGIN_CSRF_COOKIE = "trygg_login_csrf"


class SignInRequired(Exception):
    pass


class HtmlRoute(APIRoute):
    """Renders any failure of a dashboard route as an HTML page with the right status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except PageError as e:
                return error_page(request, e.status, e.message, e.title_key)
            except RequestValidationError:
                return error_page(request, 422, t(render.language(request), "bad_param", field="?"))
            except Exception as exc:  # the API's own classification, as a page
                problem = classify(exc)
                detail = (
                    exc.detail if isinstance(exc, LedgerError | StarletteHTTPException) else None
                )
                response = error_page(request, problem.status, None, detail=detail)
                retry = (problem.headers or {}).get("Retry-After")
                if retry is not None:
                    response.headers["Retry-After"] = retry
                return response

        return guarded


router = APIRouter(route_class=HtmlRoute, include_in_schema=False)


# -- sessions ---------------------------------------------------------------------------------


def current_session(request: Request) -> Session:
    session = store_of(request.app.state).find(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        limiter.hit(session.principal.key_id)
    return session


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme) may be a redirect target."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:2000]


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET" and request.headers.get("sec-fetch-site") == "cross-site":
        # A link from another site: SameSite=Strict kept the session cookie back. Reload
        # the page from this site, which sends it (and then goes to sign-in if none).
        page = (
            f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" '
            f'content="0;url={quote(target, safe="/?=&%")}"><title>Trygg Ledger</title>'
        )
        return render.secure(HTMLResponse(page))
    return RedirectResponse("/login?" + urlencode({"next": _safe_next(target)}), 303)


def error_page(
    request: Request,
    status: int,
    message: str | None,
    title_key: str | None = None,
    *,
    detail: str | None = None,
) -> Response:
    """A friendly page: a translated title and message; a domain error's own (English)
    detail, if any, in small print below."""
    lang = render.language(request)
    keys = _error_keys()
    key = title_key or f"error_{status}"
    if key not in keys:
        key = "error_title"
    generic = f"error_{status}_detail"
    if message is None:
        message = t(lang, generic) if generic in keys else t(lang, "error_title")
    own = None
    session = None
    try:
        session = store_of(request.app.state).find(request.cookies.get(COOKIE))
    except Exception:  # an error page must never fail because the database did
        session = None
    if session is not None and session.principal.role is Role.partner:
        own = session.principal.actor
        if status == 403 and detail is not None:
            message = t(lang, "error_403_partner")
    return render.respond(
        request,
        "error.html",
        status=status,
        lang=lang,
        status_code=status,
        title=t(lang, key),
        message=message,
        detail=detail,
        own=own,
        session=None,
    )


def _error_keys() -> set[str]:
    from api.dashboard.i18n import UI

    return {k for k in UI if k.startswith("error_")}


def _ctx(request: Request, session: Session) -> Ctx:
    lang = render.language(request)
    params = request.query_params
    return Ctx(
        who=session.principal,
        lang=lang,
        views=request.app.state.runtime.views,
        registry=request.app.state.runtime.registry,
        filters=parse_filters(params, lang),
        csrf=session.csrf,
        path=request.url.path,
        residents=request.app.state.runtime.residents,
    )


def _page(request: Request, template: str, ctx: Ctx, model: dict[str, Any]) -> Response:
    return render.respond(request, template, lang=ctx.lang, session=_session_view(ctx), **model)


def _session_view(ctx: Ctx) -> dict[str, Any]:
    who = ctx.who
    role = (
        t(ctx.lang, "role_partner", actor=ctx.actor_name(who.actor or ""))
        if who.role is Role.partner
        else t(ctx.lang, f"role_{who.role.value}")
    )
    return {
        "role": who.role.value,
        "role_text": role,
        "actor": who.actor,
        "csrf": ctx.csrf,
        "can_audit": who.role in (Role.auditor, Role.admin),
        "partner": who.role is Role.partner,
    }


# -- pages ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    session = current_session(request)
    if session.principal.role is Role.partner:
        return RedirectResponse(f"/actors/{quote(session.principal.actor or '')}", 303)
    ctx = _ctx(request, session)
    tb._require_all(ctx)
    return _page(request, "overview.html", ctx, pages.overview(ctx))


@router.get("/stations/{code}", response_class=HTMLResponse)
def station(request: Request, code: str) -> Response:
    ctx = _ctx(request, current_session(request))
    return _page(request, "station.html", ctx, pages.station(ctx, code))


@router.get("/actors", response_class=HTMLResponse)
def actors(request: Request) -> Response:
    ctx = _ctx(request, current_session(request))
    tb._require_all(ctx)
    return _page(request, "actors.html", ctx, pages.common(ctx))


@router.get("/actors/{code}", response_class=HTMLResponse)
def actor(request: Request, code: str) -> Response:
    ctx = _ctx(request, current_session(request))
    return _page(request, "actor.html", ctx, pages.actor(ctx, code))


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request) -> Response:
    ctx = _ctx(request, current_session(request))
    return _page(request, "audit.html", ctx, pages.audit(ctx, request.app.state.runtime))


@router.get("/report", response_class=HTMLResponse)
def report(request: Request) -> Response:
    ctx = _ctx(request, current_session(request))
    checkpoint = request.app.state.runtime.audit.latest_checkpoint()
    return _page(request, "report.html", ctx, {**pages.report(ctx, checkpoint), "inline_css": None})


@router.get("/export/{filename}")
def export(request: Request, filename: str) -> Response:
    ctx = _ctx(request, current_session(request))
    name, _, fmt = filename.rpartition(".")
    build = tb.EXPORTS.get(name)
    if build is None or fmt not in exports.MEDIA:
        raise PageError(404, t(ctx.lang, "unknown_table", name=filename[:60]))
    table = build(ctx, dict(request.query_params))
    body = exports.to_csv(table, ctx) if fmt == "csv" else exports.to_xlsx(table, ctx)
    response = Response(body, media_type=exports.MEDIA[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(table, fmt)}"'
    )
    return render.secure(response)


# -- signing in and out -----------------------------------------------------------------------


def _cookie_flags(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin == f"{request.url.scheme}://{request.url.netloc}"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, failed: bool = False) -> Response:
    lang = render.language(request)
    if store_of(request.app.state).find(request.cookies.get(COOKIE)) is not None:
        return RedirectResponse(_safe_next(next), 303)
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render.respond(
        request,
        "login.html",
        lang=lang,
        status=401 if failed else 200,
        csrf=csrf,
        next=_safe_next(next),
        failed=failed,
        signed_out=request.query_params.get("signed_out") == "1",
        hours=LIFETIME_SECONDS // 3600,
        session=None,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, csrf, max_age=3600, path="/login", **_cookie_flags(request)
    )
    return response


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    lang = render.language(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not _same_origin(request) or not csrf or not hmac.compare_digest(csrf, expected):
        raise PageError(403, t(lang, "error_csrf"))
    principal = request.app.state.runtime.keys.authenticate(token.strip())
    if principal is None:
        return login_form(request, next=next, failed=True)
    session_id, _ = store_of(request.app.state).open(principal)
    target = _safe_next(next)
    if principal.role is Role.partner and target == "/":
        target = f"/actors/{quote(principal.actor or '')}"
    response = RedirectResponse(target, 303)
    response.set_cookie(
        COOKIE, session_id, max_age=LIFETIME_SECONDS, path="/", **_cookie_flags(request)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login", **_cookie_flags(request))
    return render.secure(response)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    session = current_session(request)
    if not _same_origin(request) or not session.csrf_ok(csrf):
        raise PageError(403, t(render.language(request), "error_csrf"))
    store_of(request.app.state).close(request.cookies[COOKIE])
    response = RedirectResponse("/login?signed_out=1", 303)
    response.delete_cookie(COOKIE, path="/", **_cookie_flags(request))
    return render.secure(response)


@router.get("/ideas/triage", response_class=HTMLResponse)
def ideas_triage(
    request: Request, status: str | None = None, station: str | None = None
) -> Response:
    """Residents' ideas for the steering group: the undecided first, each with a form to
    answer it (a new measure from an adopted idea is made through the API)."""
    ctx = _ctx(request, current_session(request))
    runtime = request.app.state.runtime
    wanted = status if status in {"new", "considered", "adopted", "declined"} else None
    items = runtime.residents.ideas(ctx.who, station=station or None, status=wanted)["items"]
    order = {"new": 0, "considered": 1, "adopted": 2, "declined": 3}
    items = sorted(items, key=lambda i: order.get(i["status"], 9))
    return _page(
        request,
        "ideas_triage.html",
        ctx,
        {
            **pages.common(ctx),
            "ideas": items,
            "chosen": wanted or "",
            "can_decide": ctx.who.can(Permission.decide_ideas),
            "decided": request.query_params.get("decided") == "1",
        },
    )


@router.post("/ideas/{idea_id}/decide")
def decide_idea(
    request: Request,
    idea_id: UUID,
    csrf: Annotated[str, Form(max_length=100)] = "",
    status: Annotated[str, Form(max_length=20)] = "",
    reply: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form(ge=1)] = None,
) -> Response:
    session = current_session(request)
    if not _same_origin(request) or not session.csrf_ok(csrf):
        raise PageError(403, t(render.language(request), "error_csrf"))
    # The version the member read: a decision saved meanwhile by another member is a 409,
    # never silently replaced.
    body = parse(
        IdeaDecisionIn,
        {"status": status, "reply": reply, "expected_version": expected_version},
    )
    request.app.state.runtime.ideas.decide(session.principal, idea_id, body)
    return render.secure(RedirectResponse("/ideas/triage?decided=1", 303))


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in render.static_names():
        raise StarletteHTTPException(404, "no such file")
    response = FileResponse(render.STATIC / name)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

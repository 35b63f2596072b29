"""Templates to responses: the Jinja environment, the helpers templates use, and the
headers every dashboard page carries (a strict Content-Security-Policy: only this
server's own CSS, no scripts, no inline styles, no frames)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.dashboard import charts
from api.dashboard import tables as tb
from api.dashboard.i18n import DEFAULT_LANG, label, lang_of, number, percent, smart, t

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
LANG_COOKIE = "trygg_lang"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(icon=charts.icon, swatch=charts.swatch, asset=asset, cell_html=tb.cell_html)
    return env


@functools.cache
def _digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def asset(name: str) -> str:
    """A static file's URL with a content hash, so browsers may cache it safely."""
    return f"/static/{name}?v={_digest(name)}"


def static_names() -> frozenset[str]:
    return frozenset(p.name for p in STATIC.iterdir() if p.is_file())


def language(request: Request | None) -> str:
    if request is None:
        return DEFAULT_LANG
    return (
        lang_of(request.query_params.get("lang"))
        or lang_of(request.cookies.get(LANG_COOKIE))
        or DEFAULT_LANG
    )


def helpers(lang: str, request: Request | None) -> dict[str, Any]:
    def url(path: str | None = None, **override: Any) -> str:
        params = dict(request.query_params) if request is not None else {}
        params.pop("lang", None)
        params.update({k: v for k, v in override.items()})
        params = {k: str(v) for k, v in params.items() if v not in (None, "")}
        base = path if path is not None else (request.url.path if request else "/")
        return base + ("?" + urlencode(params) if params else "")

    return {
        "lang": lang,
        "tr": lambda key, **kw: t(lang, key, **kw),
        "lbl": lambda group, code: label(lang, group, code),
        "num": lambda v, d=0: number(v, lang, d),
        "smart": lambda v: smart(v, lang),
        "pct": lambda v: percent(v, lang),
        "badge": lambda status, title="": tb.status_badge(status, lang, title),
        "trend_badge": lambda direction, row=None: tb.trend_html(direction, row or {}, lang),
        "url": url,
    }


def render(name: str, *, lang: str, request: Request | None = None, **model: Any) -> str:
    return environment().get_template(name).render(**helpers(lang, request), **model)


def respond(
    request: Request, name: str, *, status: int = 200, lang: str | None = None, **model: Any
) -> HTMLResponse:
    lang = lang or language(request)
    response = HTMLResponse(render(name, lang=lang, request=request, **model), status_code=status)
    secure(response)
    remember_language(request, response)
    return response


def secure(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def remember_language(request: Request, response: Response) -> None:
    chosen = lang_of(request.query_params.get("lang"))
    if chosen and chosen != request.cookies.get(LANG_COOKIE):
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

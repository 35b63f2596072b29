"""The residents' pages: an idea form that needs no JavaScript, and the public follow-up.

Both need no sign-in and set no cookie of their own (only the language choice, when
the reader picks one). The form posts to ``/ideas``; its answers are pages, not JSON:
a thank-you with a link to where the reply will appear, or the form again with the
reason and the resident's text kept, so nothing typed is lost.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from api.dashboard import render
from api.dashboard.i18n import t
from api.errors import RateLimited
from api.runtime import Runtime
from ledger.access import SYSTEM
from ledger.errors import InvalidInput, PersonalDataRejected
from ledger.inputs import IdeaIn, parse
from ledger.taxonomy import IdeaCategory, Zone

router = APIRouter(include_in_schema=False)

PUBLIC_CACHE = "public, max-age=60"
FORM_FIELDS = frozenset({"station", "zone", "category", "text"})


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _stations(runtime: Runtime) -> list[Any]:
    return sorted(runtime.registry.list_stations(SYSTEM), key=lambda s: s.name)


def _form(
    request: Request,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    problem_fields: frozenset[str] = frozenset(),
) -> HTMLResponse:
    runtime = _runtime(request)
    return render.respond(
        request,
        "idea_form.html",
        status=status,
        session=None,
        stations=_stations(runtime),
        categories=list(IdeaCategory),
        zones=[z.value for z in Zone],
        values=values or {},
        problem=problem,
        problem_fields=problem_fields,
        max_chars=1000,
    )


@router.get("/ideas", response_class=HTMLResponse)
def idea_form(request: Request, station: str | None = None) -> HTMLResponse:
    return _form(request, values={"station": station or ""})


@router.post("/ideas", response_class=HTMLResponse)
async def send_idea(
    request: Request,
    station: Annotated[str, Form()] = "",
    zone: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> HTMLResponse:
    lang = render.language(request)
    values = {"station": station, "zone": zone, "category": category, "text": text}
    body = {k: v for k, v in values.items() if v.strip()}
    try:
        request.app.state.idea_throttle.hit(request)
        idea = parse(IdeaIn, body)
        receipt = await run_in_threadpool(_runtime(request).ideas.submit, idea)
    except RateLimited as e:
        response = _form(request, status=429, values=values, problem=t(lang, "idea_throttled"))
        response.headers["Retry-After"] = str(max(1, int(e.retry_after + 0.999)))
        return response
    except PersonalDataRejected as e:
        return _form(
            request,
            status=422,
            values=values,
            problem=t(lang, "idea_personal_data"),
            problem_fields=frozenset(x.field.split(".")[0] for x in e.errors),
        )
    except InvalidInput as e:
        fields = frozenset(x.field.split(".")[0] for x in e.errors)
        names = ", ".join(
            t(lang, f"idea_field_{f}") if f in FORM_FIELDS else f for f in sorted(fields)
        )
        return _form(
            request,
            status=422,
            values=values,
            problem=t(lang, "idea_invalid", fields=names),
            problem_fields=fields,
        )
    return render.respond(
        request, "idea_sent.html", status=201, session=None, idea_id=str(receipt.id)
    )


@router.get("/public", response_class=HTMLResponse)
def public_page(request: Request, promise: str | None = None) -> HTMLResponse:
    runtime = _runtime(request)
    stations = {s.code: s for s in runtime.registry.list_stations(SYSTEM)}
    actors = {a.code: a for a in runtime.registry.list_actors(SYSTEM)}
    progress = runtime.residents.public_progress(promise)
    response = render.respond(
        request,
        "public.html",
        session=None,
        progress=progress,
        stations=stations,
        actors=actors,
    )
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response

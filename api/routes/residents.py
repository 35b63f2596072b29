"""Residents' ideas, the public follow-up, the survey baseline and the lägesbild's comparisons.

``/v1/public/…`` needs no key (``api.limits.AuthGate`` lets it through): a resident
sends an idea (throttled per client address, ``api.limits.AddressThrottle``) and
anyone reads decided ideas and the public progress. Everything else is keyed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, body_as, get_runtime
from api.routes.audit import MAX_POSITION
from api.routes.views import MinPosition
from api.schemas import (
    READ,
    WRITE,
    ConsistencyProof,
    Contributions,
    Findings,
    IdeaAccepted,
    IdeaItem,
    Ideas,
    PublicKey,
    PublicProgress,
    Receipt,
    SituationComparison,
    SurveyReceipts,
    Surveys,
    errors,
)
from ledger import receipts
from ledger.errors import NotFound
from ledger.inputs import (
    FindingsIn,
    IdeaDecisionIn,
    IdeaErasureIn,
    IdeaIn,
    SurveyBatchIn,
    SurveyIn,
)
from ledger.survey_service import parse_survey_csv

router = APIRouter(prefix="/v1")

#: Public answers change when the views do; a minute's caching is harmless and spares
#: the server a crowd reloading the page.
PUBLIC_CACHE = "public, max-age=60"

IDEA_EXAMPLE = {
    "station": "lerum",
    "zone": "tunnel",
    "category": "lighting",
    "text": "Gångtunneln är mörk på kvällen. Bättre belysning vore bra.",
}


@router.post(
    "/public/ideas",
    tags=["residents"],
    status_code=201,
    response_model=IdeaAccepted,
    operation_id="submitIdea",
    summary="A resident's idea (no key; throttled per client address)",
    responses=errors(408, 413, 422, 429, 503, 507),
)
def submit_idea(
    request: Request,
    body: Annotated[IdeaIn, Body(openapi_examples={"idea": {"value": IDEA_EXAMPLE}})],
) -> dict[str, Any]:
    request.app.state.idea_throttle.hit(request)
    receipt = get_runtime(request).ideas.submit(body)
    return {"id": str(receipt.id), "status": "new", "position": receipt.position}


@router.get(
    "/public/ideas",
    tags=["residents"],
    response_model=Ideas,
    operation_id="publicIdeas",
    summary="Decided ideas and the steering group's replies (no key)",
    responses=errors(422, 503),
)
def public_ideas(
    request: Request, response: Response, station: str | None = None
) -> dict[str, Any]:
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return dict(get_runtime(request).residents.ideas(None, station=station))


@router.get(
    "/public/progress",
    tags=["residents"],
    response_model=PublicProgress,
    operation_id="publicProgress",
    summary="The promise's follow-up for residents (no key)",
    responses=errors(404, 422, 503),
)
def public_progress(
    request: Request, response: Response, promise: str | None = None
) -> dict[str, Any]:
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return dict(get_runtime(request).residents.public_progress(promise))


@router.get(
    "/ideas",
    tags=["residents"],
    response_model=Ideas,
    operation_id="listIdeas",
    summary="Residents' ideas (steering, auditors, admins: all; partners: their stations)",
    responses=errors(*READ),
)
def list_ideas(
    request: Request,
    who: Caller,
    station: str | None = None,
    status: Annotated[str | None, Query(pattern="^(new|considered|adopted|declined)$")] = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    get_runtime(request).views.wait_for(min_position, ("ideas",))
    return dict(
        get_runtime(request).residents.ideas(
            who, station=station, status=status, category=category, limit=limit, offset=offset
        )
    )


@router.get(
    "/ideas/{idea_id}",
    tags=["residents"],
    response_model=IdeaItem,
    operation_id="getIdea",
    responses=errors(*READ, 404),
)
def get_idea(request: Request, idea_id: UUID, who: Caller) -> dict[str, Any]:
    return get_runtime(request).ideas.get(who, idea_id)


@router.post(
    "/ideas/{idea_id}/decision",
    tags=["residents"],
    response_model=Receipt,
    operation_id="decideIdea",
    summary="The steering group's decision and reply (steering, admin)",
    responses=errors(*WRITE, 404),
)
def decide_idea(
    request: Request, idea_id: UUID, body: IdeaDecisionIn, who: Caller
) -> dict[str, Any]:
    return get_runtime(request).ideas.decide(who, idea_id, body).as_dict()


@router.post(
    "/ideas/{idea_id}/erasure",
    tags=["residents"],
    response_model=Receipt,
    operation_id="eraseIdeaTexts",
    summary="Erase an idea's text or replies that should never have been written (admin)",
    responses=errors(*WRITE, 404),
)
def erase_idea_texts(
    request: Request, idea_id: UUID, body: IdeaErasureIn, who: Caller
) -> dict[str, Any]:
    return get_runtime(request).ideas.erase_texts(who, idea_id, body).as_dict()


@router.post(
    "/surveys",
    tags=["residents"],
    status_code=201,
    response_model=SurveyReceipts,
    operation_id="recordSurvey",
    summary="One aggregated trygghetsmätning result (admin, or the station's municipality)",
    description="Fewer than 10 respondents is refused; `share` is a fraction (62 % is 0.62). "
    "Several at once: `POST /v1/surveys/batch`; a spreadsheet: `POST /v1/surveys/import`.",
    responses=errors(*WRITE),
)
def record_survey(request: Request, body: SurveyIn, who: Caller) -> dict[str, Any]:
    return _stored(get_runtime(request).surveys.record(who, [body]))


@router.post(
    "/surveys/batch",
    tags=["residents"],
    status_code=201,
    response_model=SurveyReceipts,
    operation_id="recordSurveys",
    summary="Several survey results, stored all or none",
    responses=errors(*WRITE),
)
def record_surveys(request: Request, body: SurveyBatchIn, who: Caller) -> dict[str, Any]:
    return _stored(get_runtime(request).surveys.record(who, body.items))


@router.post(
    "/surveys/import",
    tags=["residents"],
    status_code=201,
    response_model=SurveyReceipts,
    operation_id="importSurveys",
    summary="Survey results from a CSV file (Swedish Excel's `;` and decimal commas welcome)",
    description="A header row `station,year,question,share,respondents` (`;` also accepted; "
    "shares as `0.62`, `0,62` or `62 %`). Every row is checked and the errors name the row "
    "(header = row 1); all are stored or none.",
    responses=errors(*WRITE, 415),
    openapi_extra={
        "requestBody": {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "required": True,
        }
    },
)
async def import_surveys(request: Request, who: Caller) -> dict[str, Any]:
    body = await body_as(request, ("text/csv", "application/octet-stream"), missing="")
    items = parse_survey_csv(body)
    return _stored(await run_in_threadpool(get_runtime(request).surveys.record, who, items))


def _stored(stored: list[receipts.Receipt]) -> dict[str, Any]:
    return {"created": len(stored), "results": [r.as_dict() for r in stored]}


@router.get(
    "/surveys",
    tags=["residents"],
    response_model=Surveys,
    operation_id="listSurveys",
    responses=errors(*READ),
)
def list_surveys(
    request: Request, who: Caller, station: str | None = None, min_position: MinPosition = None
) -> dict[str, Any]:
    get_runtime(request).views.wait_for(min_position, ("surveys",))
    return dict(get_runtime(request).residents.surveys(who, station))


@router.get(
    "/stations/{code}/situation/compare",
    tags=["views"],
    response_model=SituationComparison,
    operation_id="compareSituation",
    summary="The lägesbild this quarter against the last, a year earlier and the baseline",
    responses=errors(*READ, 404),
)
def compare_situation(
    request: Request,
    code: str,
    who: Caller,
    quarter: Annotated[str | None, Query(description="YYYY-Qn; default: this quarter")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    get_runtime(request).views.wait_for(min_position, ("observations", "surveys"))
    return dict(get_runtime(request).residents.compare_situation(who, code, quarter))


@router.get(
    "/situation/contributions",
    tags=["views"],
    response_model=Contributions,
    operation_id="situationContributions",
    summary="Observations each party reported to the lägesbild, per station and month",
    responses=errors(*READ),
)
def contributions(
    request: Request,
    who: Caller,
    station: str | None = None,
    actor: str | None = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    get_runtime(request).views.wait_for(min_position, ("observations",))
    return dict(
        get_runtime(request).residents.contributions(
            who, start=start, end=end, station=station, actor=actor
        )
    )


@router.post(
    "/activities/{entry_id}/findings",
    tags=["residents"],
    status_code=201,
    response_model=Receipt,
    operation_id="recordFindings",
    summary="What a safety walk found (the party that walked, or an admin)",
    responses=errors(*WRITE, 404),
)
def record_findings(
    request: Request, entry_id: UUID, body: FindingsIn, who: Caller
) -> dict[str, Any]:
    return get_runtime(request).findings.record(who, entry_id, body).as_dict()


@router.get(
    "/findings",
    tags=["residents"],
    response_model=Findings,
    operation_id="listFindings",
    summary="Safety-walk findings with the measures that answer them",
    responses=errors(*READ),
)
def list_findings(
    request: Request, who: Caller, station: str | None = None, min_position: MinPosition = None
) -> dict[str, Any]:
    get_runtime(request).views.wait_for(min_position, ("findings", "action_plans"))
    return dict(get_runtime(request).residents.findings(who, station))


# -- anyone can check the history -------------------------------------------------------------
# A resident who saved a checkpoint from /public can later check that the ledger's history
# still contains it: the verifier key and consistency proofs are hashes and a public key,
# nothing of what was recorded, so they need no key (as in any transparency log).


@router.get(
    "/public/audit/checkpoint",
    tags=["residents"],
    operation_id="publicCheckpoint",
    summary="The latest signed checkpoint note, as text (no key)",
    # Not response_class=PlainTextResponse: that would document the JSON errors as text.
    responses={200: {"content": {"text/plain": {}}}, **errors(404, 422, 503)},
)
def public_checkpoint(request: Request) -> PlainTextResponse:
    latest = get_runtime(request).audit.latest_checkpoint()
    if latest is None:
        raise NotFound("no checkpoint has been signed yet")
    return PlainTextResponse(latest["note"], headers={"Cache-Control": PUBLIC_CACHE})


@router.get(
    "/public/audit/public-key",
    tags=["residents"],
    response_model=PublicKey,
    operation_id="publicVerifierKey",
    summary="The checkpoint verifier key (no key needed)",
    responses=errors(422, 503),
)
def public_verifier_key(request: Request, response: Response) -> dict[str, str]:
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return get_runtime(request).audit.public_key()


@router.get(
    "/public/audit/proofs/consistency",
    tags=["residents"],
    response_model=ConsistencyProof,
    operation_id="publicConsistencyProof",
    summary="Prove that the tree of size second extends a saved one of size first (no key)",
    responses=errors(422, 503),
)
def public_consistency(
    request: Request,
    first: Annotated[int, Query(ge=1, le=MAX_POSITION)],
    second: Annotated[int, Query(ge=1, le=MAX_POSITION)],
) -> dict[str, Any]:
    return get_runtime(request).audit.consistency(first, second)

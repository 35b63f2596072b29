"""The HTTP contract's answers: one response model for every JSON route.

These are what ``/openapi.json`` promises and what a generated client returns. Routes
keep the ledger's and the views' own results; FastAPI checks each answer against its
model on the way out (a route answering something else is a bug, and a 500 in the
tests). Where a payload depends on the kind of entry or event (histories, the feed),
the common fields are typed and the rest are allowed as they are.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.errors import ErrorOut
from projections import results


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """Typed where it is always the same; the rest as stored."""

    model_config = ConfigDict(extra="allow")


# -- writes --------------------------------------------------------------------------------


class Receipt(Out):
    """Where a write landed: its log position and the Merkle leaf hash an inclusion proof
    later ties to a signed checkpoint. ``created`` is false for an idempotent replay."""

    id: str
    position: int
    version: int
    recorded_at: str
    created: bool
    leaf_hash: str | None


class ErasureReceipt(Receipt):
    erased: list[str] = Field(description="the fields erased")
    texts: int = Field(description="how many stored texts were deleted")


class BatchItem(Receipt):
    index: int
    status: Literal["created", "duplicate"]


class BatchReceipt(Out):
    created: int
    duplicates: int
    results: list[BatchItem]


# -- entries -------------------------------------------------------------------------------


class _EntryOut(Out):
    id: str
    actor: str
    external_id: str
    station: str
    zone: str | None
    note: str | None = Field(description="null when none was given, or once erased")
    status: Literal["active", "retracted"]
    retraction_reason: str | None
    erased_fields: list[str]
    version: int
    recorded_at: str
    updated_at: str


class ActivityOut(_EntryOut):
    kind: str
    started_at: str
    ended_at: str | None
    staff_count: int
    details: dict[str, Any]


class ObservationOut(_EntryOut):
    category: str
    observed_at: str
    count: int
    severity: str


class HistoryEvent(Open):
    """One event of an entry: ``recorded``, ``corrected`` (``changes``, ``reason``),
    ``retracted`` (``reason``) or ``erased`` (``fields``, ``refs``, ``reason``, ``by``)."""

    type: str
    version: int
    position: int
    recorded_at: str


class History(Out):
    events: list[HistoryEvent]


# -- registry ------------------------------------------------------------------------------


class StationOut(Out):
    code: str
    name: str
    municipality: str
    zones: list[str]
    version: int


class ActorOut(Out):
    code: str
    name: str
    kind: str
    version: int


class Target(Out):
    count: int
    per: Literal["period", "week", "month"]
    metric: Literal["activities", "hours", "staff_hours"]
    due: str | None = None


class CommitmentOut(Out):
    code: str
    actor: str
    kind: str
    stations: list[str]
    target: Target
    description: str | None


class PromiseOut(Out):
    id: str
    code: str
    title: str
    period_start: str
    period_end: str
    stations: list[str]
    parties: list[str]
    commitments: list[CommitmentOut]
    description: str | None
    version: int


class MeasureOut(Out):
    code: str
    title: str
    owner: str
    due: str
    status: str
    updated_at: str
    problem: str | None = None
    place: str | None = None
    rationale: str | None = None
    links: list[str] = Field(
        default_factory=list, description="what the measure answers: idea:<id>"
    )


class ActionPlanOut(Out):
    id: str
    promise_id: str
    station: str
    measures: list[MeasureOut]
    version: int


class Stations(Out):
    items: list[StationOut]


class Actors(Out):
    items: list[ActorOut]


class Promises(Out):
    items: list[PromiseOut]


class ActionPlans(Out):
    items: list[ActionPlanOut]


# -- views ---------------------------------------------------------------------------------
# The views' own typed results are the answers (projections/results.py).

Summary = results.Summary
Progress = results.Progress
Situation = results.Situation
Measures = results.Measures
EntryPage = results.EntryPage
Feed = results.Feed

# -- residents, the baseline and the lägesbild ----------------------------------------------

IdeaItem = results.IdeaItem
Ideas = results.Ideas
Surveys = results.Surveys
PublicProgress = results.PublicProgress
SituationComparison = results.SituationComparison
Contributions = results.Contributions
Findings = results.Findings


class IdeaAccepted(Out):
    """A resident's idea was stored; the steering group answers it on the public page."""

    id: str
    status: Literal["new"]
    position: int


class SurveyReceipts(Out):
    created: int
    results: list[Receipt]


class ProjectionOut(Out):
    name: str
    generation: int
    position: int
    head: int
    lag: int
    state: Literal["live", "building", "degraded", "failed"]
    last_error: str | None
    error_position: int | None
    parked_count: int
    parked: list[int]
    updated_at: str


class Projections(Out):
    items: list[ProjectionOut]


# -- audit and operations -------------------------------------------------------------------


class Cosignature(Out):
    witness: str = Field(description="the witness's key name")
    timestamp: int = Field(description="when it cosigned (POSIX seconds)")


class Checkpoint(Out):
    id: int
    tree_size: int
    root_hash: str
    issued_at: str
    note: str = Field(
        description="the C2SP signed note: the log's signature, then one cosignature line "
        "(C2SP tlog-cosignature) per witness that has cosigned it"
    )
    cosignatures: list[Cosignature]


class WitnessOut(Out):
    name: str
    url: str
    verifier_key: str = Field(description="C2SP vkey, type 0x04 (cosignature/v1)")
    cosigned_size: int | None = Field(description="the tree size it last cosigned")
    cosigned_at: str | None
    attempted_at: str | None
    last_error: str | None = Field(description="why its last attempt failed; null once it cosigns")
    cosigned_latest: bool


class Witnesses(Out):
    configured: int
    witnessed: int = Field(description="how many cosigned the latest checkpoint")
    latest_tree_size: int | None
    witnesses: list[WitnessOut]


class Checkpoints(Out):
    items: list[Checkpoint]


class PublicKey(Out):
    verifier_key: str
    origin: str


class InclusionProof(Out):
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyProof(Out):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


class Health(Out):
    status: Literal["ok"]


class Ready(Out):
    status: Literal["ready"]
    position: int
    pid: int = Field(description="the API process that answered")
    jobs: Literal["leader", "standby"] = Field(
        description="whether this process runs the background jobs (projections, sealing, "
        "witnesses); with several workers one leads"
    )


# -- errors --------------------------------------------------------------------------------

_WHY: dict[int, str] = {
    401: "no key, or an unknown or revoked key (`unauthenticated`)",
    403: "the key's role may not do this, or a police entry outside the police (`forbidden`)",
    404: "no such thing; another actor's entry answers alike (`not_found`)",
    408: "the body did not arrive in time (`request_timeout`)",
    409: "a conflict: `external_id_conflict`, `version_conflict`, `already_exists`, "
    "`entry_retracted`, `invalid_transition`; on a read, an `as_of` before the history the "
    "views keep (`history_missing`)",
    413: "the body is too large (`body_too_large`)",
    422: "bad input; `errors` names each field and why (`invalid_input`, `invalid_json`, "
    "`personal_data`)",
    415: "the body is neither JSON nor CSV (`unsupported_media_type`)",
    429: "too many requests with this key, or ideas from this address (`rate_limited`); "
    "see Retry-After",
    503: "the database is unavailable, or the views are behind the point asked for "
    "(`unavailable`, `read_only`, `not_caught_up`); see Retry-After",
    507: "the storage is full (`storage_full`); nothing was stored",
}
#: What every authenticated route can answer: a bad key, a flood, the database away, a
#: bad character in the URL.
GATE = (401, 422, 429, 503)
READ = GATE
#: A read that takes ``as_of``: a point before the history the views keep is 409.
AS_OF = (*READ, 409)
BODY = (*GATE, 408, 413)
WRITE = (*BODY, 403, 409, 507)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route documents: exactly these codes."""
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in sorted(set(codes))}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body as bytes and has the ledger
    validate it: FastAPI documents only bodies it parses itself (``api.app`` adds the
    model's schema to the components)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}

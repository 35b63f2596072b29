"""Activities and observations: one router shape for both kinds of ledger entry.

No ``from __future__ import annotations`` here: FastAPI reads the body types
from the closures of ``entry_router``.
"""

from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import Caller, EntriesDep, body_as
from api.schemas import (
    BODY,
    READ,
    WRITE,
    ActivityOut,
    BatchReceipt,
    ErasureReceipt,
    History,
    ObservationOut,
    Receipt,
    errors,
    json_body,
)
from ledger.entry_service import ACTIVITY, OBSERVATION, EntryType
from ledger.inputs import ActivityIn, CorrectionIn, ErasureIn, ObservationIn, RetractionIn


def _written(receipt: dict[str, Any], *, created: bool) -> Response:
    """A write's receipt: 201 when something new was stored, 200 for a replay. Encoded with
    orjson: a batch's thousand receipts took the standard encoder longer than storing them."""
    return Response(
        orjson.dumps(receipt), status_code=201 if created else 200, media_type="application/json"
    )


def entry_router(
    kind: EntryType,
    path: str,
    single: type[Any],
    read: type[ActivityOut] | type[ObservationOut],
) -> APIRouter:
    router = APIRouter(prefix=f"/v1/{path}", tags=[path])
    noun = kind.noun.capitalize()  # operation ids: recordActivity, activityHistory, …
    plural = path.capitalize()

    @router.post(
        "",
        status_code=201,
        response_model=Receipt,
        operation_id=f"record{noun}",
        summary=f"Record one {kind.noun} (idempotent by external_id)",
        responses={
            200: {"model": Receipt, "description": "a replay of an already stored external_id"},
            **errors(*WRITE),
        },
    )
    # The body's type is this factory's argument (activity or observation): FastAPI reads it
    # at run time, where a type checker sees only a variable.
    async def record(body: single, who: Caller, entries: EntriesDep) -> Response:  # type: ignore[valid-type]
        receipt = await entries.record_entry_async(kind, who, body)
        return _written(receipt.as_dict(), created=receipt.created)

    @router.post(
        "/batch",
        status_code=201,
        response_model=BatchReceipt,
        operation_id=f"record{plural}",
        summary=f"Record up to 1,000 {path} in one transaction",
        responses={
            200: {"model": BatchReceipt, "description": "every item was already stored"},
            **errors(*WRITE, 415),
        },
        openapi_extra=json_body(kind.batch),
    )
    async def record_batch(request: Request, who: Caller, entries: EntriesDep) -> Response:
        # The body goes to the ledger as bytes, validated there in one pass: FastAPI's own
        # parsing (json.loads, then validating the objects) would read it twice.
        body = await body_as(request, ("application/json",), missing="application/json")
        receipt = await run_in_threadpool(entries.record_batch, kind, who, body)
        return _written(receipt.as_dict(), created=bool(receipt.created))

    @router.get(
        "/{entry_id}",
        response_model=read,
        operation_id=f"get{noun}",
        summary=f"The current state of one {kind.noun}",
        responses=errors(*READ, 403, 404),
    )
    def get(entry_id: UUID, who: Caller, entries: EntriesDep) -> dict[str, Any]:
        return entries.read_entry(kind, who, entry_id)

    @router.get(
        "/{entry_id}/history",
        response_model=History,
        operation_id=f"{kind.noun}History",
        summary=f"Every event of one {kind.noun}, in order",
        responses=errors(*READ, 403, 404),
    )
    def history(entry_id: UUID, who: Caller, entries: EntriesDep) -> dict[str, Any]:
        return {"events": entries.entry_history(kind, who, entry_id)}

    @router.post(
        "/{entry_id}/corrections",
        response_model=Receipt,
        operation_id=f"correct{noun}",
        summary=f"Correct one {kind.noun}, with a reason",
        responses=errors(*WRITE, 404),
    )
    def correct(
        entry_id: UUID, body: CorrectionIn, who: Caller, entries: EntriesDep
    ) -> dict[str, Any]:
        return entries.correct_entry(kind, who, entry_id, body).as_dict()

    @router.post(
        "/{entry_id}/retraction",
        response_model=Receipt,
        operation_id=f"retract{noun}",
        summary=f"Retract one {kind.noun}, with a reason",
        responses=errors(*WRITE, 404),
    )
    def retract(
        entry_id: UUID, body: RetractionIn, who: Caller, entries: EntriesDep
    ) -> dict[str, Any]:
        return entries.retract_entry(kind, who, entry_id, body).as_dict()

    @router.post(
        "/{entry_id}/erasure",
        response_model=ErasureReceipt,
        operation_id=f"erase{noun}Texts",
        responses=errors(*BODY, 403, 404, 409, 507),
        summary=f"Erase free text from every version of one {kind.noun} (administrators)",
        description="For personal data that slipped past the screening: the texts are "
        "deleted from every read and from the database; an erasure record (which fields, "
        "why, which key; never the text) joins the history, and every Merkle leaf, "
        "checkpoint and proof stays valid.",
    )
    def erase(entry_id: UUID, body: ErasureIn, who: Caller, entries: EntriesDep) -> dict[str, Any]:
        return entries.erase_texts(kind, who, entry_id, body).as_dict()

    return router


activities = entry_router(ACTIVITY, "activities", ActivityIn, ActivityOut)
observations = entry_router(OBSERVATION, "observations", ObservationIn, ObservationOut)
#: Bodies the routes read as bytes: ``api.app`` documents their schemas.
BYTES_BODIES = (ACTIVITY.batch, OBSERVATION.batch)

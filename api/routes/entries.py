"""Activities and observations: one router shape for both kinds of ledger entry.

No ``from __future__ import annotations`` here: FastAPI reads the body types
from the closures of ``entry_router``.
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Caller, EntriesDep
from ledger.entry_service import ACTIVITY, OBSERVATION, EntryType
from ledger.inputs import (
    ActivityBatchIn,
    ActivityIn,
    CorrectionIn,
    ErasureIn,
    ObservationBatchIn,
    ObservationIn,
    RetractionIn,
)


def entry_router(
    kind: EntryType, path: str, single: type[Any], batch: type[Any], tag: str
) -> APIRouter:
    router = APIRouter(prefix=f"/v1/{path}", tags=[tag])

    @router.post(
        "",
        status_code=201,
        summary=f"Record one {kind.noun} (idempotent by external_id)",
        responses={200: {"description": "a replay of an already stored external_id"}},
    )
    def record(body: single, who: Caller, entries: EntriesDep) -> JSONResponse:  # type: ignore[valid-type]
        receipt = entries.record_entry(kind, who, body)
        return JSONResponse(receipt.as_dict(), status_code=201 if receipt.created else 200)

    @router.post(
        "/batch",
        status_code=201,
        summary=f"Record up to 1,000 {path} in one transaction",
        responses={200: {"description": "every item was already stored"}},
    )
    def record_batch(body: batch, who: Caller, entries: EntriesDep) -> JSONResponse:  # type: ignore[valid-type]
        receipt = entries.record_entries(kind, who, body.items)
        return JSONResponse(receipt.as_dict(), status_code=201 if receipt.created else 200)

    @router.get("/{entry_id}", summary=f"The current state of one {kind.noun}")
    def get(entry_id: UUID, who: Caller, entries: EntriesDep) -> dict[str, Any]:
        return entries.read_entry(kind, who, entry_id)

    @router.get("/{entry_id}/history", summary=f"Every event of one {kind.noun}, in order")
    def history(entry_id: UUID, who: Caller, entries: EntriesDep) -> dict[str, Any]:
        return {"events": entries.entry_history(kind, who, entry_id)}

    @router.post("/{entry_id}/corrections", summary=f"Correct one {kind.noun}, with a reason")
    def correct(
        entry_id: UUID, body: CorrectionIn, who: Caller, entries: EntriesDep
    ) -> dict[str, Any]:
        return entries.correct_entry(kind, who, entry_id, body).as_dict()

    @router.post("/{entry_id}/retraction", summary=f"Retract one {kind.noun}, with a reason")
    def retract(
        entry_id: UUID, body: RetractionIn, who: Caller, entries: EntriesDep
    ) -> dict[str, Any]:
        return entries.retract_entry(kind, who, entry_id, body).as_dict()

    @router.post(
        "/{entry_id}/erasure",
        summary=f"Erase free text from every version of one {kind.noun} (administrators)",
        description="For personal data that slipped past the screening: the texts are "
        "deleted from every read and from the database; an erasure record (which fields, "
        "why, which key; never the text) joins the history, and every Merkle leaf, "
        "checkpoint and proof stays valid.",
    )
    def erase(entry_id: UUID, body: ErasureIn, who: Caller, entries: EntriesDep) -> dict[str, Any]:
        return entries.erase_texts(kind, who, entry_id, body).as_dict()

    return router


activities = entry_router(ACTIVITY, "activities", ActivityIn, ActivityBatchIn, "activities")
observations = entry_router(
    OBSERVATION, "observations", ObservationIn, ObservationBatchIn, "observations"
)

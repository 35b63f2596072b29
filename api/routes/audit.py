"""The auditor's interface: the log as NDJSON, signed checkpoints, proofs, the public key."""

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from api.deps import Caller
from ledger.audit.service import AuditService
from ledger.errors import NotFound

router = APIRouter(prefix="/v1/audit", tags=["audit"])
# Positions and sizes are 64-bit in the database; larger numbers are refused as input.
MAX_POSITION = 2**62


def get_audit(request: Request) -> AuditService:
    return request.app.state.runtime.audit


Audit = Annotated[AuditService, Depends(get_audit)]


@router.get(
    "/log",
    summary="The sealed log as NDJSON: one event per line with its leaf index and leaf hash",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def log(
    who: Caller,
    audit: Audit,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="only events after this position")
    ] = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
) -> StreamingResponse:
    audit.require(who)

    def lines() -> Iterator[bytes]:
        for record in audit.export(after=after, limit=limit):
            yield (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get(
    "/checkpoints/latest",
    summary="The latest signed checkpoint (format=note: the signed note as text/plain)",
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
            }
        }
    },
)
def latest_checkpoint(
    who: Caller,
    audit: Audit,
    format: Annotated[
        str, Query(pattern="^(json|note)$", description="note: the signed note as text")
    ] = "json",
) -> Response:
    audit.require(who)
    latest = audit.latest_checkpoint()
    if latest is None:
        raise NotFound("no checkpoint yet; POST /v1/audit/checkpoints issues one")
    if format == "note":
        return PlainTextResponse(latest["note"])
    return Response(json.dumps(latest), media_type="application/json")


@router.get("/checkpoints", summary="Checkpoint history, newest first")
def checkpoints(
    who: Caller,
    audit: Audit,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="only checkpoints with a smaller id")
    ] = None,
) -> dict[str, Any]:
    audit.require(who)
    return {"items": audit.checkpoints(limit=limit, before=before)}


@router.post(
    "/checkpoints", status_code=201, summary="Seal the log up to now and sign a checkpoint"
)
def issue_checkpoint(who: Caller, audit: Audit) -> dict[str, Any]:
    audit.require(who)
    return audit.issue_checkpoint()


@router.get("/public-key", summary="The checkpoint verifier key (C2SP note format: name+keyid+key)")
def public_key(who: Caller, audit: Audit) -> dict[str, str]:
    audit.require(who)
    return audit.public_key()


@router.get(
    "/proofs/inclusion", summary="Prove that the event at a position is in a tree of a size"
)
def inclusion(
    who: Caller,
    audit: Audit,
    position: Annotated[int, Query(ge=1, le=MAX_POSITION)],
    tree_size: Annotated[int, Query(ge=1, le=MAX_POSITION)],
) -> dict[str, Any]:
    audit.require(who)
    return audit.inclusion(position, tree_size)


@router.get(
    "/proofs/consistency", summary="Prove that a tree of size second extends one of size first"
)
def consistency(
    who: Caller,
    audit: Audit,
    first: Annotated[int, Query(ge=1, le=MAX_POSITION)],
    second: Annotated[int, Query(ge=1, le=MAX_POSITION)],
) -> dict[str, Any]:
    audit.require(who)
    return audit.consistency(first, second)

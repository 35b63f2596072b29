"""The auditor's interface: the log as NDJSON, signed checkpoints, proofs, the public key."""

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from api.deps import Caller
from api.schemas import (
    READ,
    Checkpoint,
    Checkpoints,
    ConsistencyProof,
    InclusionProof,
    PublicKey,
    Witnesses,
    errors,
)
from ledger.audit.service import AuditService
from ledger.errors import NotFound

router = APIRouter(prefix="/v1/audit", tags=["audit"])
# Positions and sizes are 64-bit in the database; larger numbers are refused as input.
MAX_POSITION = 2**62


async def get_audit(request: Request) -> AuditService:  # no thread hop (api.deps)
    return request.app.state.runtime.audit


Audit = Annotated[AuditService, Depends(get_audit)]


@router.get(
    "/log",
    operation_id="auditLog",
    summary="The sealed log as NDJSON: one event per line with its leaf index and leaf hash",
    description="A stream of `application/x-ndjson`: one JSON object per line with exactly the "
    "keys `position`, `leaf_index`, `leaf_hash`, `originator_id`, `originator_version`, "
    "`topic`, `state_b64` (the stored bytes, standard base64) and `event` (those bytes "
    "decoded, for reading; never hashed). Verify it offline with "
    "`python -m ledger.audit.standalone`.",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "one sealed event per line",
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "newline-delimited JSON"}
                }
            },
        },
        **errors(*READ, 403),
    },
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
    operation_id="latestCheckpoint",
    summary="The latest signed checkpoint (format=note: the signed note as text/plain)",
    response_model=Checkpoint,
    responses={
        200: {
            "description": "the checkpoint, or (format=note) its signed note",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **errors(*READ, 403, 404),
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


@router.get(
    "/checkpoints",
    response_model=Checkpoints,
    operation_id="listCheckpoints",
    responses=errors(*READ, 403),
    summary="Checkpoint history, newest first",
)
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
    "/checkpoints",
    status_code=201,
    response_model=Checkpoint,
    operation_id="issueCheckpoint",
    responses=errors(*READ, 403, 507),
    summary="Seal the log up to now, sign a checkpoint and gather the witnesses' cosignatures",
    description="Waits for each witness in TRYGG_WITNESSES at most "
    "TRYGG_WITNESS_TIMEOUT_SECONDS; one that does not answer is asked again later.",
)
def issue_checkpoint(who: Caller, audit: Audit) -> dict[str, Any]:
    audit.require(who)
    return audit.issue_witnessed_checkpoint()


@router.get(
    "/witnesses",
    response_model=Witnesses,
    operation_id="witnesses",
    responses=errors(*READ, 403),
    summary="Each configured witness: the size it last cosigned, when, and its last error",
)
def witnesses(who: Caller, audit: Audit) -> dict[str, Any]:
    audit.require(who)
    return audit.witness_status()


@router.get(
    "/public-key",
    response_model=PublicKey,
    operation_id="publicKey",
    responses=errors(*READ, 403),
    summary="The checkpoint verifier key (C2SP note format: name+keyid+key)",
)
def public_key(who: Caller, audit: Audit) -> dict[str, str]:
    audit.require(who)
    return audit.public_key()


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProof,
    operation_id="inclusionProof",
    responses=errors(*READ, 403, 404),
    summary="Prove that the event at a position is in a tree of a size",
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
    "/proofs/consistency",
    response_model=ConsistencyProof,
    operation_id="consistencyProof",
    responses=errors(*READ, 403),
    summary="Prove that a tree of size second extends one of size first",
)
def consistency(
    who: Caller,
    audit: Audit,
    first: Annotated[int, Query(ge=1, le=MAX_POSITION)],
    second: Annotated[int, Query(ge=1, le=MAX_POSITION)],
) -> dict[str, Any]:
    audit.require(who)
    return audit.consistency(first, second)

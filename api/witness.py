"""The witness's HTTP face (``trygg witness serve``): C2SP tlog-witness over FastAPI.

``POST /add-checkpoint`` is the whole protocol; ``GET /`` tells a monitor who this
witness is and the largest checkpoint it cosigned per log, so an auditor can compare a
ledger's latest checkpoint with what the witness saw (a rollback shows as a smaller size).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from ledger.audit.witness import MAX_REQUEST_BYTES, Witness, WitnessRefusal


def create_witness_app(witness: Witness) -> FastAPI:
    app = FastAPI(
        title="Trygg Ledger witness",
        version="0.1.0",
        description="A C2SP tlog-witness: cosigns checkpoints that extend what it has seen.",
        docs_url=None,
        redoc_url=None,
    )

    @app.post(
        "/add-checkpoint",
        response_class=PlainTextResponse,
        summary="Submit a checkpoint with a consistency proof; get a cosignature line",
    )
    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REQUEST_BYTES:
                return PlainTextResponse("request too large\n", status_code=413)
        try:
            # Signature checks and the state write block: off the event loop.
            lines = await run_in_threadpool(witness.add_checkpoint, bytes(body))
        except WitnessRefusal as refusal:
            # Exactly the spec's type (``text/x.tlog.size``): no charset parameter appended.
            return Response(
                refusal.body.encode("utf-8"),
                status_code=refusal.status,
                headers={"Content-Type": refusal.content_type},
            )
        return PlainTextResponse(lines)

    @app.get("/", summary="Who this witness is and what it has cosigned")
    def about() -> dict[str, Any]:
        seen = {s.origin: s for s in witness.state.logs()}
        return {
            "name": witness.cosigner.name,
            "verifier_key": witness.cosigner.verifier_key,
            "logs": [
                {
                    "origin": origin,
                    "verifier_keys": [str(k) for k in keys],
                    "size": state.size if state else None,
                    "cosigned_at": state.cosigned_at.isoformat() if state else None,
                    "checkpoint": state.note if state else None,
                }
                for origin, keys in sorted(witness.log_keys.items())
                for state in [seen.get(origin)]
            ],
        }

    return app

import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.schemas import Health, Ready, errors

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, operation_id="healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Ready,
    operation_id="readyz",
    responses=errors(503),
    summary="The database answers",
)
def readyz(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    position = runtime.ping()
    return JSONResponse(
        {
            "status": "ready",
            "position": position,
            # Which process answered, and whether it runs the background jobs (one of
            # the API processes does: ``ledger.leadership``).
            "pid": os.getpid(),
            "jobs": "leader" if runtime.leading.is_set() else "standby",
        }
    )

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers")
def readyz(request: Request) -> JSONResponse:
    position = request.app.state.runtime.ping()
    return JSONResponse({"status": "ready", "position": position})

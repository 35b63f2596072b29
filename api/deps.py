"""Request dependencies: the parts of the runtime a route uses, and the caller.

They are ``async``: FastAPI runs a plain ``def`` dependency in a worker thread, and these
only read what is already in memory (the caller as ``AuthGate`` found it, parts of the
runtime), so each hop cost more than its work (two hops a write, measured in the single
POST profile). A key looked up in the database still goes to a worker thread.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.runtime import Runtime
from ledger.access import Principal
from ledger.entry_service import EntryCommands
from ledger.errors import Unauthenticated
from ledger.registry_service import RegistryCommands
from projections.views import Views

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer tl_…`")


async def body_as(request: Request, accepted: tuple[str, ...], missing: str) -> bytes:
    """The body of a route that reads it as bytes, if its media type is one of ``accepted``
    (a missing ``Content-Type`` counts as ``missing``; ``…+json`` as JSON); else 415."""
    media = request.headers.get("content-type", missing).split(";")[0].strip().lower()
    if media not in accepted and not (media.endswith("+json") and "application/json" in accepted):
        raise StarletteHTTPException(415, f"send it as {' or '.join(accepted)}")
    return await request.body()


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, as ``api.limits.AuthGate`` authenticated it before the body was read
    (the header is looked up here only for routes outside the gate)."""
    gated = getattr(request.state, "principal", None)
    if isinstance(gated, Principal):
        return gated
    if credentials is None:
        raise Unauthenticated("send an API key: Authorization: Bearer <token>")
    principal = await run_in_threadpool(
        get_runtime(request).keys.authenticate, credentials.credentials
    )
    if principal is None:
        raise Unauthenticated("unknown or revoked API key")
    request.app.state.rate_limiter.hit(principal.key_id)
    return principal


async def get_entries(request: Request) -> EntryCommands:
    return get_runtime(request).entries


async def get_registry(request: Request) -> RegistryCommands:
    return get_runtime(request).registry


async def get_views(request: Request) -> Views:
    return get_runtime(request).views


Caller = Annotated[Principal, Depends(get_principal)]
EntriesDep = Annotated[EntryCommands, Depends(get_entries)]
RegistryDep = Annotated[RegistryCommands, Depends(get_registry)]
ViewsDep = Annotated[Views, Depends(get_views)]

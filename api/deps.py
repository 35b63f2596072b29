"""Request dependencies: the system and the authenticated caller."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.access import Principal
from ledger.application import Ledger
from ledger.errors import Unauthenticated
from ledger.system import System
from projections.views import Views

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer tl_…`")


def get_system(request: Request) -> System:
    return request.app.state.system


def get_ledger(request: Request) -> Ledger:
    return request.app.state.system.ledger


def get_principal(
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
    principal = request.app.state.system.keys.authenticate(credentials.credentials)
    if principal is None:
        raise Unauthenticated("unknown or revoked API key")
    request.app.state.rate_limiter.hit(principal.key_id)
    return principal


Caller = Annotated[Principal, Depends(get_principal)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_views(request: Request) -> Views:
    return request.app.state.runtime.views


ViewsDep = Annotated[Views, Depends(get_views)]

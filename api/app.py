"""The FastAPI application factory. Nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from api import errors, metrics
from api.dashboard.routes import router as dashboard_router
from api.limits import AddressThrottle, AuthGate, BodySizeLimit, RateLimiter, UrlHygiene
from api.metrics import MetricsMiddleware, RequestMetrics
from api.public_pages import router as public_pages_router
from api.routes import audit, entries, health, registry, residents, views
from api.runtime import Runtime
from ledger.settings import Settings

DESCRIPTION = """\
Trygg Ledger holds the joint safety work of a *medborgarlöfte* as an append-only,
event-sourced ledger. Partner systems post activities and observations; the
steering group reads what was promised and delivered; auditors verify history.

Authenticate with `Authorization: Bearer <API key>`. Errors are JSON:
`{"code": "...", "detail": "..."}`.
"""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """The HTTP app. Given a ``runtime`` (tests do), it serves that one and leaves it open
    when it stops; otherwise it builds its own from ``settings`` and closes it."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        serving = runtime or Runtime(settings)
        app.state.runtime = serving
        if serving.settings.embedded_projections:
            serving.start()
        try:
            yield
        finally:
            if runtime is None:
                serving.close()
            else:
                serving.stop()

    app = FastAPI(
        title="Trygg Ledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.idea_throttle = AddressThrottle(settings.ideas_per_hour)
    app.state.request_metrics = RequestMetrics()
    errors.install(app)
    # Outermost last: metrics see everything; then the URL, the key, and the body.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        read_timeout=settings.body_read_timeout_seconds,
        public_max_bytes=settings.public_max_body_bytes,
    )
    app.add_middleware(AuthGate, state=app.state)
    app.add_middleware(UrlHygiene)
    app.add_middleware(MetricsMiddleware, metrics=app.state.request_metrics)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(views.router)  # before registry: /v1/action-plans/measures
    app.include_router(registry.router)
    app.include_router(entries.activities)
    app.include_router(entries.observations)
    app.include_router(audit.router)
    app.include_router(residents.router)
    app.include_router(public_pages_router)
    app.include_router(dashboard_router)
    _document_bodies(app, entries.BYTES_BODIES)
    return app


def _document_bodies(app: FastAPI, models: Iterable[type[BaseModel]]) -> None:
    """Add the schemas of bodies that routes read as bytes (``api.schemas.json_body``) to
    ``/openapi.json``'s components, beside those FastAPI generates."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            found = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, part in schema.pop("$defs", {}).items():
                    found.setdefault(name, part)
                found.setdefault(model.__name__, schema)
        return app.openapi_schema  # type: ignore[return-value]  # set by generate()

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override

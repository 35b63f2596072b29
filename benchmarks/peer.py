"""The peer: what a team would write in an afternoon with the same stack.

FastAPI and one ``eventsourcing`` ``Application.save()`` per request, and nothing of the
ledger: no screening, no idempotency, no audit leaves, no access rules, no ledger code at
all. ``benchmarks.peer_compare`` serves it with uvicorn beside the ledger, on the same
database, and loads both with the same clients, so the ratio says what the ledger's
guarantees cost. The database comes from the library's own environment variables
(``PERSISTENCE_MODULE``, ``SQLITE_DBNAME`` or ``POSTGRES_*``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from pydantic import BaseModel


class BenchActivity(Aggregate):
    """The same fields as the ledger's ``Activity.Recorded`` event."""

    @event("Recorded")
    def __init__(
        self,
        actor: str,
        external_id: str,
        kind: str,
        station: str,
        zone: str | None,
        started_at: str,
        ended_at: str | None,
        staff_count: int,
        details: dict[str, Any],
        note: str | None,
        content_hash: str,
    ) -> None:
        self.actor = actor
        self.external_id = external_id
        self.kind = kind
        self.station = station
        self.zone = zone
        self.started_at = started_at
        self.ended_at = ended_at
        self.staff_count = staff_count
        self.details = dict(details)
        self.note = note
        self.content_hash = content_hash


class BenchLibrary(Application[Any]):
    name = "BenchLib"  # PostgreSQL table "benchlib_events"


class ActivityBody(BaseModel):
    external_id: str
    kind: str
    station: str
    zone: str | None = None
    started_at: str
    ended_at: str | None = None
    staff_count: int = 1
    details: dict[str, Any] = {}
    note: str | None = None


library: dict[str, BenchLibrary] = {}


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    library["app"] = BenchLibrary()
    yield
    library.pop("app").close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/activities", status_code=201)
def record(body: ActivityBody) -> dict[str, Any]:
    activity = BenchActivity(actor="peer", content_hash="", **body.model_dump())
    recordings = library["app"].save(activity)
    return {"id": str(activity.id), "position": recordings[0].notification.id}


@app.get("/readyz")
def ready() -> dict[str, str]:
    return {"status": "ready"}

"""The feed: accepted entry events in log order, for partners to follow.

A partner sees its own actor's events; steering, auditors and administrators see
every actor's that ``ledger.access.may_see`` lets them see one entry at a time (so
the steering group follows every actor but the police). Each answer scans a bounded slice of the log and returns ``next``,
the position to continue after, so a partner whose events are sparse still moves
forward one page at a time and no request runs long.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from sqlalchemy import select

from ledger.access import Permission, Principal
from ledger.texts import TextStore
from projections.events import decode
from projections.results import Feed
from projections.runner import ProjectionRunner

ENTRY_TOPICS = tuple(
    f"ledger.domain.entries:{aggregate}.{name}"
    for aggregate in ("Activity", "Observation")
    for name in ("Recorded", "Corrected", "Retracted", "Erased")
)
SCAN_FACTOR = 10


def feed(
    runner: ProjectionRunner,
    who: Principal,
    after: int,
    limit: int,
    hidden: frozenset[str] = frozenset(),
    texts: TextStore | None = None,
) -> Feed:
    """Entry events after ``after``; events of the ``hidden`` actors are passed over;
    ``texts`` puts the free text back in place of its references."""
    who.require(Permission.read)
    everyone = who.can(Permission.read_all_entries)
    scanned = runner.recorder.select_notifications(
        start=after,
        limit=limit * (1 if everyone else SCAN_FACTOR),
        topics=ENTRY_TOPICS,
        inclusive_of_start=False,
    )
    events = [decode(n) for n in scanned]
    owners = {} if everyone and not hidden else _owners(runner, events)
    out = []
    next_position = after
    for e in events:
        actor = e.data.get("actor") or owners.get(e.originator_id)
        next_position = e.position
        if (not everyone and actor != who.actor) or actor in hidden:
            continue
        payload = {k: v for k, v in e.data.items() if k not in {"timestamp", "originator_topic"}}
        out.append(
            {
                "position": e.position,
                "entry": e.aggregate.lower(),
                "type": e.name.lower(),
                "id": str(e.originator_id),
                "version": e.version,
                "recorded_at": e.recorded_at,
                "actor": actor,
                **payload,
            }
        )
        if len(out) == limit:
            break
    return {"events": texts.reveal_many(out) if texts else out, "next": next_position}


def _owners(runner: ProjectionRunner, events: list[Any]) -> dict[str, str]:
    """Corrections and retractions do not repeat the actor: look it up (projections first,
    then the Recorded event itself for entries the projections have not reached yet)."""
    wanted = {e.originator_id for e in events if "actor" not in e.data}
    owners: dict[str, str] = {}
    if not wanted:
        return owners
    with runner.engine.connect() as conn:
        for name in ("activities", "observations"):
            table = runner.live_tables(name, conn).entries
            ids = list(wanted)
            for row in conn.execute(select(table.c.id, table.c.actor).where(table.c.id.in_(ids))):
                owners[row.id] = row.actor
    for missing in wanted - set(owners):
        first = runner.recorder.select_events(UUID(missing), limit=1)
        if first:
            owners[missing] = decode_actor(first[0].state)
    return owners


def decode_actor(state: bytes) -> str:
    return str(json.loads(state).get("actor"))

"""A realistic, deterministic workload: the demo's promise, stations and actors, and a stream
of activities and observations shaped like the demo's (kinds, stations, hours of day,
durations, staff counts, details, zones, an occasional note).

``items(seed)`` yields ``(type, actor, body)`` where ``body`` is the JSON a partner system
would post; ``load`` writes them through ``Ledger.record_entries`` in 1,000-item batches,
the ledger's supported bulk path; ``stored_rows`` turns bodies into the exact
(originator_id, version, topic, state) rows the ledger would store, for the raw baselines.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from api.demo import (
    ACTORS,
    ALL,
    MUNICIPALITIES,
    OBSERVATION_RATES,
    PERIOD_END,
    PERIOD_START,
    SHIFT_HOURS,
    STATIONS,
    TZ,
    _commitments,
    _details,
)
from api.runtime import Runtime
from ledger.access import SYSTEM, Principal, Role
from ledger.entry_service import ACTIVITY, OBSERVATION
from ledger.inputs import ActivityIn, ActorIn, ObservationIn, PromiseIn, StationIn

PROMISE = "stk-2021-2022"
PARTNER = "vasttrafik"  # the partner whose key posts over HTTP
BATCH = 1000

# Relative frequency of each kind, roughly as the demo's commitments deliver them.
KIND_WEIGHTS = {
    "security_host_shift": 25,
    "cleaning_round": 15,
    "patrol": 10,
    "guard_shift": 8,
    "enforcement": 2,
    "volunteer_patrol": 1,
    "safety_walk": 0.6,
    "environment_measure": 0.5,
    "public_event": 0.2,
}
OBSERVATION_SHARE = 0.2
ZONES = ["platform", "tunnel", "parking", "bus_stop", "station_building", "underpass"]
NOTES = [
    "Lugnt på perrongen",
    "Många resenärer efter evenemang",
    "Trasig belysning anmäld",
    "Samverkan med väktare",
    "Ökad närvaro efter tips",
]
STATION_MUNICIPALITY = {s: code for code, (_, stations) in MUNICIPALITIES.items() for s in stations}
SPAN_DAYS = (PERIOD_END - PERIOD_START).days


def actor_for(kind: str, station: str) -> str:
    if kind in {"patrol", "volunteer_patrol", "enforcement"}:
        return "polisen-alingsas"
    if kind == "security_host_shift":
        return "vasttrafik"
    if kind in {"cleaning_round", "guard_shift"}:
        return "trafikverket"
    return STATION_MUNICIPALITY[station]


def activity_body(rng: random.Random, kind: str, external_id: str) -> tuple[str, dict[str, Any]]:
    """One activity as a partner posts it; returns (station, body)."""
    station = rng.choice(["lerum", "herrljunga"] if kind == "guard_shift" else ALL)
    day = PERIOD_START + timedelta(days=rng.randint(0, SPAN_DAYS))
    starts, (dmin, dmax), (smin, smax) = SHIFT_HOURS[kind]
    started = datetime.combine(day, time(rng.choice(starts), rng.choice([0, 0, 15, 30])), TZ)
    ended = started + timedelta(hours=rng.randint(dmin, dmax), minutes=rng.choice([0, 15, 30, 45]))
    body: dict[str, Any] = {
        "external_id": external_id,
        "kind": kind,
        "station": station,
        "zone": rng.choice(ZONES),
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "staff_count": rng.randint(smin, smax),
        "details": _details(rng, kind, station),
    }
    if rng.random() < 0.1:
        body["note"] = rng.choice(NOTES)
    return station, body


def observation_body(rng: random.Random, external_id: str) -> dict[str, Any]:
    categories = list(OBSERVATION_RATES)
    category = rng.choices(categories, [OBSERVATION_RATES[c] for c in categories])[0]
    day = PERIOD_START + timedelta(days=rng.randint(0, SPAN_DAYS))
    at = datetime.combine(day, time(rng.randint(6, 23), rng.choice([0, 20, 40])), TZ)
    return {
        "external_id": external_id,
        "category": category,
        "station": rng.choice(ALL),
        "zone": rng.choice(ZONES[:4]),
        "observed_at": at.isoformat(),
        "count": 1 + (rng.random() < 0.3) + (rng.random() < 0.1),
        "severity": rng.choices(["low", "medium", "high"], [5, 4, 1])[0],
    }


def items(seed: int, prefix: str = "b") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """An endless, deterministic stream of (``activity`` | ``observation``, actor, body)."""
    rng = random.Random(seed)
    kinds = list(KIND_WEIGHTS)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    n = 0
    while True:
        n += 1
        if rng.random() < OBSERVATION_SHARE:
            reporter = rng.choice(["vasttrafik", "trafikverket"])
            yield "observation", reporter, observation_body(rng, f"{prefix}-obs-{n}")
        else:
            kind = rng.choices(kinds, weights)[0]
            station, body = activity_body(rng, kind, f"{prefix}-{kind}-{n}")
            yield "activity", actor_for(kind, station), body


def activity_batches(seed: int, batches: int, prefix: str) -> list[list[dict[str, Any]]]:
    """``batches`` lists of 1,000 activity bodies for one partner (HTTP ingest)."""
    rng = random.Random(seed)
    kinds = list(KIND_WEIGHTS)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    out = []
    n = 0
    for _ in range(batches):
        batch = []
        for _ in range(BATCH):
            n += 1
            kind = rng.choices(kinds, weights)[0]
            batch.append(activity_body(rng, kind, f"{prefix}-{n}")[1])
        out.append(batch)
    return out


# -- the registry and keys -------------------------------------------------------------------


def setup_registry(system: Runtime) -> None:
    """Stations, actors and the 2021–2022 promise, as the demo registers them."""
    for code, name, municipality in STATIONS:
        system.registry.register_station(
            SYSTEM, StationIn(code=code, name=name, municipality=municipality)
        )
    for code, name, kind in ACTORS:
        system.registry.register_actor(
            SYSTEM, ActorIn.model_validate({"code": code, "name": name, "kind": kind})
        )
    system.registry.make_promise(
        SYSTEM,
        PromiseIn.model_validate(
            {
                "code": PROMISE,
                "title": "Medborgarlöfte 2021–2022: tryggare stationsområden",
                "period_start": PERIOD_START,
                "period_end": PERIOD_END,
                "stations": ALL,
                "parties": [a[0] for a in ACTORS],
                "commitments": _commitments(),
            }
        ),
    )


@dataclass(frozen=True)
class Keys:
    partner: str
    steering: str
    auditor: str


def create_keys(system: Runtime) -> Keys:
    return Keys(
        partner=system.create_key(Role.partner, PARTNER, "bench partner")[1],
        steering=system.create_key(Role.steering, None, "bench steering")[1],
        auditor=system.create_key(Role.auditor, None, "bench auditor")[1],
    )


# -- bulk loading ----------------------------------------------------------------------------


def load(
    system: Runtime,
    events: int,
    *,
    seed: int = 7,
    prefix: str = "b",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Record ``events`` entries through ``record_entries`` in 1,000-item batches per
    (type, actor); returns the number stored."""
    buffers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    stored = 0

    def flush(key: tuple[str, str]) -> None:
        nonlocal stored
        typ, actor = key
        bodies = buffers.pop(key)
        who = Principal("bench", Role.partner, actor)
        if typ == "activity":
            stored += system.entries.record_entries(
                ACTIVITY, who, [ActivityIn.model_validate(b) for b in bodies]
            ).created
        else:
            stored += system.entries.record_entries(
                OBSERVATION, who, [ObservationIn.model_validate(b) for b in bodies]
            ).created
        if progress is not None:
            progress(stored)

    stream = items(seed, prefix)
    for _ in range(events):
        typ, actor, body = next(stream)
        buffer = buffers.setdefault((typ, actor), [])
        buffer.append(body)
        if len(buffer) >= BATCH:
            flush((typ, actor))
    for key in list(buffers):
        flush(key)
    return stored


def stored_rows(system: Runtime, actor: str, bodies: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The (originator_id, originator_version, topic, state) rows the ledger would store for
    these activity bodies: the same bytes, so raw baselines write the same payload sizes."""
    rows = []
    for body in bodies:
        entry = ActivityIn.model_validate(body)
        stored = system.entries.first_event(ACTIVITY, actor, entry).stored
        rows.append((stored.originator_id, stored.originator_version, stored.topic, stored.state))
    return rows

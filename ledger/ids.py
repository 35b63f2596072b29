"""Deterministic aggregate ids.

Ids derived from natural keys make creation idempotent and race-safe: two
requests that create "the same thing" produce the same aggregate id, and the
event store's unique (originator_id, version) key lets exactly one of them win.
"""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6e25d46c-afeb-444d-8a6f-7472796767a1")


def station_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"station/{code}")


def actor_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"actor/{code}")


def promise_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"promise/{code}")


def action_plan_id(promise: UUID, station_code: str) -> UUID:
    return uuid5(NAMESPACE, f"action-plan/{promise}/{station_code}")


def activity_id(actor_code: str, external_id: str) -> UUID:
    """One activity per (actor, external_id): the partner's retry lands on the same id."""
    return uuid5(NAMESPACE, f"activity/{actor_code}/{external_id}")


def observation_id(actor_code: str, external_id: str) -> UUID:
    return uuid5(NAMESPACE, f"observation/{actor_code}/{external_id}")


def index_id(name: str) -> UUID:
    """The id of an append-only index log (e.g. every registered station)."""
    return uuid5(NAMESPACE, f"index/{name}")

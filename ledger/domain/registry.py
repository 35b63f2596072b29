"""Stations and actors: the places and the organisations of the promise."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.domain.base import LedgerAggregate


class Station(LedgerAggregate):
    """A railway station area. ``zones`` are the parts an entry may name."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return ids.station_id(code)

    @event("Registered")
    def __init__(self, code: str, name: str, municipality: str, zones: list[str]) -> None:
        self.code = code
        self.name = name
        self.municipality = municipality
        self.zones = list(zones)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "municipality": self.municipality,
            "zones": list(self.zones),
            "version": self.version,
        }


class Actor(LedgerAggregate):
    """An organisation that promises and delivers activities (never a person)."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return ids.actor_id(code)

    @event("Registered")
    def __init__(self, code: str, name: str, kind: str) -> None:
        self.code = code
        self.name = name
        self.kind = kind

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "kind": self.kind, "version": self.version}

"""Action plans (åtgärdsplaner): one per station and promise, holding measures.

A measure moves planned → started → done, and may be cancelled before it is done::

    planned ──► started ──► done
       │  └──────────────────▲
       └──► cancelled ◄── started
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.domain.base import LedgerAggregate
from ledger.errors import AlreadyExists, InvalidTransition, NotFound


class MeasureStatus(StrEnum):
    planned = "planned"
    started = "started"
    done = "done"
    cancelled = "cancelled"


ALLOWED_TRANSITIONS: dict[MeasureStatus, frozenset[MeasureStatus]] = {
    MeasureStatus.planned: frozenset(
        {MeasureStatus.started, MeasureStatus.done, MeasureStatus.cancelled}
    ),
    MeasureStatus.started: frozenset({MeasureStatus.done, MeasureStatus.cancelled}),
    MeasureStatus.done: frozenset(),
    MeasureStatus.cancelled: frozenset(),
}


@dataclass(frozen=True)
class Measure:
    code: str
    title: str
    owner: str
    due: str
    status: str
    updated_at: str
    problem: str | None = None  # what it is to solve
    place: str | None = None  # the zone of the station
    rationale: str | None = None  # why this measure
    #: What the measure answers: ``idea:<id>`` (a resident's adopted idea) or
    #: ``finding:<walk id>/<code>`` (a safety walk's finding).
    links: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, str | list[str] | None]:
        return {
            "code": self.code,
            "title": self.title,
            "owner": self.owner,
            "due": self.due,
            "status": self.status,
            "updated_at": self.updated_at,
            "problem": self.problem,
            "place": self.place,
            "rationale": self.rationale,
            "links": list(self.links),
        }


class ActionPlan(LedgerAggregate):
    @staticmethod
    def create_id(promise_id: str, station: str) -> UUID:
        return ids.action_plan_id(UUID(promise_id), station)

    @event("Created")
    def __init__(self, promise_id: str, station: str) -> None:
        self.promise_id = promise_id
        self.station = station
        self.measures: dict[str, Measure] = {}

    def add_measure(
        self,
        code: str,
        title: str,
        owner: str,
        due: str,
        problem: str | None = None,
        place: str | None = None,
        rationale: str | None = None,
    ) -> None:
        if code in self.measures:
            raise AlreadyExists(f"measure {code!r} already exists in this action plan")
        self._measure_added(
            code=code,
            title=title,
            owner=owner,
            due=due,
            problem=problem,
            place=place,
            rationale=rationale,
        )

    @event("MeasureAdded")
    def _measure_added(
        self,
        code: str,
        title: str,
        owner: str,
        due: str,
        problem: str | None = None,
        place: str | None = None,
        rationale: str | None = None,
    ) -> None:
        measure = Measure(
            code,
            title,
            owner,
            due,
            MeasureStatus.planned,
            self.modified_on_iso,
            problem=problem,
            place=place,
            rationale=rationale,
        )
        self.measures = {**self.measures, code: measure}

    def change_status(self, code: str, status: MeasureStatus, note: str | None) -> None:
        measure = self.measures.get(code)
        if measure is None:
            raise NotFound(f"no measure {code!r} in this action plan")
        current = MeasureStatus(measure.status)
        if status not in ALLOWED_TRANSITIONS[current]:
            raise InvalidTransition(
                f"measure {code!r} is {current}; it cannot become {status}",
                current=current.value,
            )
        self._status_changed(code=code, status=status.value, note=note)

    @event("MeasureStatusChanged")
    def _status_changed(self, code: str, status: str, note: str | None) -> None:
        measure = replace(self.measures[code], status=status, updated_at=self.modified_on_iso)
        self.measures = {**self.measures, code: measure}

    def link_measure(self, code: str, source: str) -> None:
        """Record that measure ``code`` answers ``source`` (``idea:…``, ``finding:…``); the source
        keeps its own link back, so either side leads to the other."""
        measure = self.measures.get(code)
        if measure is None:
            raise NotFound(f"no measure {code!r} in this action plan")
        if source not in measure.links:
            self._measure_linked(code=code, source=source)

    @event("MeasureLinked")
    def _measure_linked(self, code: str, source: str) -> None:
        measure = self.measures[code]
        self.measures = {**self.measures, code: replace(measure, links=(*measure.links, source))}

    @property
    def modified_on_iso(self) -> str:
        return self.modified_on.isoformat()

    def as_dict(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "promise_id": self.promise_id,
            "station": self.station,
            "measures": [m.as_dict() for m in self.measures.values()],
            "version": self.version,
        }

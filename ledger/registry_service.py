"""Commands and queries on the registry: stations, actors, promises, action plans.

Each kind of registry aggregate has an append-only index log (``EventSourcedLog``)
saved atomically with the aggregate, so lists need no projection and no scan of
the whole log. Ids are derived from codes, so registering a code twice is a
clean ``AlreadyExists`` even when two requests race.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, EventSourcedLog
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError

from ledger import ids
from ledger.access import Permission, Principal
from ledger.application import Ledger
from ledger.domain import ActionPlan, Actor, Promise, Station
from ledger.domain.base import event_time
from ledger.domain.findings import WalkFindings, findings_id
from ledger.domain.plans import MeasureStatus
from ledger.errors import (
    AlreadyExists,
    FieldError,
    InvalidInput,
    NotFound,
    VersionConflict,
)
from ledger.inputs import ActionPlanIn, ActorIn, MeasureIn, MeasureStatusIn, PromiseIn, StationIn
from ledger.receipts import Receipt, receipt_for

A = TypeVar("A", bound=Aggregate)
SAVE_ATTEMPTS = 5


class Indexed(DomainEvent):
    """One line of an index log: an aggregate of the log's kind was created."""

    aggregate_id: UUID


class RegistryCommands:
    """Stations, actors, promises and action plans, on the ledger's application (``app``)."""

    def __init__(self, app: Ledger) -> None:
        self.app = app
        # Stations and actors never change once registered: what was read is kept.
        self._station_cache: dict[str, Station] = {}
        self._actor_cache: dict[str, Actor] = {}
        self._registered: dict[UUID, Station | Actor] = {}

    def _index(self, name: str) -> EventSourcedLog[Indexed]:
        return EventSourcedLog(self.app.events, ids.index_id(name), Indexed)

    def _create_indexed(self, index: str, aggregate: Aggregate, what: str) -> Receipt:
        """Save a new aggregate with its index line; the id's uniqueness decides duplicates."""
        log = self._index(index)
        pending = aggregate.collect_events()
        for _attempt in range(SAVE_ATTEMPTS):
            last = log.get_last()
            line = Indexed(  # type: ignore[call-arg]  # the library types DomainEvent's fields only
                originator_id=log.originator_id,
                originator_version=(last.originator_version + 1) if last else 1,
                timestamp=event_time(),
                aggregate_id=aggregate.id,
            )
            try:
                recordings = self.app.save(*pending, line)
            except IntegrityError:
                if self._exists(aggregate.id):
                    raise AlreadyExists(f"{what} already exists") from None
                continue  # another creation took the index slot: take the next one
            return receipt_for(recordings[0], id=aggregate.id, version=aggregate.version)
        raise VersionConflict(f"could not register {what} under concurrent load; retry")

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.app.recorder.select_events(aggregate_id, limit=1))

    def _listed(self, index: str, cls: type[A]) -> list[A]:
        out: list[A] = []
        for line in self._index(index).get():
            # Stations and actors never change once registered: keep what was read.
            kept = self._registered.get(line.aggregate_id)
            if isinstance(kept, cls):
                out.append(kept)
                continue
            found = self._get(line.aggregate_id, cls, "")
            if isinstance(found, Station | Actor):
                self._registered[line.aggregate_id] = found
            out.append(found)
        return out

    def _get(self, aggregate_id: UUID, cls: type[A], what: str) -> A:
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {what}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what}")
        return aggregate

    # -- stations and actors ----------------------------------------------------------------

    def register_station(self, who: Principal, station: StationIn) -> Receipt:
        who.require(Permission.manage_registry)
        aggregate = Station(
            code=station.code,
            name=station.name,
            municipality=station.municipality,
            zones=[z.value for z in station.zones],
        )
        return self._create_indexed("stations", aggregate, f"station {station.code!r}")

    def register_actor(self, who: Principal, actor: ActorIn) -> Receipt:
        who.require(Permission.manage_registry)
        aggregate = Actor(code=actor.code, name=actor.name, kind=actor.kind.value)
        return self._create_indexed("actors", aggregate, f"actor {actor.code!r}")

    def knows_station(self, code: str) -> bool:
        """Whether ``find_station(code)`` answers from memory, without the database."""
        return code in self._station_cache

    def find_station(self, code: str) -> Station | None:
        """A registered station, or None. Stations never change once registered, so the
        answer is cached for the life of the process."""
        station = self._station_cache.get(code)
        if station is None:
            try:
                station = self._get(ids.station_id(code), Station, "")
            except NotFound:
                return None
            self._station_cache[code] = station
        return station

    def find_actor(self, code: str) -> Actor | None:
        actor = self._actor_cache.get(code)
        if actor is None:
            try:
                actor = self._get(ids.actor_id(code), Actor, "")
            except NotFound:
                return None
            self._actor_cache[code] = actor
        return actor

    def get_station(self, who: Principal, code: str) -> Station:
        who.require(Permission.read)
        station = self.find_station(code)
        if station is None:
            raise NotFound(f"no station {code!r}")
        return station

    def get_actor(self, who: Principal, code: str) -> Actor:
        who.require(Permission.read)
        actor = self.find_actor(code)
        if actor is None:
            raise NotFound(f"no actor {code!r}")
        return actor

    def list_stations(self, who: Principal) -> list[Station]:
        who.require(Permission.read)
        return self._listed("stations", Station)

    def list_actors(self, who: Principal) -> list[Actor]:
        who.require(Permission.read)
        return self._listed("actors", Actor)

    def stations_of(self, actor: str) -> frozenset[str]:
        """The stations an actor's commitments cover, in every promise: its own stations."""
        return frozenset(
            station
            for promise in self._listed("promises", Promise)
            for c in promise.commitments
            if c.actor == actor
            for station in c.stations
        )

    # -- promises ---------------------------------------------------------------------------

    def make_promise(self, who: Principal, promise: PromiseIn) -> Receipt:
        who.require(Permission.manage_registry)
        errors: list[FieldError] = []
        for i, code in enumerate(promise.stations):
            if self.find_station(code) is None:
                errors.append(FieldError(f"stations.{i}", f"unknown station {code!r}"))
        for i, code in enumerate(promise.parties):
            if self.find_actor(code) is None:
                errors.append(FieldError(f"parties.{i}", f"unknown actor {code!r}"))
        seen: set[str] = set()
        commitments: list[dict[str, object]] = []
        for i, c in enumerate(promise.commitments):
            where = f"commitments.{i}"
            if c.code in seen:
                errors.append(FieldError(f"{where}.code", f"{c.code!r} is used twice"))
            seen.add(c.code)
            if c.actor not in promise.parties:
                errors.append(FieldError(f"{where}.actor", f"{c.actor!r} is not a party"))
            due = c.target.due
            if due is not None and not promise.period_start <= due <= promise.period_end:
                errors.append(
                    FieldError(f"{where}.target.due", "must lie within the promise's period")
                )
            stations = c.stations if c.stations is not None else list(promise.stations)
            for j, s in enumerate(stations):
                if s not in promise.stations:
                    errors.append(
                        FieldError(f"{where}.stations.{j}", f"{s!r} is not a promise station")
                    )
            commitments.append(
                {
                    "code": c.code,
                    "actor": c.actor,
                    "kind": c.kind.value,
                    "stations": stations,
                    "target": c.target.model_dump(mode="json"),
                    "description": c.description or "",
                }
            )
        if errors:
            raise InvalidInput(errors)
        aggregate = Promise(
            code=promise.code,
            title=promise.title,
            period_start=promise.period_start.isoformat(),
            period_end=promise.period_end.isoformat(),
            stations=list(promise.stations),
            parties=list(promise.parties),
            commitments=commitments,
            description=promise.description,
        )
        return self._create_indexed("promises", aggregate, f"promise {promise.code!r}")

    def get_promise(self, who: Principal, id_or_code: str) -> Promise:
        who.require(Permission.read)
        return self._get(
            _id_or_code(id_or_code, ids.promise_id), Promise, f"promise {id_or_code!r}"
        )

    def list_promises(self, who: Principal) -> list[Promise]:
        who.require(Permission.read)
        return self._listed("promises", Promise)

    # -- action plans -----------------------------------------------------------------------

    def create_action_plan(self, who: Principal, plan: ActionPlanIn) -> Receipt:
        who.require(Permission.manage_registry)
        promise = self._get(
            _id_or_code(plan.promise, ids.promise_id), Promise, f"promise {plan.promise!r}"
        )
        errors: list[FieldError] = []
        if plan.station not in promise.stations:
            errors.append(
                FieldError("station", f"{plan.station!r} is not a station of the promise")
            )
        errors.extend(self._measure_errors(plan.measures, "measures", plan.station))
        if errors:
            raise InvalidInput(errors)
        aggregate = ActionPlan(promise_id=str(promise.id), station=plan.station)
        for measure in plan.measures:
            _add(aggregate, measure)
        return self._create_indexed(
            "action-plans", aggregate, f"an action plan for {plan.station!r} in this promise"
        )

    def add_measure(
        self,
        who: Principal,
        plan_id: UUID,
        measure: MeasureIn,
        expected_version: int | None = None,
    ) -> Receipt:
        who.require(Permission.manage_registry)
        plan = self._plan_at(plan_id, expected_version)
        errors = self._measure_errors([measure], "", plan.station)
        if errors:
            raise InvalidInput(errors)
        _add(plan, measure)
        return self._save_plan(plan)

    def change_measure_status(
        self, who: Principal, plan_id: UUID, measure_code: str, change: MeasureStatusIn
    ) -> Receipt:
        who.require(Permission.manage_registry)
        plan = self._plan_at(plan_id, change.expected_version)
        plan.change_status(measure_code, MeasureStatus(change.status), change.note)
        return self._save_plan(plan)

    def get_action_plan(self, who: Principal, plan_id: UUID) -> ActionPlan:
        who.require(Permission.read)
        return self._get(plan_id, ActionPlan, f"action plan {plan_id}")

    def list_action_plans(
        self, who: Principal, station: str | None = None, promise: str | None = None
    ) -> list[ActionPlan]:
        who.require(Permission.read)
        plans = self._listed("action-plans", ActionPlan)
        if station:
            plans = [p for p in plans if p.station == station]
        if promise:
            wanted = str(_id_or_code(promise, ids.promise_id))
            plans = [p for p in plans if p.promise_id == wanted]
        return plans

    def _measure_errors(
        self, measures: list[MeasureIn], prefix: str, station: str
    ) -> list[FieldError]:
        errors = []
        zones = found.zones if (found := self.find_station(station)) else []
        for i, m in enumerate(measures):
            at = f"{prefix}.{i}." if prefix else ""
            if self.find_actor(m.owner) is None:
                errors.append(FieldError(f"{at}owner", f"unknown actor {m.owner!r}"))
            if m.place is not None and m.place.value not in zones:
                errors.append(
                    FieldError(f"{at}place", f"station {station!r} has no zone {m.place.value!r}")
                )
            if m.finding is not None and not self._finding_at(m.finding, station):
                errors.append(
                    FieldError(f"{at}finding", f"no finding {m.finding!r} of a walk at {station!r}")
                )
        return errors

    def _finding_at(self, reference: str, station: str) -> bool:
        """Whether ``<walk id>/<code>`` names a recorded finding of a walk at ``station``."""
        walk, _, code = reference.partition("/")
        try:
            found: object = self.app.repository.get(findings_id(walk))
        except AggregateNotFoundError:
            return False
        return isinstance(found, WalkFindings) and found.station == station and found.has(code)

    def _plan_at(self, plan_id: UUID, expected_version: int | None) -> ActionPlan:
        plan = self._get(plan_id, ActionPlan, f"action plan {plan_id}")
        if expected_version is not None and plan.version != expected_version:
            raise VersionConflict(
                f"expected_version {expected_version} is stale; the plan is at {plan.version}",
                current_version=plan.version,
            )
        return plan

    def _save_plan(self, plan: ActionPlan) -> Receipt:
        try:
            recordings = self.app.save(plan)
        except IntegrityError:
            raise VersionConflict("another change was saved first; reload and retry") from None
        return receipt_for(recordings[-1], id=plan.id, version=plan.version)


def _add(plan: ActionPlan, measure: MeasureIn) -> None:
    code = measure.code or f"m{len(plan.measures) + 1}"
    plan.add_measure(
        code=code,
        title=measure.title,
        owner=measure.owner,
        due=measure.due.isoformat(),
        problem=measure.problem,
        place=measure.place.value if measure.place else None,
        rationale=measure.rationale,
    )
    if measure.finding is not None:
        plan.link_measure(code, f"finding:{measure.finding}")


def _id_or_code(value: str, from_code: Callable[[str], UUID]) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        return from_code(value)

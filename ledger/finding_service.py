"""Safety-walk findings: recorded after a walk, answered by action-plan measures.

The party that walked (its partner key) or an administrator records what the walk found
(``POST /v1/activities/{id}/findings``). A measure names the finding it answers
(``MeasureIn.finding``, checked by ``RegistryCommands``); the finding's view lists the
measures that name it, so the finding leads to the measure and the measure back.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger.access import Permission, Principal, Role
from ledger.application import Ledger
from ledger.domain.entries import Activity
from ledger.domain.findings import WalkFindings, findings_id
from ledger.errors import EntryRetracted, FieldError, InvalidInput, NotFound, VersionConflict
from ledger.inputs import FindingsIn
from ledger.receipts import Receipt, receipt_for
from ledger.registry_service import RegistryCommands
from ledger.taxonomy import ActivityKind
from ledger.texts import Sealer


class FindingCommands:
    def __init__(self, app: Ledger, registry: RegistryCommands) -> None:
        self.app = app
        self.registry = registry

    def record(self, who: Principal, walk_id: UUID, body: FindingsIn) -> Receipt:
        walk = self._walk(who, walk_id)
        station = self.registry.find_station(walk.station)
        zones = station.zones if station else []
        errors: list[FieldError] = []
        for i, f in enumerate(body.findings):
            if f.zone is not None and f.zone.value not in zones:
                errors.append(
                    FieldError(
                        f"findings.{i}.zone", f"{walk.station!r} has no zone {f.zone.value!r}"
                    )
                )
            if f.responsible is not None and self.registry.find_actor(f.responsible) is None:
                errors.append(
                    FieldError(f"findings.{i}.responsible", f"unknown actor {f.responsible!r}")
                )
        if errors:
            raise InvalidInput(errors)
        aggregate_id = findings_id(walk_id)
        existing = self._existing(aggregate_id)
        codes = (
            existing.next_codes(len(body.findings))
            if existing
            else [f"f{i}" for i in range(1, len(body.findings) + 1)]
        )
        sealer = Sealer(str(aggregate_id))
        sealed = [
            {
                "code": code,
                "zone": f.zone.value if f.zone else None,
                "problem": sealer.text("problem", f.problem),
                "proposal": sealer.text("proposal", f.proposal) if f.proposal else None,
                "responsible": f.responsible,
            }
            for code, f in zip(codes, body.findings, strict=True)
        ]
        if existing is None:
            aggregate = WalkFindings(
                walk_id=str(walk_id), station=walk.station, actor=walk.actor, findings=sealed
            )
        else:
            aggregate = existing
            aggregate.add(sealed)
        try:
            recordings = self.app.save(aggregate, texts=sealer.rows)
        except IntegrityError:
            raise VersionConflict("findings were recorded at the same moment; retry") from None
        return receipt_for(recordings[-1], id=aggregate.id, version=aggregate.version)

    def _walk(self, who: Principal, walk_id: UUID) -> Activity:
        """The walk, if ``who`` walked it (its partner key) or administers the ledger."""
        try:
            walk: object = self.app.repository.get(walk_id)
        except AggregateNotFoundError:
            raise NotFound(f"no activity with id {walk_id}") from None
        if not isinstance(walk, Activity):
            raise NotFound(f"no activity with id {walk_id}")
        if who.role is Role.partner:
            if who.actor != walk.actor:  # as if it did not exist: ids cannot be probed
                raise NotFound(f"no activity with id {walk_id}")
        else:
            who.require(Permission.manage_registry)
        if walk.kind != ActivityKind.safety_walk.value:
            raise InvalidInput.one(
                "activity", f"findings belong to a safety walk, not a {walk.kind}"
            )
        if walk.retracted:
            raise EntryRetracted("this walk was retracted; its findings cannot be recorded")
        return walk

    def _existing(self, aggregate_id: UUID) -> WalkFindings | None:
        try:
            found: object = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, WalkFindings) else None

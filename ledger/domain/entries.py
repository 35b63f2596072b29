"""Ledger entries: activities (what an actor did) and observations (lägesbild inputs).

An entry is recorded once, may be corrected any number of times (each with a
reason), and may be retracted once. Nothing is updated in place or deleted: the
current state is the fold of its events, and the history is always readable.

Invariant: event payloads are never shared with aggregate state (every dict is
copied), so the bytes stored for an event are what was said at that moment.

Free text (notes, reasons, the text details) is never in an event: the event holds a
reference that commits to it, and the text lives in an erasable side table
(``ledger.texts``). ``Erased`` records that an administrator erased texts: which
fields, their references, why (itself a reference) and which key did it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.domain.base import LedgerAggregate
from ledger.errors import EntryRetracted, InvalidInput


class Entry(LedgerAggregate):
    """Behaviour shared by activities and observations."""

    #: Fields a correction may change. Identity (actor, external_id) and type never change.
    CORRECTABLE: ClassVar[frozenset[str]] = frozenset()
    #: The field holding the entry's type (``kind`` or ``category``).
    TYPE_FIELD: ClassVar[str] = ""

    # Set by each subclass's "Recorded" event. Declared for type checkers only: the
    # library would take class annotations for constructor arguments.
    if TYPE_CHECKING:
        actor: str
        external_id: str
        content_hash: str
        retracted: bool
        retraction_reason: dict[str, str] | None
        erased_fields: list[str]

    class Corrected(LedgerAggregate.Event):
        changes: dict[str, Any]
        reason: dict[str, str]  # a text reference (ledger.texts)

        def apply(self, aggregate: LedgerAggregate) -> None:
            assert isinstance(aggregate, Entry)
            for name, value in self.changes.items():
                setattr(aggregate, name, dict(value) if isinstance(value, dict) else value)

    class Retracted(LedgerAggregate.Event):
        reason: dict[str, str]  # a text reference (ledger.texts)

        def apply(self, aggregate: LedgerAggregate) -> None:
            assert isinstance(aggregate, Entry)
            aggregate.retracted = True
            aggregate.retraction_reason = self.reason

    class Erased(LedgerAggregate.Event):
        """Texts of this entry were erased: the fields named, the references whose texts
        were deleted, why (a reference too) and by which key. Never the text."""

        fields: list[str]
        refs: list[str]
        reason: dict[str, str]
        by: str

        def apply(self, aggregate: LedgerAggregate) -> None:
            assert isinstance(aggregate, Entry)
            erased = getattr(aggregate, "erased_fields", [])
            aggregate.erased_fields = sorted({*erased, *self.fields})

    def correct(self, changes: dict[str, Any], reason: dict[str, str]) -> None:
        self.ensure_not_retracted()
        unknown = sorted(set(changes) - self.CORRECTABLE)
        if unknown:
            raise InvalidInput.one(
                f"changes.{unknown[0]}",
                f"cannot be corrected; correctable fields: {', '.join(sorted(self.CORRECTABLE))}",
            )
        if not changes:
            raise InvalidInput.one("changes", "changes nothing; the entry already has these values")
        self.trigger_event(
            self.Corrected,
            changes={k: (dict(v) if isinstance(v, dict) else v) for k, v in changes.items()},
            reason=reason,
        )

    def retract(self, reason: dict[str, str]) -> None:
        self.ensure_not_retracted()
        self.trigger_event(self.Retracted, reason=reason)

    def erase(
        self, fields: Sequence[str], refs: Sequence[str], reason: dict[str, str], by: str
    ) -> None:
        self.trigger_event(self.Erased, fields=list(fields), refs=list(refs), reason=reason, by=by)

    def ensure_not_retracted(self) -> None:
        if self.retracted:
            raise EntryRetracted(
                f"this {type(self).__name__.lower()} was retracted; it cannot change any more"
            )

    def state(self) -> dict[str, Any]:
        """The current values of every correctable field."""
        return {
            name: (dict(v) if isinstance(v := getattr(self, name), dict) else v)
            for name in sorted(self.CORRECTABLE)
        }

    def as_dict(self) -> dict[str, Any]:
        """Current state as one flat object (what ``GET /v1/<entries>/{id}`` returns, once
        its text references are revealed, ``ledger.texts``)."""
        return {
            "id": str(self.id),
            "actor": self.actor,
            "external_id": self.external_id,
            self.TYPE_FIELD: getattr(self, self.TYPE_FIELD),
            **self.state(),
            "status": "retracted" if self.retracted else "active",
            "retraction_reason": self.retraction_reason,
            "erased_fields": list(getattr(self, "erased_fields", [])),
            "version": self.version,
            "recorded_at": self.created_on.isoformat(),
            "updated_at": self.modified_on.isoformat(),
        }


class Activity(Entry):
    CORRECTABLE = frozenset(
        {"station", "zone", "started_at", "ended_at", "staff_count", "details", "note"}
    )
    TYPE_FIELD = "kind"

    @staticmethod
    def create_id(actor: str, external_id: str) -> UUID:
        return ids.activity_id(actor, external_id)

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
        note: dict[str, str] | None,
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
        self.retracted = False
        self.retraction_reason = None


class Observation(Entry):
    CORRECTABLE = frozenset({"station", "zone", "observed_at", "count", "severity", "note"})
    TYPE_FIELD = "category"

    @staticmethod
    def create_id(actor: str, external_id: str) -> UUID:
        return ids.observation_id(actor, external_id)

    @event("Recorded")
    def __init__(
        self,
        actor: str,
        external_id: str,
        category: str,
        station: str,
        zone: str | None,
        observed_at: str,
        count: int,
        severity: str,
        note: dict[str, str] | None,
        content_hash: str,
    ) -> None:
        self.actor = actor
        self.external_id = external_id
        self.category = category
        self.station = station
        self.zone = zone
        self.observed_at = observed_at
        self.count = count
        self.severity = severity
        self.note = note
        self.content_hash = content_hash
        self.retracted = False
        self.retraction_reason = None

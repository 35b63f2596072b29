"""Residents' ideas (medborgardialog): sent without sign-in, decided by the steering group.

An idea is submitted once and decided at most until it is final::

    new ──► considered ──► adopted | declined
     └───────────────────► adopted | declined

Its text and every reply are free text, so the events hold references to them
(``ledger.texts``): an administrator can erase what should never have been written,
and every proof stays valid. Nothing about the sender is recorded: no name, contact,
address or cookie; the event's timestamp is when the idea arrived.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidTransition


class IdeaStatus(StrEnum):
    new = "new"
    considered = "considered"
    adopted = "adopted"
    declined = "declined"


#: A decided idea has an answer the public may read.
DECIDED = frozenset({IdeaStatus.considered, IdeaStatus.adopted, IdeaStatus.declined})
FINAL = frozenset({IdeaStatus.adopted, IdeaStatus.declined})


class Idea(LedgerAggregate):
    @staticmethod
    def create_id(idea_id: str) -> UUID:
        return UUID(idea_id)

    @event("Submitted")
    def __init__(
        self,
        idea_id: str,
        station: str,
        zone: str | None,
        category: str | None,
        text: dict[str, str],  # a text reference (ledger.texts)
    ) -> None:
        self.station = station
        self.zone = zone
        self.category = category
        self.text = dict(text)
        self.status = IdeaStatus.new.value
        self.reply: dict[str, str] | None = None
        self.measure: dict[str, str] | None = None
        self.decided_at: str | None = None

    def decide(
        self, status: IdeaStatus, reply: dict[str, str], measure: dict[str, str] | None
    ) -> None:
        current = IdeaStatus(self.status)
        if current in FINAL:
            raise InvalidTransition(
                f"this idea is already {current.value}; a final decision stands",
                current=current.value,
            )
        if status not in DECIDED:
            raise InvalidTransition(f"an idea cannot be decided as {status.value!r}")
        self._decided(status=status.value, reply=dict(reply), measure=measure)

    @event("Decided")
    def _decided(self, status: str, reply: dict[str, str], measure: dict[str, str] | None) -> None:
        self.status = status
        self.reply = dict(reply)
        self._reply_refs = [*getattr(self, "_reply_refs", []), reply["$text"]]
        self.measure = dict(measure) if measure else None
        self.decided_at = self.modified_on.isoformat()

    def erase(self, fields: list[str], refs: list[str], reason: dict[str, str], by: str) -> None:
        """Record that texts of this idea were erased (never the text itself)."""
        self._erased(fields=list(fields), refs=list(refs), reason=dict(reason), by=by)

    @event("Erased")
    def _erased(self, fields: list[str], refs: list[str], reason: dict[str, str], by: str) -> None:
        self.erased_fields = sorted({*getattr(self, "erased_fields", []), *fields})

    def refs_of(self, field: str) -> list[str]:
        """The references the idea holds in ``field`` (``text``, or ``reply`` of every
        decision, the current one included)."""
        if field == "text":
            return [self.text["$text"]]
        return list(getattr(self, "_reply_refs", []))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "station": self.station,
            "zone": self.zone,
            "category": self.category,
            "text": self.text,
            "status": self.status,
            "reply": self.reply,
            "measure": self.measure,
            "submitted_at": self.created_on.isoformat(),
            "decided_at": self.decided_at,
            "version": self.version,
        }

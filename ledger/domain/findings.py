"""What a safety walk (trygghetsvandring) found: a place, a problem, a proposed measure,
and the party it falls to.

Findings belong to the walk (an activity of kind ``safety_walk``) and are recorded by
the party that walked, or an administrator, after the walk; each gets a code (``f1``,
``f2``, …) so that an action-plan measure can name it (``MeasureIn.finding``) and the
finding's view can list the measures that answer it. The problem and the proposal are
free text, sealed like every other (``ledger.texts``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.ids import NAMESPACE


def findings_id(walk_id: UUID | str) -> UUID:
    return uuid5(NAMESPACE, f"findings/{walk_id}")


class WalkFindings(LedgerAggregate):
    @staticmethod
    def create_id(walk_id: str) -> UUID:
        return findings_id(walk_id)

    @event("Recorded")
    def __init__(
        self, walk_id: str, station: str, actor: str, findings: list[dict[str, Any]]
    ) -> None:
        self.walk_id = walk_id
        self.station = station
        self.actor = actor  # who walked: readers see its walks as they see its entries
        self.findings: list[dict[str, Any]] = [dict(f) for f in findings]

    def add(self, findings: list[dict[str, Any]]) -> None:
        # The walk, station and actor again: each event can be read on its own (projections).
        self._added(
            walk_id=self.walk_id,
            station=self.station,
            actor=self.actor,
            findings=[dict(f) for f in findings],
        )

    @event("Added")
    def _added(
        self, walk_id: str, station: str, actor: str, findings: list[dict[str, Any]]
    ) -> None:
        self.findings = [*self.findings, *(dict(f) for f in findings)]

    def next_codes(self, n: int) -> list[str]:
        start = len(self.findings) + 1
        return [f"f{i}" for i in range(start, start + n)]

    def has(self, code: str) -> bool:
        return any(f["code"] == code for f in self.findings)

"""What a write returns: where the event landed in the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording

from ledger.audit.leaf import canonical_originator_id, leaf_hash_of


@dataclass(frozen=True)
class Receipt:
    """``position`` is the event's place in the notification log (strictly increasing;
    on PostgreSQL numbers may be skipped). ``created`` is false for an idempotent replay,
    whose position is that of the original event. ``leaf_hash`` is the event's Merkle
    leaf hash, which an inclusion proof later ties to a signed checkpoint."""

    id: UUID
    position: int
    version: int
    recorded_at: str
    created: bool = True
    leaf_hash: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "position": self.position,
            "version": self.version,
            "recorded_at": self.recorded_at,
            "created": self.created,
            "leaf_hash": self.leaf_hash,
            **self.extra,
        }


def timestamp_of(event: Any) -> datetime:
    """When a stored domain event was recorded (the library's protocol type omits it)."""
    stamp: datetime = event.timestamp
    return stamp


def receipt_for(
    recording: Recording[UUID], *, id: UUID | None = None, version: int | None = None
) -> Receipt:
    """The receipt of one stored event: the aggregate, its version (or ``version``, for
    a save of several events), the position and the leaf hash."""
    event = recording.domain_event
    return Receipt(
        id=id or event.originator_id,
        position=recording.notification.id,
        version=version or event.originator_version,
        recorded_at=timestamp_of(event).isoformat(),
        leaf_hash=leaf_hash_for(recording.notification),
    )


def leaf_hash_for(stored: Any, position: int | None = None) -> str:
    """The Merkle leaf hash of a stored event or notification (hex): the receipt an
    auditor can later prove is in the log (see ``ledger.audit.leaf``)."""
    return leaf_hash_of(
        stored.id if position is None else position,
        canonical_originator_id(stored.originator_id),
        stored.originator_version,
        stored.topic,
        stored.state,
    ).hex()


@dataclass(frozen=True)
class BatchItemResult:
    index: int
    status: str  # "created" | "duplicate"
    receipt: Receipt

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "status": self.status, **self.receipt.as_dict()}


@dataclass(frozen=True)
class BatchReceipt:
    results: list[BatchItemResult]

    @property
    def created(self) -> int:
        return sum(1 for r in self.results if r.status == "created")

    @property
    def duplicates(self) -> int:
        return sum(1 for r in self.results if r.status == "duplicate")

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "results": [r.as_dict() for r in self.results],
        }

"""The promise (medborgarlöfte): its period, stations, parties and commitments."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.domain.base import LedgerAggregate


@dataclass(frozen=True)
class Commitment:
    """What one actor promised: ``target.count`` of ``kind`` per ``target.per`` at each station.

    ``metric`` says what is counted: activities, hours, or staff-hours.
    """

    code: str
    actor: str
    kind: str
    stations: tuple[str, ...]
    count: int
    per: str  # "period" | "week" | "month"
    metric: str  # "activities" | "hours" | "staff_hours"
    description: str
    due: str | None = None  # ISO date a per-period target is due (default: the period's end)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["stations"] = list(self.stations)
        d["target"] = {
            "count": d.pop("count"),
            "per": d.pop("per"),
            "metric": d.pop("metric"),
            "due": d.pop("due"),
        }
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Commitment:
        target = d["target"]
        assert isinstance(target, dict)
        stations = d["stations"]
        assert isinstance(stations, list)
        return cls(
            code=str(d["code"]),
            actor=str(d["actor"]),
            kind=str(d["kind"]),
            stations=tuple(stations),
            count=int(target["count"]),
            per=str(target["per"]),
            metric=str(target["metric"]),
            description=str(d.get("description") or ""),
            due=str(target["due"]) if target.get("due") else None,
        )


class Promise(LedgerAggregate):
    @staticmethod
    def create_id(code: str) -> UUID:
        return ids.promise_id(code)

    @event("Made")
    def __init__(
        self,
        code: str,
        title: str,
        period_start: str,
        period_end: str,
        stations: list[str],
        parties: list[str],
        commitments: list[dict[str, object]],
        description: str | None,
    ) -> None:
        self.code = code
        self.title = title
        self.period_start = period_start
        self.period_end = period_end
        self.stations = list(stations)
        self.parties = list(parties)
        self.commitments = [Commitment.from_dict(dict(c)) for c in commitments]
        self.description = description

    @property
    def start(self) -> date:
        return date.fromisoformat(self.period_start)

    @property
    def end(self) -> date:
        return date.fromisoformat(self.period_end)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "code": self.code,
            "title": self.title,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "stations": list(self.stations),
            "parties": list(self.parties),
            "commitments": [c.as_dict() for c in self.commitments],
            "description": self.description,
            "version": self.version,
        }

"""Trygghetsmätning results: the baseline the promise is followed up against.

Only aggregates are ever accepted: a share of respondents (0–1) and how many answered,
at least ``MIN_RESPONDENTS`` so that no answer can be traced to a person. One result
per (station, year, question): the id is derived from them, so sending it twice is a
clean ``409``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.ids import NAMESPACE

#: Fewer answers than this could point at a person: such a result is refused.
MIN_RESPONDENTS = 10


class SurveyResult(LedgerAggregate):
    @staticmethod
    def create_id(station: str, year: int, question: str) -> UUID:
        return survey_id(station, year, question)

    @event("Recorded")
    def __init__(
        self, station: str, year: int, question: str, share: float, respondents: int, source: str
    ) -> None:
        self.station = station
        self.year = year
        self.question = question
        self.share = share
        self.respondents = respondents
        self.source = source  # who recorded it: "admin" or the municipality's actor code

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "station": self.station,
            "year": self.year,
            "question": self.question,
            "share": self.share,
            "respondents": self.respondents,
            "source": self.source,
            "recorded_at": self.created_on.isoformat(),
        }


def survey_id(station: str, year: int, question: str) -> UUID:
    return uuid5(NAMESPACE, f"survey/{station}/{year}/{question.casefold()}")

"""Residents' ideas and the survey baseline: one row per idea, one per survey result.

Texts stay references here (``text_ref``, ``reply_ref``); reads put the texts back
(``ledger.texts``), so an erased text disappears from every view at once.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Float, Integer, MetaData, String, Table, insert, update

from ledger.texts import ref_of
from projections.base import Projection, Tables
from projections.events import LogEvent


class IdeaProjection(Projection):
    name = "ideas"
    aggregates = ("Idea",)
    topics = tuple(f"ledger.domain.ideas:Idea.{n}" for n in ("Submitted", "Decided"))

    def define(self, metadata: MetaData, prefix: str) -> Tables:
        ideas = Table(
            f"{prefix}ideas",
            metadata,
            Column("id", String(36), primary_key=True),
            Column("station", String(64), nullable=False, index=True),
            Column("zone", String(32)),
            Column("category", String(32)),
            Column("status", String(16), nullable=False),
            Column("text_ref", String(64)),
            Column("reply_ref", String(64)),
            Column("plan_id", String(36)),
            Column("measure_code", String(64)),
            Column("submitted_at", String(40), nullable=False),
            Column("decided_at", String(40)),
            Column("version", Integer, nullable=False),
        )
        return Tables(ideas=ideas)

    def apply(self, conn: Connection, tables: Tables, events: list[LogEvent]) -> None:
        t = tables.ideas
        for e in events:
            if e.aggregate != "Idea":
                continue
            if e.name == "Submitted":
                conn.execute(
                    insert(t),
                    {
                        "id": e.originator_id,
                        "station": e.data["station"],
                        "zone": e.data.get("zone"),
                        "category": e.data.get("category"),
                        "status": "new",
                        "text_ref": ref_of(e.data["text"]),
                        "submitted_at": e.recorded_at,
                        "version": e.version,
                    },
                )
            elif e.name == "Decided":
                measure = e.data.get("measure") or {}
                conn.execute(
                    update(t)
                    .where(t.c.id == e.originator_id)
                    .values(
                        status=e.data["status"],
                        reply_ref=ref_of(e.data["reply"]),
                        plan_id=measure.get("plan"),
                        measure_code=measure.get("code"),
                        decided_at=e.recorded_at,
                        version=e.version,
                    )
                )


class SurveyProjection(Projection):
    name = "surveys"
    aggregates = ("SurveyResult",)
    topics = ("ledger.domain.surveys:SurveyResult.Recorded",)

    def define(self, metadata: MetaData, prefix: str) -> Tables:
        surveys = Table(
            f"{prefix}surveys",
            metadata,
            Column("id", String(36), primary_key=True),
            Column("station", String(64), nullable=False, index=True),
            Column("year", Integer, nullable=False),
            Column("question", String(200), nullable=False),
            Column("share", Float, nullable=False),
            Column("respondents", Integer, nullable=False),
            Column("source", String(64), nullable=False),
            Column("recorded_at", String(40), nullable=False),
        )
        return Tables(surveys=surveys)

    def apply(self, conn: Connection, tables: Tables, events: list[LogEvent]) -> None:
        rows = [
            {
                "id": e.originator_id,
                "station": e.data["station"],
                "year": e.data["year"],
                "question": e.data["question"],
                "share": e.data["share"],
                "respondents": e.data["respondents"],
                "source": e.data["source"],
                "recorded_at": e.recorded_at,
            }
            for e in events
            if e.aggregate == "SurveyResult" and e.name == "Recorded"
        ]
        if rows:
            conn.execute(insert(tables.surveys), rows)


class FindingProjection(Projection):
    """One row per safety-walk finding; the measures answering it are in the action
    plans' links (``finding:<walk>/<code>``)."""

    name = "findings"
    aggregates = ("WalkFindings",)
    topics = tuple(f"ledger.domain.findings:WalkFindings.{n}" for n in ("Recorded", "Added"))

    def define(self, metadata: MetaData, prefix: str) -> Tables:
        findings = Table(
            f"{prefix}findings",
            metadata,
            Column("walk_id", String(36), primary_key=True),
            Column("code", String(8), primary_key=True),
            Column("station", String(64), nullable=False, index=True),
            Column("actor", String(64), nullable=False),
            Column("zone", String(32)),
            Column("problem_ref", String(64)),
            Column("proposal_ref", String(64)),
            Column("responsible", String(64)),
            Column("recorded_at", String(40), nullable=False),
        )
        return Tables(findings=findings)

    def apply(self, conn: Connection, tables: Tables, events: list[LogEvent]) -> None:
        rows = [
            {
                "walk_id": e.data["walk_id"],
                "code": f["code"],
                "station": e.data["station"],
                "actor": e.data["actor"],
                "zone": f.get("zone"),
                "problem_ref": ref_of(f.get("problem")),
                "proposal_ref": ref_of(f.get("proposal")),
                "responsible": f.get("responsible"),
                "recorded_at": e.recorded_at,
            }
            for e in events
            if e.aggregate == "WalkFindings"
            for f in e.data["findings"]
        ]
        if rows:
            conn.execute(insert(tables.findings), rows)

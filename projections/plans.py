"""Action plans: one row per measure, with its plan's station and promise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from projections.base import Projection, Tables
from projections.events import LogEvent


class ActionPlanProjection(Projection):
    name = "action_plans"
    aggregates = ("ActionPlan",)
    topics = tuple(
        f"ledger.domain.plans:ActionPlan.{n}"
        for n in ("Created", "MeasureAdded", "MeasureStatusChanged", "MeasureLinked")
    )

    def define(self, metadata: MetaData, prefix: str) -> Tables:
        plans = Table(
            f"{prefix}plans",
            metadata,
            Column("plan_id", String(36), primary_key=True),
            Column("promise_id", String(36), nullable=False),
            Column("station", String(64), nullable=False),
        )
        measures = Table(
            f"{prefix}measures",
            metadata,
            Column("plan_id", String(36), primary_key=True),
            Column("code", String(64), primary_key=True),
            Column("promise_id", String(36), nullable=False),
            Column("station", String(64), nullable=False),
            Column("title", String(200), nullable=False),
            Column("owner", String(64), nullable=False),
            Column("due", Date, nullable=False),
            Column("status", String(16), nullable=False),
            Column("updated_at", String(40), nullable=False),
            Column("problem", Text),
            Column("place", String(32)),
            Column("rationale", Text),
        )
        # What each measure answers (``idea:<id>``); added after the first release, and
        # empty in older generations because no such event existed before it.
        links = Table(
            f"{prefix}measure_links",
            metadata,
            Column("plan_id", String(36), primary_key=True),
            Column("code", String(64), primary_key=True),
            Column("source", String(120), primary_key=True),
        )
        return Tables(plans=plans, measures=measures, links=links)

    def backfill(self, conn: Connection, tables: Tables, created: set[str]) -> None:
        """Nothing to fill: ``MeasureLinked`` events arrived with the links table."""

    def apply(self, conn: Connection, tables: Tables, events: list[LogEvent]) -> None:
        from datetime import date

        plans: dict[str, dict[str, Any]] = {}
        for e in events:
            if e.aggregate != "ActionPlan":
                continue
            plan_id = str(e.originator_id)
            if e.name == "Created":
                plan = {
                    "plan_id": plan_id,
                    "promise_id": e.data["promise_id"],
                    "station": e.data["station"],
                }
                conn.execute(insert(tables.plans), plan)
                plans[plan_id] = plan
            elif e.name == "MeasureAdded":
                known = plans.get(plan_id)
                if known is None:
                    found = (
                        conn.execute(select(tables.plans).where(tables.plans.c.plan_id == plan_id))
                        .mappings()
                        .one()
                    )
                    known = plans[plan_id] = dict(found)
                plan = known
                conn.execute(
                    insert(tables.measures),
                    {
                        "plan_id": plan_id,
                        "code": e.data["code"],
                        "promise_id": plan["promise_id"],
                        "station": plan["station"],
                        "title": e.data["title"],
                        "owner": e.data["owner"],
                        "due": date.fromisoformat(e.data["due"]),
                        "status": "planned",
                        "updated_at": e.recorded_at,
                        "problem": e.data.get("problem"),
                        "place": e.data.get("place"),
                        "rationale": e.data.get("rationale"),
                    },
                )
            elif e.name == "MeasureLinked":
                conn.execute(
                    insert(tables.links),
                    {"plan_id": plan_id, "code": e.data["code"], "source": e.data["source"]},
                )
            elif e.name == "MeasureStatusChanged":
                m = tables.measures
                conn.execute(
                    update(m)
                    .where(m.c.plan_id == plan_id, m.c.code == e.data["code"])
                    .values(status=e.data["status"], updated_at=e.recorded_at)
                )

"""Action plans: one row per measure, with its plan's station and promise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    or_,
    select,
    update,
)

from projections.base import Projection, Tables
from projections.events import LogEvent
from projections.history import copy_rows


class ActionPlanProjection(Projection):
    """Measures are few and change rarely, so their history is every version of every
    measure (``since`` → ``until`` positions) and the position each link was made at."""

    name = "action_plans"
    history_tables = frozenset({"measure_versions", "link_versions"})
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
        versions = Table(
            f"{prefix}measure_versions",
            metadata,
            Column("since", Integer, primary_key=True),
            *[Column(c.name, c.type, primary_key=c.primary_key) for c in measures.columns],
            Column("until", Integer),
        )
        link_versions = Table(
            f"{prefix}link_versions",
            metadata,
            Column("since", Integer, nullable=False),
            *[Column(c.name, c.type, primary_key=True) for c in links.columns],
        )
        return Tables(
            plans=plans,
            measures=measures,
            links=links,
            measure_versions=versions,
            link_versions=link_versions,
        )

    def backfill(self, conn: Connection, tables: Tables, created: set[str], position: int) -> None:
        """``MeasureLinked`` events arrived with the links table, so it needs nothing.
        History added to a generation starts with the measures as they stand (the runner
        records that "as of" reads before ``position`` need a rebuild)."""
        if tables.measure_versions.name in created:
            copy_rows(conn, tables.measure_versions, "since", position, tables.measures)
        if tables.link_versions.name in created:
            copy_rows(conn, tables.link_versions, "since", position, tables.links)

    def as_of(self, conn: Connection, tables: Tables, position: int) -> Tables:
        """Measures and links as they stood at ``position``."""
        v, lv = tables.measure_versions, tables.link_versions
        columns = [c.name for c in tables.measures.columns]
        measures = (
            select(*[v.c[c] for c in columns])
            .where(v.c.since <= position, or_(v.c.until.is_(None), v.c.until > position))
            .subquery(tables.measures.name)
        )
        links = (
            select(*[lv.c[c.name] for c in tables.links.columns])
            .where(lv.c.since <= position)
            .subquery(tables.links.name)
        )
        return Tables(measures=measures, links=links)

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
                self._new_version(conn, tables, e.position, plan_id, e.data["code"])
            elif e.name == "MeasureLinked":
                link = {"plan_id": plan_id, "code": e.data["code"], "source": e.data["source"]}
                conn.execute(insert(tables.links), link)
                conn.execute(insert(tables.link_versions), {**link, "since": e.position})
            elif e.name == "MeasureStatusChanged":
                m = tables.measures
                conn.execute(
                    update(m)
                    .where(m.c.plan_id == plan_id, m.c.code == e.data["code"])
                    .values(status=e.data["status"], updated_at=e.recorded_at)
                )
                self._new_version(conn, tables, e.position, plan_id, e.data["code"])

    def _new_version(
        self, conn: Connection, tables: Tables, position: int, plan_id: str, code: str
    ) -> None:
        """Close the measure's current version and record the one it has now."""
        v, m = tables.measure_versions, tables.measures
        conn.execute(
            update(v)
            .where(v.c.plan_id == plan_id, v.c.code == code, v.c.until.is_(None))
            .values(until=position)
        )
        now = select(m).where(m.c.plan_id == plan_id, m.c.code == code)
        copy_rows(conn, v, "since", position, now)

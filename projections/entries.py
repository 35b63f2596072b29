"""Activities and observations: current state per entry, and daily totals.

Free text is never here: ``note`` holds the reference of the entry's note and
``details`` keeps its text references (``ledger.texts``); reads put the texts back,
so an erased text is gone from the views the moment it is erased.

Invariant: every daily total equals the sum, over the *current* state of every
entry that is not retracted, of its contribution (1 entry; minutes and
staff-minutes for activities; reported count for observations). A correction
subtracts the old contribution and adds the new one; a retraction subtracts it.
Durations are whole minutes, so totals are exact integers whatever the order of
additions (incremental processing and a rebuild give identical numbers).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from functools import lru_cache
from typing import Any, ClassVar

import orjson
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    or_,
    select,
)

from ledger.storage import bulk_insert, insert_tuples
from ledger.texts import ref_of
from projections import history
from projections.base import Projection, Tables
from projections.events import LogEvent
from projections.timebox import iso_week, local_day, minutes_between, month

ENTRY_COLUMNS = ("station", "zone", "note")


def _iso(day: date | str) -> str:
    """Days travel as ISO strings inside a projection (bucket keys must compare equal
    whether a row came from an event or from the table; SQLite returns them as dates)."""
    return day if isinstance(day, str) else day.isoformat()


def details_json(details: Any) -> str:
    """The ``details`` column: the object as sorted, compact JSON. orjson, because
    re-encoding details with ``json.dumps`` was 9 % of a rebuild (benchmarks/NOTES.md);
    readers parse it, so rows written before (``json.dumps``'s spacing) read the same."""
    return orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode()


@lru_cache(maxsize=4096)
def _week_and_month(day: str) -> tuple[str, str]:
    d = date.fromisoformat(day)
    return iso_week(d), month(d)


class EntryProjection(Projection):
    """Shared mechanics; subclasses say what a row holds and what it contributes."""

    aggregate: ClassVar[str]
    type_field: ClassVar[str]
    time_field: ClassVar[str]
    #: (key columns beyond station/day, summed columns) of the daily table.
    daily_key: ClassVar[tuple[str, ...]]
    #: The daily table's own name (a new name when its key changes: an existing generation
    #: then gets the new table filled by ``backfill`` rather than a wrong old one).
    daily_name: ClassVar[str] = "daily"
    daily_sums: ClassVar[tuple[str, ...]]
    #: Keep weekly totals beside the daily ones: the default weekly summaries then read
    #: one row per (station, week, …) instead of up to seven.
    weekly: ClassVar[bool] = False
    history_tables = frozenset({"prior", "journal", "daily_snap", "weekly_snap", "snapshots"})

    def entry_columns(self) -> list[Column[Any]]:
        raise NotImplementedError

    def row_from(self, event: LogEvent) -> dict[str, Any]:
        raise NotImplementedError

    def derive(self, row: dict[str, Any]) -> None:
        """Fill the derived columns (day, week, minutes…) from the row's fields."""
        raise NotImplementedError

    def contribution(self, row: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
        key = tuple(row[c] for c in ("station", "day", *self.daily_key))
        return key, tuple(row[c] if c != "entries" else 1 for c in self.daily_sums)

    def define(self, metadata: MetaData, prefix: str) -> Tables:
        entries = Table(
            f"{prefix}entries",
            metadata,
            Column("id", String(36), primary_key=True),
            Column("actor", String(64), nullable=False),
            Column("external_id", String(128), nullable=False),
            Column(self.type_field, String(32), nullable=False),
            Column("station", String(64), nullable=False),
            Column("zone", String(32)),
            Column("day", Date, nullable=False),
            Column("week", String(8), nullable=False),
            *self.entry_columns(),
            Column("note", Text),
            Column("status", String(16), nullable=False),
            Column("version", Integer, nullable=False),
            Column("position", Integer, nullable=False),
            Column("recorded_at", String(40), nullable=False),
            Column("updated_at", String(40), nullable=False),
        )
        Index(f"{prefix}entries_station_day", entries.c.station, entries.c.day)
        Index(f"{prefix}entries_actor_day", entries.c.actor, entries.c.day)
        daily = Table(
            f"{prefix}{self.daily_name}",
            metadata,
            Column("station", String(64), primary_key=True),
            Column("day", Date, primary_key=True),
            *[Column(k, String(64), primary_key=True) for k in self.daily_key],
            Column("week", String(8), nullable=False),
            Column("month", String(7), nullable=False),
            *[Column(s, Integer, nullable=False) for s in self.daily_sums],
        )
        # Index names follow the table's: an older table of another name keeps its own.
        Index(f"{prefix}{self.daily_name}_day", daily.c.day)
        # Promise progress and actor summaries select by actor (and kind) over a day range.
        if by := self._by_actor(daily):
            named = "_".join(c.name for c in by)
            Index(f"{prefix}{self.daily_name}_{named}_day", *by, daily.c.day)
        tables = Tables(entries=entries, daily=daily)
        if self.weekly:
            tables.weekly = Table(
                f"{prefix}weekly",
                metadata,
                Column("station", String(64), primary_key=True),
                Column("week", String(8), primary_key=True),
                *[Column(k, String(64), primary_key=True) for k in self.daily_key],
                *[Column(s, Integer, nullable=False) for s in self.daily_sums],
            )
        self._define_history(metadata, prefix, tables)
        return tables

    def _define_history(self, metadata: MetaData, prefix: str, tables: Tables) -> None:
        """What "as of" reads use instead of replaying the log (``projections.history``)."""
        # A prior version is keyed by the position that replaced it and the entry.
        until = Column("until", Integer, primary_key=True)
        tables.prior = history.copy_table(metadata, f"{prefix}prior", tables.entries, until)
        journal = tables.journal = Table(
            f"{prefix}journal",
            metadata,
            Column("position", Integer, nullable=False),
            Column("station", String(64), nullable=False),
            Column("day", Date, nullable=False),
            *[Column(k, String(64), nullable=False) for k in self.daily_key],
            Column("week", String(8), nullable=False),
            Column("month", String(7), nullable=False),
            *[Column(s, Integer, nullable=False) for s in self.daily_sums],
        )
        # "As of" reads take the journal's tail by position, for one station or one actor.
        Index(f"{prefix}journal_station", journal.c.station, journal.c.position)
        if "actor" in self.daily_key:
            Index(f"{prefix}journal_actor", journal.c.actor, journal.c.position)
        for name, live in self._live_totals(tables).items():
            snap = Column("snap", Integer, primary_key=True)
            copy = history.copy_table(metadata, f"{prefix}{name}_snap", live, snap)
            setattr(tables, f"{name}_snap", copy)
        if by := self._by_actor(tables.daily_snap):
            # Promise progress reads one actor's kind over a day range, as on the live table.
            c = tables.daily_snap.c
            Index(f"{prefix}daily_snap_actor_day", c.snap, *by, c.day)
        tables.snapshots = history.snapshots_table(metadata, f"{prefix}snapshots")

    def _by_actor(self, table: Table) -> list[Column[Any]]:
        """The columns one actor's (kind's) totals are selected by; none without an actor."""
        if "actor" not in self.daily_key:
            return []
        return [table.c[k] for k in ("actor", "kind") if k in self.daily_key]

    def restart_history(self, conn: Connection, tables: Tables, position: int) -> None:
        """Snapshot the totals as they stand at ``position``, from which the history is
        whole again (after parked events were applied late: see ``ProjectionRunner``)."""
        for name, (live, copy) in self._totals(tables).items():
            conn.execute(delete(copy).where(copy.c.snap == position))
            s = tables.snapshots
            conn.execute(delete(s).where(s.c.tbl == name, s.c.position == position))
            history.snapshot(conn, tables.snapshots, name, live, copy, position)

    def _live_totals(self, tables: Tables) -> dict[str, Table]:
        return {"daily": tables.daily, **({"weekly": tables.weekly} if self.weekly else {})}

    def _totals(self, tables: Tables) -> dict[str, tuple[Table, Table]]:
        """Each totals table with its snapshot copies, by name."""
        return {n: (t, getattr(tables, f"{n}_snap")) for n, t in self._live_totals(tables).items()}

    def as_of(self, conn: Connection, tables: Tables, position: int) -> Tables:
        """The tables as they stood at ``position``, from the history kept beside them."""
        found = Tables(entries=history.entries_as_of(tables.entries, tables.prior, position))
        for name, (live, copy) in self._totals(tables).items():
            setattr(
                found,
                name,
                history.totals_as_of(
                    conn, tables.snapshots, name, live, copy, tables.journal, position
                ),
            )
        return found

    def backfill(self, conn: Connection, tables: Tables, created: set[str], position: int) -> None:
        """Fill derived tables that a newer version added to an existing generation: weekly
        totals are sums of the daily ones, so no replay is needed. History added to a
        generation starts with a snapshot of where it stands (the runner records that
        "as of" reads before ``position`` need a rebuild)."""
        if tables.daily.name in created:
            self._backfill_daily(conn, tables)
            if self.daily_name != "daily":  # the older table it replaces
                old = Table(tables.daily.name.removesuffix(self.daily_name) + "daily", MetaData())
                old.drop(conn, checkfirst=True)
        weekly = getattr(tables, "weekly", None)
        if weekly is not None and weekly.name in created:
            self._backfill_weekly(conn, tables, weekly)
        if tables.snapshots.name in created:
            self.restart_history(conn, tables, position)

    def _backfill_daily(self, conn: Connection, tables: Tables) -> None:
        """The daily totals from the entries' current state: what applying the log gives."""
        deltas: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(self.daily_sums))
        e = tables.entries
        for found in conn.execute(select(e).where(e.c.status == "active")).mappings():
            row = dict(found)
            row["day"] = _iso(row["day"])
            key, values = self.contribution(row)
            acc = deltas[key]
            for i, v in enumerate(values):
                acc[i] += v
        self._apply_deltas(conn, tables.daily, deltas)

    def _backfill_weekly(self, conn: Connection, tables: Tables, weekly: Table) -> None:
        d = tables.daily
        keys = [d.c.station, d.c.week, *[d.c[k] for k in self.daily_key]]
        sums = [func.sum(d.c[s]) for s in self.daily_sums]
        conn.execute(
            weekly.insert().from_select(
                ["station", "week", *self.daily_key, *self.daily_sums],
                select(*keys, *sums).group_by(*keys),
            )
        )

    def apply(self, conn: Connection, tables: Tables, events: list[LogEvent]) -> None:
        mine = [e for e in events if e.aggregate == self.aggregate]
        if not mine:
            return
        t = tables.entries
        ids = list(dict.fromkeys(e.originator_id for e in mine))
        # Only entries changed by a later event can be in the table already: a Recorded
        # event is an entry's first (the runner applies each event exactly once).
        recorded_here = {e.originator_id for e in mine if e.name == "Recorded"}
        stored = list({e.originator_id for e in mine} - recorded_here)
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(stored), 500):
            chunk = stored[start : start + 500]
            for r in conn.execute(select(t).where(t.c.id.in_(chunk))).mappings():
                row = dict(r)
                row["day"] = _iso(row["day"])
                rows[row["id"]] = row
        existing = set(rows)
        deltas: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(self.daily_sums))
        # What each event changed, kept for "as of" reads (projections.history).
        changes: dict[tuple[Any, ...], list[int]] = {}
        prior: list[dict[str, Any]] = []

        def contribute(row: dict[str, Any], sign: int) -> None:
            key, values = self.contribution(row)
            acc = deltas[key]
            change = changes.setdefault(key, [0] * len(values))
            for i, v in enumerate(values):
                acc[i] += sign * v
                change[i] += sign * v

        journal: list[tuple[Any, ...]] = []
        for e in mine:
            entry_id = e.originator_id
            stamp = e.recorded_at
            changes.clear()
            if e.name == "Recorded":
                row = self.row_from(e)
                row.update(id=entry_id, status="active", recorded_at=stamp)
            else:
                row = rows[entry_id]  # a later event without a Recorded one is a broken log
                prior.append({**row, "until": e.position})
                if row["status"] == "active":
                    contribute(row, -1)
                if e.name == "Corrected":
                    for field, value in e.data["changes"].items():
                        if field == "details":
                            value = details_json(value)
                        elif field == "note":
                            value = ref_of(value)
                        row[field] = value
                elif e.name == "Retracted":
                    row["status"] = "retracted"
            row.update(version=e.version, position=e.position, updated_at=stamp)
            self.derive(row)
            if row["status"] == "active":
                contribute(row, +1)
            rows[entry_id] = row
            journal.extend(self._journal_rows(e.position, changes))

        if existing:
            gone = sorted(existing)
            for start in range(0, len(gone), 500):
                conn.execute(delete(t).where(t.c.id.in_(gone[start : start + 500])))
        bulk_insert(conn, t, [rows[i] for i in ids])
        bulk_insert(conn, tables.prior, prior)
        insert_tuples(conn, tables.journal, journal)
        self._apply_deltas(conn, tables.daily, deltas)
        weekly = getattr(tables, "weekly", None)
        if weekly is not None:
            by_week: dict[tuple[Any, ...], list[int]] = defaultdict(
                lambda: [0] * len(self.daily_sums)
            )
            for (station, day, *rest), values in deltas.items():
                acc = by_week[(station, _week_and_month(day)[0], *rest)]
                for i, v in enumerate(values):
                    acc[i] += v
            self._apply_deltas(conn, weekly, by_week, period="week")
        last = max(e.position for e in events)
        history.after_page(conn, tables.snapshots, self._totals(tables), last, len(journal))

    def _journal_rows(
        self, position: int, changes: dict[tuple[Any, ...], list[int]]
    ) -> list[tuple[Any, ...]]:
        """One journal row per bucket an event changed (a correction within one bucket
        that changes nothing writes none), as a tuple in the journal's column order: a
        dict per row was the largest single cost of a rebuild (benchmarks/ANALYSIS.md)."""
        return [
            (position, station, day, *rest, *_week_and_month(day), *values)
            for (station, day, *rest), values in changes.items()
            if any(values)
        ]

    def _apply_deltas(
        self,
        conn: Connection,
        daily: Table,
        deltas: dict[tuple[Any, ...], list[int]],
        period: str = "day",
    ) -> None:
        keys = ["station", period, *self.daily_key]
        params: list[tuple[Any, ...]] = []
        emptied = []
        for key, values in deltas.items():
            if not any(values):
                continue
            # In the table's column order: the key, the day's week and month, the sums.
            if period == "day":
                params.append((*key, *_week_and_month(key[1]), *values))
            else:
                params.append((*key, *values))
            if values[0] < 0:
                if period == "day":
                    key = (key[0], date.fromisoformat(key[1]), *key[2:])
                emptied.append(key)
        insert_tuples(conn, daily, params, conflict=keys, add=list(self.daily_sums))
        # A bucket whose last entry was retracted or moved away disappears, so the table
        # holds exactly the buckets a recomputation would produce.
        for start in range(0, len(emptied), 200):
            chunk = emptied[start : start + 200]
            match = or_(
                *[and_(*[daily.c[k] == v for k, v in zip(keys, key, strict=True)]) for key in chunk]
            )
            conn.execute(delete(daily).where(match, daily.c[self.daily_sums[0]] == 0))


class ActivityProjection(EntryProjection):
    name = "activities"
    aggregate = "Activity"
    aggregates = ("Activity",)
    topics = tuple(
        f"ledger.domain.entries:Activity.{n}"
        for n in ("Recorded", "Corrected", "Retracted", "Erased")
    )
    type_field = "kind"
    time_field = "started_at"
    daily_key = ("actor", "kind")
    daily_sums = ("entries", "minutes", "staff_minutes")
    weekly = True

    def entry_columns(self) -> list[Column[Any]]:
        return [
            Column("started_at", String(40), nullable=False),
            Column("ended_at", String(40)),
            Column("staff_count", Integer, nullable=False),
            Column("minutes", Integer, nullable=False),
            Column("staff_minutes", Integer, nullable=False),
            Column("details", Text, nullable=False),
        ]

    def row_from(self, event: LogEvent) -> dict[str, Any]:
        d = event.data
        return {
            "actor": d["actor"],
            "external_id": d["external_id"],
            "kind": d["kind"],
            "station": d["station"],
            "zone": d["zone"],
            "started_at": d["started_at"],
            "ended_at": d["ended_at"],
            "staff_count": d["staff_count"],
            "details": details_json(d["details"]),
            "note": ref_of(d["note"]),
        }

    def derive(self, row: dict[str, Any]) -> None:
        started = datetime.fromisoformat(row["started_at"])
        ended = datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None
        row["day"] = local_day(started).isoformat()
        row["week"] = _week_and_month(row["day"])[0]
        row["minutes"] = minutes_between(started, ended)
        row["staff_minutes"] = row["minutes"] * row["staff_count"]

    def contribution(self, row: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
        return (row["station"], row["day"], row["actor"], row["kind"]), (
            1,
            row["minutes"],
            row["staff_minutes"],
        )


class ObservationProjection(EntryProjection):
    name = "observations"
    aggregate = "Observation"
    aggregates = ("Observation",)
    topics = tuple(
        f"ledger.domain.entries:Observation.{n}"
        for n in ("Recorded", "Corrected", "Retracted", "Erased")
    )
    type_field = "category"
    time_field = "observed_at"
    # By actor too: a commitment to report to the lägesbild counts one actor's reports.
    daily_key = ("category", "actor")
    daily_name = "daily_by_actor"
    daily_sums = ("entries", "count", "high")

    def entry_columns(self) -> list[Column[Any]]:
        return [
            Column("observed_at", String(40), nullable=False),
            Column("count", Integer, nullable=False),
            Column("severity", String(8), nullable=False),
        ]

    def row_from(self, event: LogEvent) -> dict[str, Any]:
        d = event.data
        return {
            "actor": d["actor"],
            "external_id": d["external_id"],
            "category": d["category"],
            "station": d["station"],
            "zone": d["zone"],
            "observed_at": d["observed_at"],
            "count": d["count"],
            "severity": d["severity"],
            "note": ref_of(d["note"]),
        }

    def derive(self, row: dict[str, Any]) -> None:
        row["day"] = local_day(datetime.fromisoformat(row["observed_at"])).isoformat()
        row["week"] = _week_and_month(row["day"])[0]

    def contribution(self, row: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
        return (row["station"], row["day"], row["category"], row["actor"]), (
            1,
            row["count"],
            1 if row["severity"] == "high" else 0,
        )

"""The projection runner: exactly-once application of the log to SQL read models.

For each projection, one tracking row per *generation* holds the position of the
last event applied. A page of events is applied and the tracking row advanced in
the same transaction, and the advance is conditional on the position read at the
start (``UPDATE … WHERE position = :seen``), so

* a crash anywhere leaves the tables and the position consistent: the page is
  applied wholly or not at all, and is re-read after a restart;
* two runners on the same projection never apply the same page twice: the loser's
  conditional update matches no row and its transaction is rolled back.

An event a projection cannot apply (bad data that slipped in, or a bug) is **parked**,
not allowed to stop the read side: the page is re-applied one event at a time, the
failing event is recorded in ``trygg_projection_parked`` (projection, generation,
position, error) in the same transaction that advances the tracking row past it, and
the rest of the log is applied as usual. The projection's state is then ``degraded``
and says which positions are parked (``status``, ``/v1/projections``, ``/metrics``, a
banner on the dashboard); ``retry_parked`` re-applies them, in log order, after a fix
(``trygg projections retry``). Like the parked messages of persistent subscriptions in
event stores. Failures of the database itself are not parked: they are retried.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy.exc
from eventsourcing.persistence import ApplicationRecorder, PersistenceError
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    inspect,
    select,
    update,
)

from ledger.eventstore import LogRow, ledger_recorder
from ledger.failpoints import crash_point
from projections.base import Projection, Tables
from projections.events import PAGE_SIZE, decode_row
from projections.registry import all_projections

log = logging.getLogger("trygg.projections")

meta = MetaData()
tracking = Table(
    "trygg_projection_tracking",
    meta,
    Column("name", String(64), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # building | live | retired
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("error_position", BigInteger),
)
live = Table(
    "trygg_projection_live",
    meta,
    Column("name", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),
)
parked = Table(
    "trygg_projection_parked",
    meta,
    Column("name", String(64), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("error", Text, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
)
#: Where a generation's "as of" history starts, when it was added to a generation that was
#: already filled (an upgrade); absent = from the start of the log.
history_start = Table(
    "trygg_projection_history_start",
    meta,
    Column("name", String(64), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)
#: How many parked positions a status lists (the count is always whole).
LISTED_PARKED = 100

FAILED_RETRY_SECONDS = 60.0
TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


class ProjectionFailed(Exception):
    """A projection could not record an event it failed on (so it stopped before it)."""

    def __init__(self, name: str, position: int, error: BaseException) -> None:
        super().__init__(f"projection {name!r} failed at position {position}: {error!r}")
        self.name = name
        self.position = position
        self.error = error


class LostRace(Exception):
    """Another runner advanced this projection first; this page was rolled back."""


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    generation: int
    position: int
    head: int
    state: str
    last_error: str | None
    error_position: int | None
    updated_at: datetime
    parked_count: int = 0
    parked: tuple[int, ...] = ()

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)

    @property
    def health(self) -> str:
        """``failed`` (stopped at an event it could not even park), ``degraded`` (events
        parked), else the generation's state (``live``, ``building``)."""
        if self.last_error:
            return "failed"
        if self.parked_count:
            return "degraded"
        return self.state

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "generation": self.generation,
            "position": self.position,
            "head": self.head,
            "lag": self.lag,
            "state": self.health,
            "last_error": self.last_error,
            "error_position": self.error_position,
            "parked_count": self.parked_count,
            "parked": list(self.parked),
            # SQLite hands timestamps back without their zone; they are stored in UTC.
            "updated_at": (
                self.updated_at if self.updated_at.tzinfo else self.updated_at.replace(tzinfo=UTC)
            ).isoformat(),
        }


def _now() -> datetime:
    return datetime.now(UTC)


class ProjectionRunner:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        engine: Engine,
        projections: dict[str, Projection] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.recorder = recorder
        self.store = ledger_recorder(recorder)
        self.engine = engine
        self.projections = projections or all_projections()
        self.page_size = page_size
        self._tables: dict[tuple[str, int], Tables] = {}
        self._metadata: dict[tuple[str, int], MetaData] = {}
        self._failed_until: dict[str, float] = {}
        self.wake = threading.Event()
        self.ensure()

    # -- schema -----------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the tracking tables and each projection's live generation (idempotent)."""
        meta.create_all(self.engine)
        for name in self.projections:
            with self.engine.begin() as conn:
                if conn.execute(select(live.c.generation).where(live.c.name == name)).first():
                    continue
                conn.execute(insert(live).values(name=name, generation=1))
                conn.execute(
                    insert(tracking).values(
                        name=name, generation=1, position=0, state="live", updated_at=_now()
                    )
                )
            self.tables(name, 1)

    def tables(self, name: str, generation: int, *, create: bool = True) -> Tables:
        key = (name, generation)
        if key not in self._tables:
            metadata = MetaData()
            projection = self.projections[name]
            tables = projection.define(metadata, projection.prefix(generation))
            if create:
                self._create(projection, metadata, tables, generation)
            self._metadata[key] = metadata
            self._tables[key] = tables
        return self._tables[key]

    def _create(
        self, projection: Projection, metadata: MetaData, tables: Tables, generation: int
    ) -> None:
        """Create what is missing of one generation, in one transaction; a table added to a
        generation that existed before is filled by the projection's ``backfill``. History
        tables added so cannot know what came before: "as of" reads start where they were
        added (``history_start``) until a rebuild."""
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    existing = set(inspect(conn).get_table_names())
                    created = {t.name for t in tables.all()} - existing
                    if not created:
                        return
                    metadata.create_all(conn)
                    if len(created) < len(tables.all()):
                        position = self.position(projection.name, generation, conn)
                        projection.backfill(conn, tables, created, position)
                        added = {
                            t.name
                            for n in projection.history_tables
                            if (t := getattr(tables, n, None)) is not None
                        }
                        if position and created & added:
                            self._history_starts(conn, projection.name, generation, position)
                    return
            except sqlalchemy.exc.DatabaseError:
                if attempt:  # another process created them first: they exist now
                    raise

    def drop(self, name: str, generation: int) -> None:
        tables = self.tables(name, generation, create=False)
        self._metadata[(name, generation)].drop_all(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            conn.execute(
                delete(parked).where(parked.c.name == name, parked.c.generation == generation)
            )
            conn.execute(
                delete(history_start).where(
                    history_start.c.name == name, history_start.c.generation == generation
                )
            )
        del self._tables[(name, generation)]
        del tables

    def live_generation(self, name: str, conn: Connection | None = None) -> int:
        if conn is None:
            with self.engine.connect() as c:
                return self.live_generation(name, c)
        return int(conn.execute(select(live.c.generation).where(live.c.name == name)).scalar_one())

    def live_tables(self, name: str, conn: Connection | None = None) -> Tables:
        return self.tables(name, self.live_generation(name, conn))

    def _restart_history(
        self, conn: Connection, projection: Projection, tables: Tables, generation: int
    ) -> None:
        """An event applied late (a retried parked one) changed the totals at a position
        the history had passed: "as of" reads are whole again only from where the views
        stand now, until a rebuild."""
        if not projection.history_tables:
            return
        position = self.position(projection.name, generation, conn)
        projection.restart_history(conn, tables, position)
        self._history_starts(conn, projection.name, generation, position)

    def _history_starts(self, conn: Connection, name: str, generation: int, position: int) -> None:
        """Record that "as of" reads of this generation are whole from ``position`` on."""
        where = (history_start.c.name == name) & (history_start.c.generation == generation)
        conn.execute(delete(history_start).where(where))
        conn.execute(
            insert(history_start).values(name=name, generation=generation, position=position)
        )

    def history_since(self, name: str, conn: Connection) -> int:
        """The first position the live generation of ``name`` can answer "as of" (0 = all)."""
        found = conn.execute(
            select(history_start.c.position)
            .join(
                live,
                (live.c.name == history_start.c.name)
                & (live.c.generation == history_start.c.generation),
            )
            .where(history_start.c.name == name)
        ).scalar()
        return int(found or 0)

    # -- applying the log -------------------------------------------------------------------

    def head(self) -> int:
        return self.store.head()

    def position(self, name: str, generation: int, conn: Connection | None = None) -> int:
        if conn is None:
            with self.engine.connect() as c:
                return self.position(name, generation, c)
        row = conn.execute(
            select(tracking.c.position).where(
                tracking.c.name == name, tracking.c.generation == generation
            )
        ).scalar_one()
        return int(row)

    def step(self, name: str, generation: int, stop: int, page_size: int | None = None) -> int:
        """Apply at most one page up to ``stop``; returns the number of events applied.

        Raises ``ProjectionFailed`` (after applying the events before the bad one).
        """
        projection = self.projections[name]
        tables = self.tables(name, generation)
        page_size = page_size or self.page_size
        rows: list[LogRow] = []
        seen = 0
        try:
            with self.engine.begin() as conn:
                seen = self.position(name, generation, conn)
                if seen >= stop:
                    return 0
                rows = self.store.log_page(seen, page_size, stop=stop, topics=projection.topics)
                full = len(rows) == page_size
                new_position = rows[-1][0] if full else stop
                projection.apply(conn, tables, [decode_row(r) for r in rows])
                crash_point("projection.before_advance")
                self._advance(conn, name, generation, seen, new_position)
                crash_point("projection.before_commit")
        except (LostRace, PersistenceError, *TRANSIENT):
            raise
        except Exception as error:
            if (
                self.live_generation(name) != generation
                and self._state(name, generation) == "retired"
            ):
                return 0  # a rebuild swapped this generation out while we worked
            # Said once per page: a cause that fails every page (a missing privilege, say)
            # would otherwise show only as a slow projection.
            log.warning(
                "projection %s: a page of %d events after position %s failed (%s: %s); "
                "applying them one at a time",
                name,
                len(rows),
                seen,
                type(error).__name__,
                str(error)[:500],
            )
            return self._apply_one_by_one(name, generation, rows, seen)
        return len(rows)

    def _state(self, name: str, generation: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(tracking.c.state).where(
                    tracking.c.name == name, tracking.c.generation == generation
                )
            ).scalar_one_or_none()

    def _advance(self, conn: Connection, name: str, generation: int, seen: int, to: int) -> None:
        result = conn.execute(
            update(tracking)
            .where(
                tracking.c.name == name,
                tracking.c.generation == generation,
                tracking.c.position == seen,
            )
            .values(position=to, updated_at=_now(), last_error=None, error_position=None)
        )
        if result.rowcount != 1:
            raise LostRace(name)

    def _apply_one_by_one(self, name: str, generation: int, rows: list[LogRow], seen: int) -> int:
        """Apply a page that failed one event at a time, parking each event that fails."""
        projection = self.projections[name]
        tables = self.tables(name, generation)
        applied = 0
        for row in rows:
            position = row[0]
            try:
                with self.engine.begin() as conn:
                    projection.apply(conn, tables, [decode_row(row)])
                    self._advance(conn, name, generation, seen, position)
                applied += 1
            except (LostRace, PersistenceError, *TRANSIENT):
                raise
            except Exception as error:
                self._park(name, generation, seen, position, error)
            seen = position
        return applied

    def _park(
        self, name: str, generation: int, seen: int, position: int, error: BaseException
    ) -> None:
        """Record ``position`` as parked and move the projection past it, in one transaction."""
        message = f"{type(error).__name__}: {error}"[:2000]
        log.error(
            "projection %s: parked the event at position %s (it cannot be applied: %s); "
            "the rest of the log is applied; `trygg projections retry` re-applies it",
            name,
            position,
            message,
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(parked).values(
                        name=name,
                        generation=generation,
                        position=position,
                        error=message,
                        parked_at=_now(),
                        attempts=1,
                    )
                )
                self._advance(conn, name, generation, seen, position)
        except sqlalchemy.exc.IntegrityError:
            raise LostRace(name) from None  # another runner parked it first
        except (LostRace, PersistenceError, *TRANSIENT):
            raise
        except Exception as failure:
            # Not even the parking could be written: stop here, loudly, and retry later.
            with self.engine.begin() as conn:
                conn.execute(
                    update(tracking)
                    .where(tracking.c.name == name, tracking.c.generation == generation)
                    .values(last_error=message, error_position=position, updated_at=_now())
                )
            raise ProjectionFailed(name, position, failure) from failure

    def retry_parked(self, name: str) -> tuple[int, int]:
        """Re-apply the live generation's parked events in log order; returns (applied,
        still parked). An event that fails again stays parked with its new error."""
        projection = self.projections[name]
        generation = self.live_generation(name)
        tables = self.tables(name, generation)
        with self.engine.connect() as conn:
            positions = (
                conn.execute(
                    select(parked.c.position)
                    .where(parked.c.name == name, parked.c.generation == generation)
                    .order_by(parked.c.position)
                )
                .scalars()
                .all()
            )
        fixed = 0
        for position in positions:
            rows = self.store.log_page(position - 1, 1, stop=position)
            where = (
                (parked.c.name == name)
                & (parked.c.generation == generation)
                & (parked.c.position == position)
            )
            try:
                with self.engine.begin() as conn:
                    if rows:  # an event that is gone from the log has nothing to apply
                        projection.apply(conn, tables, [decode_row(rows[0])])
                        self._restart_history(conn, projection, tables, generation)
                    conn.execute(delete(parked).where(where))
                fixed += 1
            except (PersistenceError, *TRANSIENT):
                raise
            except Exception as error:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(parked)
                        .where(where)
                        .values(
                            error=f"{type(error).__name__}: {error}"[:2000],
                            attempts=parked.c.attempts + 1,
                        )
                    )
        return fixed, len(positions) - fixed

    def catch_up(
        self,
        name: str,
        generation: int | None = None,
        *,
        stop: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        page_size: int | None = None,
    ) -> int:
        """Apply everything up to ``stop`` (default: the head now). Returns events applied.
        ``page_size`` overrides the runner's page size (rebuilds use larger pages)."""
        generation = generation or self.live_generation(name)
        stop = self.head() if stop is None else stop
        total = 0
        while True:
            n = self.step(name, generation, stop, page_size)
            total += n
            if progress is not None:
                progress(self.position(name, generation), stop)
            if self.position(name, generation) >= stop:
                return total

    def catch_up_all(self, stop: int | None = None) -> int:
        stop = self.head() if stop is None else stop
        total = 0
        for name in self.projections:
            if time.monotonic() < self._failed_until.get(name, 0.0):
                continue
            try:
                total += self.catch_up(name, stop=stop)
                self._failed_until.pop(name, None)
            except ProjectionFailed:
                self._failed_until[name] = time.monotonic() + FAILED_RETRY_SECONDS
            except LostRace:
                log.info("projection %s: another runner is ahead; continuing", name)
            except (
                sqlalchemy.exc.OperationalError,
                sqlalchemy.exc.InterfaceError,
                sqlalchemy.exc.ProgrammingError,
                PersistenceError,
            ) as error:
                # The database is away, or a rebuild swapped tables under us: retry soon.
                log.warning("projection %s: will retry: %s", name, error)
        return total

    def run(
        self, stopping: threading.Event, poll_seconds: float = 0.5, coalesce_seconds: float = 0.05
    ) -> None:
        """Follow the log until ``stopping`` is set. Waits on ``wake`` between polls
        (a bounded wait, so no busy loop, and prompt in-process read-your-writes).

        Under a stream of writes each cycle is followed by a short pause, so events
        are applied in pages rather than one transaction per write; that keeps the
        runner from competing with the writes it follows."""
        while not stopping.is_set():
            try:
                applied = self.catch_up_all()
            except Exception:  # never let the thread die silently
                log.exception("projection runner iteration failed")
                applied = 0
            if applied == 0:
                self.wake.wait(poll_seconds)
                self.wake.clear()
            else:
                stopping.wait(coalesce_seconds)

    # -- status -----------------------------------------------------------------------------

    def status(self) -> list[ProjectionStatus]:
        head = self.head()
        with self.engine.connect() as conn:
            parked_rows = conn.execute(
                select(parked.c.name, parked.c.generation, parked.c.position).order_by(
                    parked.c.position
                )
            ).all()
            rows = conn.execute(
                select(tracking, live.c.generation.label("live_generation"))
                .join(live, live.c.name == tracking.c.name)
                .where(tracking.c.state != "retired")
                .order_by(tracking.c.name, tracking.c.generation)
            ).mappings()
            parked_at: dict[tuple[str, int], list[int]] = {}
            for pname, pgen, pposition in parked_rows:
                parked_at.setdefault((pname, pgen), []).append(int(pposition))
            return [
                ProjectionStatus(
                    name=r["name"],
                    generation=r["generation"],
                    position=r["position"],
                    head=head,
                    state=r["state"],
                    last_error=r["last_error"],
                    error_position=r["error_position"],
                    updated_at=r["updated_at"],
                    parked_count=len(found := parked_at.get((r["name"], r["generation"]), [])),
                    parked=tuple(found[:LISTED_PARKED]),
                )
                for r in rows
                if r["name"] in self.projections
            ]

    def live_positions(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tracking.c.name, tracking.c.position).join(
                    live,
                    (live.c.name == tracking.c.name) & (live.c.generation == tracking.c.generation),
                )
            ).all()
        return {name: int(pos) for name, pos in rows if name in self.projections}

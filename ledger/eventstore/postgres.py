"""The PostgreSQL event store: the library's recorder, with a faster insert of many events,
texts in the events' transaction and the log read as plain rows (``ledger.eventstore``).

The library's recorder sends a batch as one array of a composite type, which psycopg
writes as text, escaping every byte of every event's state in Python (re.sub) and
PostgreSQL then parses back: on the bulk ingest path that cost more than the rest of
the ledger's work together (profile in ``benchmarks/NOTES.md``). This recorder sends four
plain arrays in binary instead. Everything else is the library's: the same table, the
same ``LOCK TABLE ... IN EXCLUSIVE MODE`` (commit order = position order, so readers
never pass a gap that fills in later), the same ``NOTIFY``, the same ``RETURNING
notification_id`` in insert order, the same errors. Selected by the library's
``APPLICATION_RECORDER_TOPIC`` setting (``ledger/storage.py``).

Like the SQLite recorder it writes an entry's texts, and erases them, in the events'
transaction (see ``ledger.eventstore``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.errors import LockNotAvailable
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from ledger.eventstore import LogRow
from ledger.eventstore.sqlite import ID_CHUNK
from ledger.texts import TEXT_TABLE, TextRow

log = logging.getLogger(__name__)
#: Changed rows since the last ANALYZE that make the statistics stale, at least (else a fifth).
STALE_ROWS = 10_000


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._table = Identifier(self.datastore.schema, self.events_table_name)
        self._insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )
        texts = Identifier(self.datastore.schema, TEXT_TABLE)
        self._insert_texts_statement = SQL(
            "INSERT INTO {} (ref, entry_id, salt, text) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %b::bytea[], %s::text[])"
        ).format(texts)
        self._erase_texts_statement = SQL("DELETE FROM {} WHERE ref = ANY(%s)").format(texts)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # The library's hook for writing more in an insert's transaction.
        super()._insert_events(curs, stored_events, **kwargs)
        rows: list[TextRow] = kwargs.get("texts") or []
        if rows:
            curs.execute(
                self._insert_texts_statement,
                (
                    [r.ref for r in rows],
                    [r.entry_id for r in rows],
                    [r.salt for r in rows],
                    [r.text for r in rows],
                ),
            )
        erase: list[str] = kwargs.get("erase") or []
        if erase:
            curs.execute(self._erase_texts_statement, (erase,))

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_arrays_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    @property
    def events_table(self) -> str:
        return self.events_table_name

    def head(self) -> int:
        return self.max_notification_id() or 0

    def log_page(
        self, after: int, limit: int, *, stop: int | None = None, topics: tuple[str, ...] = ()
    ) -> list[LogRow]:
        query: Composed = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {} WHERE notification_id>%s"
        ).format(self._table)
        params: list[Any] = [after]
        if stop is not None:
            query += SQL(" AND notification_id<=%s")
            params.append(stop)
        if topics:
            query += SQL(" AND topic = ANY(%s)")
            params.append(list(topics))
        query += SQL(" ORDER BY notification_id LIMIT %s")
        params.append(limit)
        with self.datastore.transaction(commit=False) as curs:
            curs.row_factory = tuple_row  # type: ignore[assignment]  # plain tuples: LogRow
            curs.execute(query, params, prepare=True)
            return cast(list[LogRow], curs.fetchall())

    def refresh_statistics(self) -> None:
        # Without statistics (a log loaded a moment ago, before autovacuum's ANALYZE) the
        # planner takes the log page's position range for a few hundred rows and sorts the
        # whole tail on disk for every page, instead of walking the position index: at 1M
        # events, 1 s a page and more than half of a rebuild (benchmarks/ANALYSIS.md).
        # ANALYZE samples 30,000 rows whatever the log's length, but holds a lock that the
        # inserts' EXCLUSIVE lock waits for, so it runs only when the statistics are
        # missing or stale, and gives up rather than queue behind (and stall) writers.
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT last_analyze IS NULL AND last_autoanalyze IS NULL AS never, "
                "n_mod_since_analyze AS changed, n_live_tup AS rows FROM pg_stat_user_tables "
                "WHERE schemaname = %s AND relname = %s",
                (self.datastore.schema or "public", self.events_table_name),
            )
            found = curs.fetchone()
        if (
            found is not None
            and not found["never"]
            and found["changed"] <= max(STALE_ROWS, found["rows"] // 5)
        ):
            return
        try:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute("SET LOCAL lock_timeout = '2s'")
                curs.execute(SQL("ANALYZE {}").format(self._table))
        except OperationalError as error:
            if not isinstance(error.__cause__, LockNotAvailable):
                raise
            log.warning(
                "skipped ANALYZE of %s: writers hold the table; the rebuild reads with the "
                "statistics it has",
                self.events_table_name,
            )

    def event_positions(self, originator_id: UUID) -> dict[int, int]:
        query = SQL(
            "SELECT originator_version, notification_id FROM {} WHERE originator_id=%s"
        ).format(self._table)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, (originator_id,))
            return {row["originator_version"]: row["notification_id"] for row in curs.fetchall()}

    def first_events(self, originator_ids: list[UUID]) -> dict[UUID, tuple[int, StoredEvent]]:
        query = SQL(
            "SELECT notification_id, originator_id, topic, state FROM {} "
            "WHERE originator_version=1 AND originator_id = ANY(%s)"
        ).format(self._table)
        found: dict[UUID, tuple[int, StoredEvent]] = {}
        for start in range(0, len(originator_ids), ID_CHUNK):
            chunk = originator_ids[start : start + ID_CHUNK]
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(query, (chunk,))
                for r in curs.fetchall():
                    uid = r["originator_id"]
                    found[uid] = (
                        r["notification_id"],
                        StoredEvent(uid, 1, r["topic"], bytes(r["state"])),
                    )
        return found

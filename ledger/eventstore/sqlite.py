"""The SQLite event store: the library's recorder, plus texts in the same transaction and
the log read as plain rows (see ``ledger.eventstore``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from ledger.eventstore import LogRow
from ledger.texts import TEXT_TABLE, TextRow

_HEX32 = re.compile(r"[0-9a-f]{32}")
#: Ids per ``IN (...)`` list: a replayed batch of 1,000 items costs two round trips.
ID_CHUNK = 500


def canonical_id(value: Any) -> str:
    """The library stores SQLite ids as 32 lower-case hex digits: slice them into the
    canonical form. Anything else (a row edited behind the service's back) goes through
    ``UUID``, or stays as it is, so that verification reports it instead of crashing."""
    if isinstance(value, str) and _HEX32.fullmatch(value):
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    try:
        return str(UUID(str(value)))
    except ValueError:
        return str(value)


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    @property
    def events_table(self) -> str:
        return self.events_table_name

    def head(self) -> int:
        return self.max_notification_id() or 0

    # The library's hook for writing more in an insert's transaction (it writes
    # tracking records here itself).
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        rows: list[TextRow] = kwargs.get("texts") or []
        if rows:
            c.executemany(
                f"INSERT INTO {TEXT_TABLE} (ref, entry_id, salt, text) VALUES (?, ?, ?, ?)",  # noqa: S608 (constant)
                [row.values() for row in rows],
            )
        erase: list[str] = kwargs.get("erase") or []
        if erase:
            # Overwrite the deleted cells with zeros, not merely unlink them: erased text
            # must not linger in free pages of the file.
            c.execute("PRAGMA secure_delete = ON")
            for ref in erase:
                c.execute(f"DELETE FROM {TEXT_TABLE} WHERE ref = ?", (ref,))  # noqa: S608 (constant)
        return super()._insert_events(c, stored_events, **kwargs)

    def log_page(
        self, after: int, limit: int, *, stop: int | None = None, topics: tuple[str, ...] = ()
    ) -> list[LogRow]:
        # The library's select_notifications query, without a Notification and a UUID per
        # row (a tenth of a rebuild's time).
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608 (library table name)
            f"FROM {self.events_table_name} WHERE rowid>?"
        )
        params: list[Any] = [after]
        if stop is not None:
            statement += " AND rowid<=?"
            params.append(stop)
        if topics:
            statement += f" AND topic IN ({','.join('?' * len(topics))})"
            params += topics
        statement += " ORDER BY rowid LIMIT ?"
        params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            rows = c.fetchall()
        return [(r[0], canonical_id(r[1]), r[2], r[3], r[4]) for r in rows]

    def refresh_statistics(self) -> None:
        """Nothing to do: a log page walks the rowid, whatever SQLite knows of the table."""

    def event_positions(self, originator_id: UUID) -> dict[int, int]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_version, rowid FROM {self.events_table_name} "  # noqa: S608 (library table name)
                "WHERE originator_id=?",
                (originator_id.hex,),
            )
            return {row[0]: row[1] for row in c.fetchall()}

    def first_events(self, originator_ids: list[UUID]) -> dict[UUID, tuple[int, StoredEvent]]:
        found: dict[UUID, tuple[int, StoredEvent]] = {}
        for start in range(0, len(originator_ids), ID_CHUNK):
            chunk = originator_ids[start : start + ID_CHUNK]
            marks = ",".join("?" * len(chunk))
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    "SELECT rowid, originator_id, topic, state "  # noqa: S608 (library table name)
                    f"FROM {self.events_table_name} "
                    f"WHERE originator_version=1 AND originator_id IN ({marks})",
                    [i.hex for i in chunk],
                )
                for position, oid, topic, state in c.fetchall():
                    uid = UUID(oid)
                    found[uid] = (position, StoredEvent(uid, 1, topic, state))
        return found

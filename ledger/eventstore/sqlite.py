"""The SQLite event store: the library's recorder, plus texts in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from ledger.texts import TEXT_TABLE, TextRow


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
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

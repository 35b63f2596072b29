"""One leader for the background jobs, however many API processes share a database.

``trygg serve --workers N`` runs N processes; each would run the projection runner, the
sealer and the witness rounds. The runner is safe to run twice (its conditional position
update lets exactly one apply a page), but two of each is wasted work and two sealers
race for every checkpoint. So each process campaigns for one lock and only the holder
runs the jobs:

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection
  held for as long as the process leads. When the process dies, its session ends and
  the lock is free at once.
* SQLite: an exclusive ``flock`` on a file beside the database (``<db>.jobs.lock``). The
  kernel releases it when the process dies, however it dies.

Followers try again every second, so a leader that exits (or is killed) is replaced
within about a second: a clean hand-over with no lease to expire. A leader checks every few
seconds that its lock is still held (on PostgreSQL, that the session holding it answers)
and steps down when it is not, so a dropped connection cannot leave two leaders for long.
Connection poolers in transaction mode (pgbouncer) cannot hold a session lock: connect
the ledger to PostgreSQL directly, or through a session-mode pool.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text


class JobsLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if it is free; never waits."""

    def held(self) -> bool:
        """Whether the lock is still ours (the leader checks every few seconds, and steps
        down when it is not)."""

    def release(self) -> None: ...


class FileLock:
    """An exclusive ``flock`` on ``path`` (SQLite deployments: one machine)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a+")  # noqa: SIM115 (held while leading; closed in release)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")  # who leads, for an operator reading the file
        handle.flush()
        self._file = handle
        return True

    def held(self) -> bool:
        return self._file is not None  # a flock lasts as long as the open file

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock, keyed by the schema the ledger uses."""

    def __init__(self, engine: Engine, schema: str | None) -> None:
        self.engine = engine
        digest = hashlib.sha256(f"trygg-jobs/{schema or 'public'}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            )
        except Exception:
            conn.close()
            raise
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        """The session that holds the lock still answers. If it dropped (a network blip, a
        server restart), the server has freed the lock and a standby may lead already."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                # A session that is gone took the lock with it: nothing to unlock then.
                with contextlib.suppress(Exception):
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            finally:
                self._conn.close()
                self._conn = None

"""One database URL → the event store's environment and a SQLAlchemy engine.

The event store uses the ``eventsourcing`` library's own SQLite and PostgreSQL
modules, extended in ``ledger.eventstore``; everything else (API keys, read models,
tracking, texts) uses SQLAlchemy on the same database. ``bulk_insert`` writes many
rows of those tables at the driver's speed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy.exc
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, Date, Engine, Table, create_engine, event
from sqlalchemy.engine import URL, make_url

from ledger.leadership import AdvisoryLock, FileLock, JobsLock
from ledger.settings import ConfigurationError, Settings


class DatabaseUrlError(ConfigurationError):
    pass


@dataclass(frozen=True)
class Database:
    url: URL
    schema: str | None
    pool_size: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        try:
            url = make_url(settings.database_url)
        except Exception as e:
            raise DatabaseUrlError(f"TRYGG_DATABASE_URL is not a database URL: {e}") from None
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        elif url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:" or "mode=memory" in str(url):
                raise DatabaseUrlError(
                    "TRYGG_DATABASE_URL: an in-memory SQLite database cannot be shared "
                    "between the event store and the read models; use sqlite:///PATH"
                )
        else:
            raise DatabaseUrlError(
                f"TRYGG_DATABASE_URL: unsupported database {url.get_backend_name()!r}; "
                "use sqlite:///PATH or postgresql+psycopg://…"
            )
        return cls(url=url, schema=settings.database_schema, pool_size=settings.db_pool_size)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path:
        assert self.url.database
        return Path(self.url.database)

    def jobs_lock(self, engine: Engine) -> JobsLock:
        """The lock whose holder runs the background jobs (``ledger.leadership``)."""
        if self.is_sqlite:
            return FileLock(self.sqlite_path.with_name(self.sqlite_path.name + ".jobs.lock"))
        return AdvisoryLock(engine, self.schema)

    def default_signing_key_file(self) -> Path:
        """Beside the SQLite file (the embedded default works out of the box). On
        PostgreSQL there is no good default: a key generated wherever a process happens to
        start would sign for whoever holds that directory, so it must be named."""
        if self.is_sqlite:
            return self.sqlite_path.with_name(self.sqlite_path.name + ".signing-key.pem")
        raise ConfigurationError(
            "TRYGG_SIGNING_KEY_FILE must be set on PostgreSQL: the Ed25519 key that signs "
            "checkpoints (generated there on first use if the file does not exist)"
        )

    def eventsourcing_env(self) -> dict[str, str]:
        if self.is_sqlite:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "APPLICATION_RECORDER_TOPIC": "ledger.eventstore.sqlite:LedgerSQLiteRecorder",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "ledger.eventstore.postgres:LedgerPostgresRecorder",
            "POSTGRES_DBNAME": self.url.database or "postgres",
            "POSTGRES_HOST": self.url.host or "127.0.0.1",
            "POSTGRES_PORT": str(self.url.port or 5432),
            "POSTGRES_USER": self.url.username or "postgres",
            "POSTGRES_PASSWORD": self.url.password or "",
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.pool_size),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_PRE_PING": "y",
        }
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env

    def create_engine(self) -> Engine:
        if self.is_sqlite:
            # A small pool: opening an SQLite connection (and setting its pragmas) on every
            # request costs more than the query it serves.
            engine = create_engine(
                self.url,
                pool_size=self.pool_size,
                max_overflow=self.pool_size,
                connect_args={"timeout": 30, "check_same_thread": False},
            )

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            return engine
        connect_args: dict[str, Any] = {"connect_timeout": 5}
        if self.schema:
            connect_args["options"] = f"-csearch_path={self.schema}"
        return create_engine(
            self.url,
            pool_size=self.pool_size,
            max_overflow=self.pool_size,
            pool_pre_ping=True,
            connect_args=connect_args,
        )


def pg_conninfo(url: str) -> str:
    """A libpq connection string for a PostgreSQL SQLAlchemy URL (``postgresql+psycopg://…``),
    for plain ``psycopg.connect``; unset parts default to postgres@127.0.0.1:5432/postgres."""
    u = make_url(url)
    return make_conninfo(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname=u.database or "postgres",
    )


#: From this many rows an upsert on PostgreSQL goes through a staging table (one COPY and
#: one merge); fewer take one pipelined statement per row.
STAGE_FROM = 64


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    conflict: list[str] | None = None,
    add: list[str] | None = None,
) -> None:
    """INSERT many rows through the driver's ``executemany`` (optionally adding to ``add``
    on a conflict over ``conflict``), on the caller's transaction.

    SQLAlchemy's per-row parameter processing was the largest single cost of catching up
    (see the profiles in ``benchmarks/RESULTS.md``); plain tuples skip it. Dates go
    to SQLite as ISO strings, exactly as SQLAlchemy's ``Date`` type stores them.
    """
    if not rows:
        return
    columns = [c.name for c in table.columns]
    pick = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    insert_tuples(conn, table, [pick(row) for row in rows], conflict=conflict, add=add)


def insert_tuples(
    conn: Connection,
    table: Table,
    params: list[tuple[Any, ...]],
    *,
    conflict: list[str] | None = None,
    add: list[str] | None = None,
) -> None:
    """``bulk_insert`` of rows given as tuples in the table's column order (what a hot
    path builds directly, rather than a dict per row)."""
    if not params:
        return
    quote = conn.dialect.identifier_preparer.quote
    sqlite = conn.dialect.name == "sqlite"
    name = quote(table.name)
    listed = ", ".join(quote(c.name) for c in table.columns)
    into = f"INSERT INTO {name} ({listed})"
    upsert = ""
    if conflict:
        updates = ", ".join(
            f"{quote(c)} = {name}.{quote(c)} + excluded.{quote(c)}" for c in add or []
        )
        upsert = f" ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO UPDATE SET {updates}"
    if not sqlite and not conflict:
        # COPY moves plain inserts in one stream instead of a statement per row: on
        # PostgreSQL the round trips were most of a rebuild's time.
        _copy(conn, f"COPY {name} ({listed}) FROM STDIN", params)
        return
    if not sqlite and len(params) >= STAGE_FROM:
        # An upsert of many rows: COPY them into a staging table and merge it in one
        # statement, rather than one INSERT … ON CONFLICT per row. The rows' keys are
        # distinct (callers sum per key), as one merge statement requires. The staging
        # table lasts for this transaction only: nothing outlives it to go stale on a
        # pooled connection, and outside a transaction the COPY fails instead of
        # merging nothing. (The database role needs the TEMPORARY privilege.)
        stage = quote(f"stage_{zlib.crc32(table.name.encode()):08x}")
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name}) ON COMMIT DROP"
        )
        _copy(conn, f"COPY {stage} ({listed}) FROM STDIN", params)
        conn.exec_driver_sql(f"{into} SELECT {listed} FROM {stage}{upsert}")  # noqa: S608
        conn.exec_driver_sql(f"DELETE FROM {stage}")  # noqa: S608
        return
    mark = "?" if sqlite else "%s"
    # SQLite has no date type: store dates as SQLAlchemy's ``Date`` does, as ISO strings.
    # (PostgreSQL takes ISO strings for a date column as well.)
    dated = [i for i, c in enumerate(table.columns) if isinstance(c.type, Date)]
    if sqlite and dated:
        for n, values in enumerate(params):
            if any(isinstance(values[i], date) for i in dated):
                params[n] = tuple(v.isoformat() if isinstance(v, date) else v for v in values)
    conn.exec_driver_sql(
        f"{into} VALUES ({', '.join([mark] * len(table.columns))}){upsert}", params
    )


def _copy(conn: Connection, statement: str, params: list[tuple[Any, ...]]) -> None:
    try:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)  # PostgreSQL here: psycopg's own
        cursor = driver.cursor()
        with cursor, cursor.copy(statement) as copy:
            for values in params:
                copy.write_row(values)
    except psycopg.Error as error:
        # Past SQLAlchemy here, so raise what it would have (callers tell transient
        # errors from bad data by SQLAlchemy's exception types).
        raise _sqlalchemy_error(statement, error) from error


def _sqlalchemy_error(statement: str, error: Exception) -> sqlalchemy.exc.DBAPIError:
    for driver, wrapper in (
        (psycopg.OperationalError, sqlalchemy.exc.OperationalError),
        (psycopg.InterfaceError, sqlalchemy.exc.InterfaceError),
        (psycopg.IntegrityError, sqlalchemy.exc.IntegrityError),
    ):
        if isinstance(error, driver):
            return wrapper(statement, None, error)
    return sqlalchemy.exc.DatabaseError(statement, None, error)

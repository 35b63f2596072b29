"""The ledger on one database: the event-sourced application plus the SQL side.

``System`` is what the CLI, the HTTP app and the tests build from ``Settings``;
it owns the connections and closes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text

from ledger.access import Role
from ledger.application import Ledger, utc_now
from ledger.audit.service import AuditService
from ledger.errors import InvalidInput
from ledger.keys import ApiKey, KeyStore
from ledger.settings import Settings
from ledger.storage import Database
from ledger.texts import TextStore


class System:
    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.database = Database.from_settings(settings)
        self.engine = self.database.create_engine()
        if self.database.schema and not self.database.is_sqlite:
            with self.engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.database.schema}"'))
        # Before the event store: its inserts write texts to this table.
        self.texts = TextStore(self.engine)
        self.ledger = Ledger(settings, texts=self.texts, clock=clock, database=self.database)
        self.keys = KeyStore(self.engine)
        self.audit = AuditService(
            self.ledger.recorder,
            self.engine,
            signing_key_file=settings.signing_key_file or self.database.default_signing_key_file(),
            origin=settings.log_origin,
        )

    def create_key(self, role: Role, actor: str | None, name: str | None) -> tuple[ApiKey, str]:
        if actor is not None and self.ledger.find_actor(actor) is None:
            raise InvalidInput.one("actor", f"unknown actor {actor!r}; register it first")
        return self.keys.create(role, actor, name)

    def ping(self) -> int:
        """Touch both sides of the database; returns the log's last position."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return self.ledger.last_position()

    def close(self) -> None:
        self.ledger.close()
        self.engine.dispose()

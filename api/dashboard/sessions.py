"""Browser sessions for the dashboard: a random id in a cookie, a row on the server.

Invariants:

* the cookie holds a 256-bit random session id; the table stores only its SHA-256, so
  a copy of the database does not let anyone sign in;
* a session names the API key it was opened with, never the key's token;
* every lookup joins the key and requires it to be active: revoking a key ends all of
  its sessions at once (they are deleted on their next use);
* a session expires ``LIFETIME`` after sign-in (absolute, not sliding);
* each session has its own CSRF token for the dashboard's POST forms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy.exc
from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)

from ledger.access import Principal, Role
from ledger.keys import api_keys

LIFETIME_SECONDS = 8 * 3600
COOKIE = "trygg_session"

metadata = MetaData()

sessions = Table(
    "trygg_dashboard_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("key_id", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Integer, nullable=False),  # seconds since the epoch, UTC
    Column("expires_at", Integer, nullable=False),
)
Index("trygg_dashboard_sessions_key", sessions.c.key_id)
Index("trygg_dashboard_sessions_expiry", sessions.c.expires_at)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: int

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


class SessionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            metadata.create_all(engine)
        except sqlalchemy.exc.DBAPIError:
            # Another process created the table between our check and our CREATE.
            metadata.create_all(engine)

    @staticmethod
    def now() -> int:
        return int(time.time())

    def open(self, principal: Principal) -> tuple[str, Session]:
        """A new session for the key; returns the id for the cookie (never stored)."""
        session_id = secrets.token_urlsafe(32)
        now = self.now()
        session = Session(principal, secrets.token_urlsafe(24), now + LIFETIME_SECONDS)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
            conn.execute(
                insert(sessions).values(
                    id_sha256=_hash(session_id),
                    key_id=principal.key_id,
                    csrf=session.csrf,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )
        return session_id, session

    def find(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown, expired, or its key revoked)."""
        if not session_id or len(session_id) > 128:
            return None
        digest = _hash(session_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    sessions.c.key_id,
                    sessions.c.csrf,
                    sessions.c.expires_at,
                    api_keys.c.role,
                    api_keys.c.actor,
                    api_keys.c.revoked_at,
                )
                .select_from(sessions.outerjoin(api_keys, api_keys.c.id == sessions.c.key_id))
                .where(sessions.c.id_sha256 == digest)
            ).first()
        if row is None:
            return None
        if row.role is None or row.revoked_at is not None:
            self.end_all_of(row.key_id)
            return None
        if row.expires_at <= self.now():
            self.close(session_id)
            return None
        principal = Principal(key_id=row.key_id, role=Role(row.role), actor=row.actor)
        return Session(principal, row.csrf, row.expires_at)

    def close(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_sha256 == _hash(session_id)))

    def end_all_of(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.key_id == key_id))


_lock = threading.Lock()


def store_of(state: Any) -> SessionStore:
    """The app's session store (``state`` is the app's ``State``, which holds anything),
    made (and its table created) on first use."""
    engine = state.runtime.engine
    store = getattr(state, "dashboard_sessions", None)
    if store is None or store.engine is not engine:
        with _lock:
            store = getattr(state, "dashboard_sessions", None)
            if store is None or store.engine is not engine:
                store = SessionStore(engine)
                state.dashboard_sessions = store
    return store

"""API keys: random tokens, shown once, stored only as SHA-256 hashes; revocable.

A token carries 256 bits of randomness, so a fast hash is enough (there is
nothing to brute-force as there would be with a password). Lookups go by hash,
which is indexed, and a successful lookup is reused for ``AUTH_CACHE_SECONDS``: a
revoked key stops working at once in the revoking process and within a second in
every other one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    MetaData,
    Row,
    String,
    Table,
    insert,
    select,
    update,
)

from ledger.access import Principal, Role
from ledger.errors import InvalidInput, NotFound
from ledger.registry_service import RegistryCommands

TOKEN_PREFIX = "tl_"  # noqa: S105 (a marker, not a secret)

metadata = MetaData()

api_keys = Table(
    "trygg_api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("role", String(16), nullable=False),
    Column("actor", String(64), nullable=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: Role
    actor: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: How long a successful key lookup is reused. A revocation takes effect at once in the
#: process that revokes, and within this many seconds everywhere else. Measured: +41 %
#: single POSTs a second (benchmarks/NOTES.md), and one database round trip less per request.
AUTH_CACHE_SECONDS = 1.0


class KeyStore:
    def __init__(self, engine: Engine, cache_seconds: float = AUTH_CACHE_SECONDS) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}
        metadata.create_all(engine)

    def create(self, role: Role, actor: str | None, name: str | None) -> tuple[ApiKey, str]:
        """Create a key; returns it with its token, which is never shown again.

        Actor existence is checked by the caller (``Ledger.find_actor``) — this
        store knows nothing of the event store.
        """
        if role is Role.partner and not actor:
            raise InvalidInput.one("actor", "a partner key must be bound to an actor")
        if role is not Role.partner and actor:
            raise InvalidInput.one("actor", f"a {role.value} key is not bound to an actor")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id="k_" + secrets.token_hex(5),
            name=name or (f"{role.value}:{actor}" if actor else role.value),
            role=role,
            actor=actor,
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    id=key.id,
                    name=key.name,
                    role=key.role.value,
                    actor=key.actor,
                    token_sha256=_hash(token),
                    created_at=key.created_at,
                )
            )
        return key, token

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [_key(r) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        self._cache.clear()
        if row is None:
            raise NotFound(f"no key {key_id!r}")
        if done.rowcount == 0:
            raise InvalidInput.one("key_id", f"key {key_id!r} was already revoked")
        return _key(row)

    def cached(self, token: str) -> Principal | None:
        """The principal of a key looked up within the last ``cache_seconds``, without
        touching the database (None: look it up with ``authenticate``)."""
        cached = self._cache.get(_hash(token))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def authenticate(self, token: str) -> Principal | None:
        """The principal of an active key with this token, or None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = _hash(token)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_keys.c.id, api_keys.c.role, api_keys.c.actor).where(
                    api_keys.c.token_sha256 == digest, api_keys.c.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            self._cache.pop(digest, None)
            return None
        principal = Principal(key_id=row.id, role=Role(row.role), actor=row.actor)
        if self.cache_seconds > 0:
            if len(self._cache) > 10_000:  # bounded: unknown tokens are never cached
                self._cache.clear()
            self._cache[digest] = (principal, now + self.cache_seconds)
        return principal


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        actor=row.actor,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def create_key(
    keys: KeyStore, registry: RegistryCommands, role: Role, actor: str | None, name: str | None
) -> tuple[ApiKey, str]:
    """A new key for ``role`` (bound to ``actor`` for partners, which must be registered)."""
    if actor is not None and registry.find_actor(actor) is None:
        raise InvalidInput.one("actor", f"unknown actor {actor!r}; register it first")
    return keys.create(role, actor, name)

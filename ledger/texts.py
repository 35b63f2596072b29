"""Free text that can be erased while every proof stays valid.

The ledger is append-only and its Merkle leaves commit to every stored byte, yet
personal data that slips past the screening must be removable (DESIGN.md, "Data
protection"). So an entry's events never hold its free text. Each text value (a note,
a reason, a detail such as a public event's title) is stored as a *reference*::

    {"$text": "<ref>"}    ref = hex SHA-256("trygg-text/v1" 0x0A || salt || UTF-8 text)

with a fresh 16-byte random ``salt``, while the text itself and its salt live in one
row of ``trygg_texts`` (ref, entry id, salt, text), written in the same transaction as
the event (``ledger.eventstore``). The event commits to the text: anyone holding the
row can check it against the ref, and a changed row no longer matches. Erasing deletes
the row (in the transaction that appends the entry's ``Erased`` record): the text and
its salt are gone from the database, the ref that remains reveals nothing (a guess
cannot be confirmed without the salt), and every leaf, checkpoint and proof is
unchanged. Reading puts the text back in place of each ref (``reveal``); an erased
one reads as ``None``.

Which values are text: ``note`` and ``reason`` anywhere, and the ``TEXT_DETAILS`` keys
of an activity's ``details``. Everything else in an event (codes, times, counts) is
structured and stays in the event itself.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine, LargeBinary, MetaData, String, Table, Text, select

TEXT_TABLE = "trygg_texts"
REF_KEY = "$text"
DOMAIN = b"trygg-text/v1\n"
#: Free-text fields of an entry and of its later events.
TEXT_FIELDS = frozenset({"note", "reason"})
#: Free-text keys inside an activity's ``details``.
TEXT_DETAILS = frozenset({"title", "description", "unit"})
#: What an erasure may name.
ERASABLE = frozenset({"note", "reason", *(f"details.{k}" for k in TEXT_DETAILS)})
#: What a reader sees in place of an erased text where a value is required.
ERASED = "[raderad]"

metadata = MetaData()
texts = Table(
    TEXT_TABLE,
    metadata,
    Column("ref", String(64), primary_key=True),
    Column("entry_id", String(36), nullable=False, index=True),
    Column("salt", LargeBinary(16), nullable=False),
    Column("text", Text, nullable=False),
)


@dataclass(frozen=True)
class TextRow:
    """One stored text: written with the event that refers to it."""

    ref: str
    entry_id: str
    salt: bytes
    text: str

    def values(self) -> tuple[str, str, bytes, str]:
        return (self.ref, self.entry_id, self.salt, self.text)


def commitment(salt: bytes, text: str) -> str:
    return hashlib.sha256(DOMAIN + salt + text.encode("utf-8")).hexdigest()


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(REF_KEY), str)


def ref_of(value: Any) -> str | None:
    return value[REF_KEY] if is_ref(value) else None


class Sealer:
    """Turns an event payload's free text into references, collecting the rows to store.

    ``reuse`` maps (field path, text) to a reference the entry already has, so that a
    correction that keeps a text (or an erased text, read as ``ERASED``) keeps its ref."""

    def __init__(self, entry_id: str, reuse: dict[tuple[str, str], dict[str, str]] | None = None):
        self.entry_id = entry_id
        self.reuse = reuse or {}
        self.rows: list[TextRow] = []

    def text(self, path: str, value: str) -> dict[str, str]:
        kept = self.reuse.get((path, value))
        if kept is not None:
            return kept
        salt = os.urandom(16)
        row = TextRow(commitment(salt, value), self.entry_id, salt, value)
        self.rows.append(row)
        return {REF_KEY: row.ref}

    def payload(self, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        """``data`` with every free-text value (see the module docstring) sealed."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            path = f"{prefix}{key}"
            if key in TEXT_FIELDS and isinstance(value, str):
                out[key] = self.text(path, value)
            elif key == "details" and isinstance(value, dict):
                out[key] = {
                    k: (
                        self.text(f"details.{k}", v)
                        if k in TEXT_DETAILS and isinstance(v, str)
                        else v
                    )
                    for k, v in value.items()
                }
            elif key == "changes" and isinstance(value, dict):
                out[key] = self.payload(value)
            else:
                out[key] = value
        return out


def text_values(data: dict[str, Any]) -> dict[str, str]:
    """The free-text values of an entry's fields, by path (``note``, ``details.title``…)."""
    out = {
        key: value for key, value in data.items() if key in TEXT_FIELDS and isinstance(value, str)
    }
    details = data.get("details")
    if isinstance(details, dict):
        for key, value in details.items():
            if key in TEXT_DETAILS and isinstance(value, str):
                out[f"details.{key}"] = value
    return out


def without_texts(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every free-text value set to ``None`` (keys kept)."""
    out = {key: (None if key in TEXT_FIELDS else value) for key, value in data.items()}
    details = data.get("details")
    if isinstance(details, dict):
        out["details"] = {k: (None if k in TEXT_DETAILS else v) for k, v in details.items()}
    return out


def refs_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (field path, ref) in a JSON value, depth first; paths drop ``changes.``."""
    if is_ref(value):
        yield path, value[REF_KEY]
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key == "changes" and not path:
                yield from refs_in(inner, "")
            else:
                yield from refs_in(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for inner in value:
            yield from refs_in(inner, path)


def replace_refs(value: Any, found: dict[str, str], erased: Any = None) -> Any:
    """``value`` with each ref replaced by its text from ``found``, or by ``erased``."""
    if is_ref(value):
        return found.get(value[REF_KEY], erased)
    if isinstance(value, dict):
        return {k: replace_refs(v, found, erased) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_refs(v, found, erased) for v in value]
    return value


class TextStore:
    """Reads texts back (the rows are written by the event store, with their events)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def lookup(self, refs: Iterable[str]) -> dict[str, TextRow]:
        wanted = sorted(set(refs))
        found: dict[str, TextRow] = {}
        if not wanted:
            return found
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for row in conn.execute(select(texts).where(texts.c.ref.in_(chunk))):
                    found[row.ref] = TextRow(row.ref, row.entry_id, bytes(row.salt), row.text)
        return found

    def texts(self, refs: Iterable[str]) -> dict[str, str]:
        return {ref: row.text for ref, row in self.lookup(refs).items()}

    def reveal(self, value: Any, erased: Any = None) -> Any:
        """``value`` (any JSON, e.g. an event's payload) with its texts put back."""
        found = self.texts(ref for _, ref in refs_in(value))
        return replace_refs(value, found, erased)

    def reveal_many(self, values: list[Any], erased: Any = None) -> list[Any]:
        """Like ``reveal`` for many values, with one lookup."""
        found = self.texts(ref for value in values for _, ref in refs_in(value))
        return [replace_refs(value, found, erased) for value in values]

    def purge(self) -> None:
        """After an erasure, leave no copy of the deleted rows behind where the database
        can be told so: SQLite folds its write-ahead log into the file and truncates it
        (the rows were deleted with ``secure_delete``); PostgreSQL vacuums the table.
        Backups and archived logs keep what they held: they follow their own retention."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"VACUUM {TEXT_TABLE}")

    def matches(self, ref: str, text: str) -> bool | None:
        """Whether ``text`` is what ``ref`` commits to; ``None`` once it is erased."""
        row = self.lookup([ref]).get(ref)
        if row is None:
            return None
        return commitment(row.salt, text) == ref

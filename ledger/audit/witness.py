"""A witness: C2SP ``tlog-witness`` ``add-checkpoint``, with its state in a small SQLite file.

For every log it is configured with (by the log's verifier key; the key's name is the
log's origin) the witness remembers the largest checkpoint it cosigned, and cosigns a
new one only if it is signed by the log *and* a consistency proof shows it extends the
remembered one. So a log that rewrote history, or shows one party a different history
than another (a split view), cannot get this witness's cosignature for it.

Checking the old size and storing the new checkpoint happen in one ``BEGIN IMMEDIATE``
transaction, so two concurrent requests can never roll the state back (the race the
spec describes). A log-signed checkpoint with the same size as the cosigned one but
another root is proof that the log forked: it is kept as evidence (only the signed body
and the log's own signature lines; a bad consistency proof proves nothing, since anyone can
attach one to a public checkpoint).
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path

from ledger.audit.checkpoint import CheckpointError, VerifierKey, parse_note
from ledger.audit.cosignature import Cosigner
from ledger.audit.merkle import EMPTY_ROOT, verify_consistency

MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 128 * 1024  # room for 16 large (post-quantum) signature lines
MAX_SIZE = 2**63 - 1  # what the state file stores; larger trees are refused, not truncated
MAX_EVIDENCE = 1000
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class WitnessRefusal(Exception):
    """An ``add-checkpoint`` request the witness will not cosign, with its HTTP status."""

    def __init__(self, status: int, message: str, *, known_size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.known_size = known_size

    @property
    def body(self) -> str:
        """409 carries the size the witness knows, as the spec requires; else the reason."""
        if self.known_size is not None:
            return f"{self.known_size}\n"
        return self.message + "\n"

    @property
    def content_type(self) -> str:
        if self.known_size is not None:
            return SIZE_CONTENT_TYPE
        return "text/plain; charset=utf-8"


@dataclass(frozen=True)
class CheckpointBody:
    """The first three lines of a C2SP checkpoint; extension lines are kept in ``text``."""

    origin: str
    size: int
    root: bytes
    text: str


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str


def _bad(message: str) -> WitnessRefusal:
    return WitnessRefusal(400, message)


def _size(text: str, what: str) -> int:
    if not _SIZE_RE.fullmatch(text):
        raise _bad(f"{what} must be a decimal number without leading zeros")
    if int(text) > MAX_SIZE:
        raise _bad(f"{what} is larger than this witness supports (2^63 - 1)")
    return int(text)


def parse_request(body: bytes) -> AddCheckpoint:
    """Parse ``old N\\n`` + proof lines + ``\\n`` + a signed checkpoint note (400 if malformed)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessRefusal(413, f"request larger than {MAX_REQUEST_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise _bad("request must be an old size line, proof lines, an empty line, a checkpoint")
    lines = head.split("\n")
    kind, _, old_text = lines[0].partition(" ")
    if kind != "old":
        raise _bad("the first line must be 'old <size>'")
    old_size = _size(old_text, "old size")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _bad(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise _bad("a consistency proof line is not base64") from None
        if len(digest) != 32:
            raise _bad("a consistency proof line is not a 32-byte hash")
        proof.append(digest)
    return AddCheckpoint(old_size, proof, note)


def parse_checkpoint_body(text: str) -> CheckpointBody:
    """Origin, size and root of a checkpoint body; any extension lines are allowed."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise _bad("checkpoint must be origin, size and root lines, then extension lines")
    origin, size_text, root_text = lines[:3]
    size = _size(size_text, "checkpoint size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("checkpoint root hash is not base64") from None
    if len(root) != 32:
        raise _bad("checkpoint root hash is not 32 bytes")
    return CheckpointBody(origin, size, root, text)


@dataclass(frozen=True)
class LogState:
    origin: str
    size: int
    root: bytes
    note: str
    cosigned_at: datetime


class WitnessState:
    """The witness's memory: per log, the largest checkpoint it cosigned (SQLite file)."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(
                """
                PRAGMA journal_mode=WAL;
                CREATE TABLE IF NOT EXISTS logs (
                    origin TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    root BLOB NOT NULL,
                    note TEXT NOT NULL,
                    cosigned_at TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS evidence (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    origin TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    request TEXT NOT NULL UNIQUE
                );
                """
            )

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE.
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An exclusive write transaction: check-then-update cannot interleave."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    @staticmethod
    def latest(conn: sqlite3.Connection, origin: str) -> LogState | None:
        row = conn.execute(
            "SELECT origin, size, root, note, cosigned_at FROM logs WHERE origin = ?", (origin,)
        ).fetchone()
        if row is None:
            return None
        return LogState(row[0], row[1], bytes(row[2]), row[3], datetime.fromisoformat(row[4]))

    @staticmethod
    def store(conn: sqlite3.Connection, cp: CheckpointBody, note: str, at: datetime) -> None:
        conn.execute(
            "INSERT INTO logs (origin, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (cp.origin, cp.size, cp.root, note, at.isoformat()),
        )

    def keep_evidence(self, origin: str, reason: str, request: str) -> None:
        """Keep a signed note that proves misbehaviour: once, and at most MAX_EVIDENCE."""
        with self.transaction() as conn:
            if conn.execute("SELECT count(*) FROM evidence").fetchone()[0] >= MAX_EVIDENCE:
                return
            conn.execute(
                "INSERT OR IGNORE INTO evidence (origin, received_at, reason, request) "
                "VALUES (?, ?, ?, ?)",
                (origin, datetime.now(UTC).isoformat(), reason, request),
            )

    def logs(self) -> list[LogState]:
        conn = self._connect()
        try:
            rows = conn.execute("SELECT origin FROM logs ORDER BY origin").fetchall()
            return [s for (origin,) in rows if (s := self.latest(conn, origin)) is not None]
        finally:
            conn.close()

    def evidence(self) -> list[dict[str, str]]:
        conn = self._connect()
        try:
            rows = conn.execute(
                "SELECT origin, received_at, reason, request FROM evidence ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
        return [
            dict(zip(("origin", "received_at", "reason", "request"), r, strict=True)) for r in rows
        ]


class Witness:
    """Cosigns checkpoints of the configured logs that extend what it has seen."""

    def __init__(
        self,
        cosigner: Cosigner,
        logs: Iterable[VerifierKey],
        state: WitnessState,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cosigner = cosigner
        self.state = state
        self.clock = clock
        self.log_keys: dict[str, list[VerifierKey]] = {}
        for key in logs:
            self.log_keys.setdefault(key.name, []).append(key)
        self._lock = threading.Lock()  # one writer in this process; BEGIN IMMEDIATE across them

    def add_checkpoint(self, body: bytes) -> str:
        """Check one request; returns the cosignature line(s), or raises ``WitnessRefusal``."""
        request = parse_request(body)
        try:
            note = parse_note(request.note)
        except CheckpointError as exc:
            raise _bad(f"malformed checkpoint note: {exc}") from None
        cp = parse_checkpoint_body(note.text)
        keys = self.log_keys.get(cp.origin)
        if keys is None:
            raise WitnessRefusal(404, f"unknown log origin {cp.origin!r}")
        message = note.text.encode("utf-8")
        trusted = {(k.name, k.key_id): k for k in keys}
        signed_by_log: list[str] = []
        for sig in note.signatures:
            key = trusted.get((sig.name, sig.key_id))
            if key is None:
                continue  # other keys (earlier witnesses, say) are ignored, as the spec says
            if not key.verify(message, sig.signature):
                # signed-note: a failing signature by a known key rejects the whole note.
                raise WitnessRefusal(403, f"a signature by {key.name} does not verify")
            blob = sig.key_id.to_bytes(4, "big") + sig.signature
            signed_by_log.append(f"— {sig.name} {base64.b64encode(blob).decode('ascii')}\n")
        if not signed_by_log:
            raise WitnessRefusal(403, f"no valid signature by a known key for {cp.origin!r}")
        if request.old_size > cp.size:
            raise _bad(f"old size {request.old_size} is larger than the checkpoint size {cp.size}")
        # What the witness keeps and shows: the body and the log's verified signatures only.
        verified = note.text + "\n" + "".join(signed_by_log)
        with self._lock:
            return self._check_and_cosign(request, cp, verified)

    def _check_and_cosign(self, request: AddCheckpoint, cp: CheckpointBody, verified: str) -> str:
        evidence: str | None = None
        try:
            with self.state.transaction() as conn:
                known = self.state.latest(conn, cp.origin)
                known_size = known.size if known else 0
                if request.old_size != known_size:
                    raise WitnessRefusal(
                        409,
                        f"old size {request.old_size} is not the cosigned size {known_size}",
                        known_size=known_size,
                    )
                known_root = known.root if known else EMPTY_ROOT
                if request.old_size == cp.size and cp.root != known_root:
                    evidence = "same size, different root: a fork" if known else None
                    raise WitnessRefusal(
                        409, f"a different root for size {cp.size}", known_size=known_size
                    )
                if known is None and request.old_size == 0 and request.proof:
                    raise WitnessRefusal(422, "the proof must be empty from size 0")
                if known is not None and not verify_consistency(
                    known.size, cp.size, known_root, cp.root, request.proof
                ):
                    raise WitnessRefusal(
                        422, f"the consistency proof from size {known.size} does not verify"
                    )
                line = self.cosigner.cosign(cp.text, int(self.clock()))
                self.state.store(conn, cp, verified, datetime.now(UTC))
                return line
        except WitnessRefusal:
            if evidence is not None:
                self.state.keep_evidence(cp.origin, evidence, verified)
            raise

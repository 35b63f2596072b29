"""The audit service: signed checkpoints, proofs, the exported log, and the signing key.

Checkpoints are C2SP ``tlog-checkpoint`` notes signed with Ed25519. The key comes
from ``TRYGG_SIGNING_KEY_FILE``; when that file does not exist it is generated on
first use (and the log says so), so the embedded default works out of the box.

The log's origin names this one log (C2SP: an origin identifies exactly one log). It is
fixed when the log is first used, from ``TRYGG_LOG_ORIGIN`` or as ``trygg-ledger/<random
id>``, and stored with the log; a later ``TRYGG_LOG_ORIGIN`` that differs is refused.

Checkpoints are served with the cosignature lines witnesses added
(``ledger.audit.witnesses``) appended to the log's own signature.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Engine, insert, select

from ledger.access import Permission, Principal
from ledger.audit.checkpoint import Signer, parse_checkpoint, sign_checkpoint
from ledger.audit.cosignature import with_cosignatures
from ledger.audit.leaf import canonical_originator_id, make_record, stored_bytes
from ledger.audit.merkle import consistency_proof, inclusion_proof, root_at
from ledger.audit.sealer import Sealer
from ledger.audit.store import (
    checkpoints,
    cosignatures,
    leaves,
    log_identity,
    nodes,
    seal_state,
    with_prefetched_nodes,
)
from ledger.audit.witnesses import WitnessConfig, WitnessPool
from ledger.errors import InvalidInput, NotFound
from ledger.settings import ConfigurationError

ORIGIN_PREFIX = "trygg-ledger/"
LEGACY_ORIGIN = "trygg-ledger"  # the shared default before origins were unique

log = logging.getLogger("trygg.audit")


def load_or_create_signer(path: Path, name: str) -> Signer:
    if path.exists():
        return Signer.from_pem_file(name, path)
    signer = Signer.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(signer.to_pem())
    log.warning(
        "generated a new checkpoint signing key at %s (verifier key %s); keep it safe and "
        "set TRYGG_SIGNING_KEY_FILE in production",
        path,
        signer.verifier_key,
    )
    return signer


class AuditService:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        engine: Engine,
        *,
        signing_key_file: Path,
        origin: str | None = None,
        witnesses: Sequence[WitnessConfig] = (),
        witness_timeout: float = 5.0,
        page_size: int = 1000,
    ) -> None:
        self.recorder = recorder
        self.engine = engine
        self.signing_key_file = signing_key_file
        self._signer: Signer | None = None
        self.sealer = Sealer(recorder, engine, page_size=page_size)
        self.origin = _fix_origin(engine, origin)
        self.witnesses = WitnessPool(witnesses, engine, self._proof, timeout=witness_timeout)
        self.checkpoint_issued = threading.Event()  # wakes the witness gatherer
        self.last_verify: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def require(who: Principal) -> None:
        """Only auditors and administrators read the raw log, checkpoints and proofs."""
        who.require(Permission.audit)

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = load_or_create_signer(self.signing_key_file, self.origin)
        return self._signer

    def public_key(self) -> dict[str, str]:
        return {"verifier_key": self.signer.verifier_key, "origin": self.origin}

    # -- checkpoints ------------------------------------------------------------------------

    def issue_checkpoint(self) -> dict[str, Any]:
        """Seal the log up to now and sign a checkpoint of the whole tree."""
        with self._lock:
            self.sealer.seal()
            with self.engine.begin() as conn:
                size = int(conn.execute(select(seal_state.c.tree_size)).scalar_one())
                root = with_prefetched_nodes(conn, lambda reader: root_at(size, reader))
                issued = datetime.now(UTC).replace(microsecond=0)
                note = sign_checkpoint(self.origin, size, root, issued, self.signer)
                inserted = conn.execute(
                    insert(checkpoints).values(
                        tree_size=size, root_hash=root, issued_at=issued, note=note
                    )
                ).inserted_primary_key
                assert inserted is not None  # an INSERT of one row always has its key
                row_id = int(inserted[0])
        self.checkpoint_issued.set()
        return self._checkpoint_dict(row_id, size, root, issued, note)

    def maybe_issue_checkpoint(self) -> dict[str, Any] | None:
        """Issue a checkpoint if the tree has grown since the last one."""
        _, size = self.sealer.state()
        latest = self.latest_checkpoint()
        if size > 0 and (latest is None or latest["tree_size"] < size):
            return self.issue_checkpoint()
        return None

    def latest_checkpoint(self) -> dict[str, Any] | None:
        """The newest checkpoint, its note carrying every cosignature gathered so far."""
        found = self.checkpoints(limit=1)
        return found[0] if found else None

    def checkpoints(self, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        query = select(checkpoints).order_by(checkpoints.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(checkpoints.c.id < before)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            lines = _cosignature_lines(conn, [row[0] for row in rows])
        return [
            self._checkpoint_dict(
                row.id, row.tree_size, row.root_hash, row.issued_at, row.note, lines.get(row.id, [])
            )
            for row in rows
        ]

    @staticmethod
    def _checkpoint_dict(
        row_id: int,
        size: int,
        root: bytes,
        issued: datetime,
        note: str,
        cosigned: Sequence[tuple[str, int, str]] = (),
    ) -> dict[str, Any]:
        if issued.tzinfo is None:  # SQLite hands back naive UTC
            issued = issued.replace(tzinfo=UTC)
        return {
            "id": row_id,
            "tree_size": int(size),
            "root_hash": bytes(root).hex(),
            "issued_at": issued.isoformat(),
            "note": with_cosignatures(note, [line for _, _, line in cosigned]),
            "cosignatures": [{"witness": name, "timestamp": stamp} for name, stamp, _ in cosigned],
        }

    # -- witnesses --------------------------------------------------------------------------

    def gather_cosignatures(self) -> dict[str, Any] | None:
        """Ask every witness to cosign the latest checkpoint now; returns it as served."""
        latest = self.latest_checkpoint()
        if latest is None:
            return None
        self.witnesses.gather(latest)
        return self.checkpoint(latest["id"])

    def issue_witnessed_checkpoint(self) -> dict[str, Any]:
        """Sign a checkpoint and wait (at most the witness timeout) for the witnesses'
        cosignatures: what an auditor who asks for a checkpoint to keep wants."""
        issued = self.issue_checkpoint()
        self.witnesses.gather(issued)
        return self.checkpoint(issued["id"])

    def checkpoint(self, checkpoint_id: int) -> dict[str, Any]:
        found = self.checkpoints(limit=1, before=checkpoint_id + 1)
        if not found or found[0]["id"] != checkpoint_id:
            raise NotFound(f"no checkpoint {checkpoint_id}")
        return found[0]

    def witness_status(self) -> dict[str, Any]:
        return self.witnesses.status(self.latest_checkpoint())

    def _proof(self, old: int, new: int) -> list[bytes]:
        return [bytes.fromhex(h) for h in self.consistency(old, new)["proof"]]

    # -- proofs -----------------------------------------------------------------------------

    def sealed_size(self) -> int:
        return self.sealer.state()[1]

    def _check_size(self, field: str, size: int) -> None:
        sealed = self.sealed_size()
        if size < 1 or size > sealed:
            raise InvalidInput.one(field, f"must be between 1 and the sealed tree size ({sealed})")

    def inclusion(self, position: int, tree_size: int) -> dict[str, Any]:
        self._check_size("tree_size", tree_size)
        with self.engine.connect() as conn:
            index = conn.execute(
                select(leaves.c.leaf_index).where(leaves.c.position == position)
            ).scalar_one_or_none()
            if index is None:
                raise NotFound(f"no sealed event at position {position}")
            if index >= tree_size:
                raise InvalidInput.one(
                    "tree_size",
                    f"the event is leaf {index}; a tree of {tree_size} does not hold it",
                )
            proof, leaf, root = with_prefetched_nodes(
                conn,
                lambda reader: (
                    inclusion_proof(index, tree_size, reader),
                    reader.node(0, index),
                    root_at(tree_size, reader),
                ),
            )
        return {
            "position": position,
            "leaf_index": int(index),
            "tree_size": tree_size,
            "leaf_hash": leaf.hex(),
            "root_hash": root.hex(),
            "proof": [h.hex() for h in proof],
        }

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        self._check_size("second", second)
        if first < 1 or first > second:
            raise InvalidInput.one("first", "must be between 1 and second")
        with self.engine.connect() as conn:
            proof, first_root, second_root = with_prefetched_nodes(
                conn,
                lambda reader: (
                    consistency_proof(first, second, reader),
                    root_at(first, reader),
                    root_at(second, reader),
                ),
            )
        return {
            "first": first,
            "second": second,
            "first_root": first_root.hex(),
            "second_root": second_root.hex(),
            "proof": [h.hex() for h in proof],
        }

    # -- the log, for auditors --------------------------------------------------------------

    def export(
        self, after: int = 0, limit: int | None = None, page: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Sealed events after position ``after``, as verifier records, in log order.

        ``leaf_hash`` is the hash *sealed* for that leaf; the record's fields come
        from the event store as it is now, so any later edit shows as a mismatch.
        """
        sent = 0
        while limit is None or sent < limit:
            take = page if limit is None else min(page, limit - sent)
            with self.engine.connect() as conn:
                sealed = conn.execute(
                    select(leaves.c.leaf_index, leaves.c.position, nodes.c.hash)
                    .join(nodes, (nodes.c.level == 0) & (nodes.c.idx == leaves.c.leaf_index))
                    .where(leaves.c.position > after)
                    .order_by(leaves.c.position)
                    .limit(take)
                ).all()
            if not sealed:
                return
            first, last = sealed[0][1], sealed[-1][1]
            stored = {
                n.id: n
                for n in self.recorder.select_notifications(
                    start=first, limit=last - first + 1, stop=last
                )
            }
            for leaf_index, position, digest in sealed:
                n = stored.get(position)
                if n is None:
                    continue  # a missing event shows as a gap in leaf_index
                record = make_record(
                    leaf_index=int(leaf_index),
                    position=int(position),
                    originator_id=canonical_originator_id(str(n.originator_id)),
                    originator_version=n.originator_version,
                    topic=n.topic,
                    state=stored_bytes(n.state),
                )
                record["leaf_hash"] = bytes(digest).hex()
                yield record
                sent += 1
            after = last
            if len(sealed) < take:
                return

    # -- the background job -----------------------------------------------------------------

    def run(self, stopping: threading.Event, wake: threading.Event, interval: float) -> None:
        """Seal continuously; issue a checkpoint every ``interval`` seconds while the log grows."""
        next_checkpoint = time.monotonic() + interval
        while not stopping.is_set():
            try:
                sealed = self.sealer.seal()
                if time.monotonic() >= next_checkpoint:
                    self.maybe_issue_checkpoint()
                    next_checkpoint = time.monotonic() + interval
            except Exception:
                log.exception("sealing failed; retrying")
                sealed = 0
            if sealed == 0:
                wake.wait(min(0.5, interval))
                wake.clear()
            else:
                stopping.wait(0.05)  # let writes accumulate into pages (see ProjectionRunner.run)

    def summary(self) -> dict[str, Any]:
        position, size = self.sealer.state()
        head = self.recorder.max_notification_id() or 0
        latest = self.latest_checkpoint()
        return {
            "latest_checkpoint": latest,
            "witnesses": self.witnesses.status(latest),
            "sealed_size": size,
            "sealed_position": position,
            "head": head,
            "lag": max(0, head - position),
            "last_verify": self.last_verify,
            "verifier_key": self.signer.verifier_key,
        }


def _cosignature_lines(
    conn: Connection, checkpoint_ids: Sequence[int]
) -> dict[int, list[tuple[str, int, str]]]:
    """checkpoint id → [(witness, timestamp, line)], in witness-name order."""
    found: dict[int, list[tuple[str, int, str]]] = {}
    if not checkpoint_ids:
        return found
    rows = conn.execute(
        select(
            cosignatures.c.checkpoint_id,
            cosignatures.c.witness,
            cosignatures.c.timestamp,
            cosignatures.c.line,
        )
        .where(cosignatures.c.checkpoint_id.in_(checkpoint_ids))
        .order_by(cosignatures.c.checkpoint_id, cosignatures.c.witness)
    )
    for checkpoint_id, witness, stamp, line in rows:
        found.setdefault(int(checkpoint_id), []).append((witness, int(stamp), line))
    return found


def _fix_origin(engine: Engine, wanted: str | None) -> str:
    """The log's origin: stored with the log on first use and never changed after."""
    stored = _stored_origin(engine)
    if stored is None:
        with engine.connect() as conn:
            first = conn.execute(
                select(checkpoints.c.note).order_by(checkpoints.c.id).limit(1)
            ).scalar_one_or_none()
        # A log signed before origins were stored keeps the origin it signed with.
        legacy = parse_checkpoint(first).origin if first else None
        candidate = legacy or wanted or ORIGIN_PREFIX + secrets.token_hex(8)
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(log_identity).values(
                        id=1, origin=candidate, created_at=datetime.now(UTC)
                    )
                )
            stored = candidate
        except sqlalchemy.exc.IntegrityError:  # another process fixed it first
            stored = _stored_origin(engine)
            assert stored is not None
    if wanted is not None and wanted != stored:
        raise ConfigurationError(
            f"TRYGG_LOG_ORIGIN is {wanted!r}, but this log's origin is {stored!r}: an origin "
            "names one log and never changes (unset TRYGG_LOG_ORIGIN, or use a new database)"
        )
    return stored


def _stored_origin(engine: Engine) -> str | None:
    with engine.connect() as conn:
        origin = conn.execute(select(log_identity.c.origin)).scalar_one_or_none()
    return None if origin is None else str(origin)

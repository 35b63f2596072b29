"""Where the tree lives: SQL tables for leaves, perfect nodes, checkpoints, sealer state.

* ``trygg_merkle_nodes`` — every perfect aligned subtree hash, (level, index) → hash;
  level 0 are the leaf hashes. Proofs and roots read O(log n) of these rows.
* ``trygg_merkle_leaves`` — leaf index ↔ log position, with the event's identity
  (originator id and version), so a verifier can tell a modified event from an
  inserted, missing or reordered one.
* ``trygg_checkpoints`` — every signed checkpoint note issued.
* ``trygg_seal_state`` — one row: the last sealed position and the tree size.
* ``trygg_log_identity`` — one row: the log's origin, fixed when the log is created.
* ``trygg_cosignatures`` — witness cosignature lines, per checkpoint and witness.
* ``trygg_witness_status`` — per witness: the size it last cosigned, and its last error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    or_,
    select,
)

from ledger.audit.merkle import MemoryNodeStore, NodeReader

T = TypeVar("T")

metadata = MetaData()

nodes = Table(
    "trygg_merkle_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

leaves = Table(
    "trygg_merkle_leaves",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", Integer, nullable=False),
)
Index("trygg_merkle_leaves_identity", leaves.c.originator_id, leaves.c.originator_version)

checkpoints = Table(
    "trygg_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
)

seal_state = Table(
    "trygg_seal_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

log_identity = Table(
    "trygg_log_identity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("origin", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

cosignatures = Table(
    "trygg_cosignatures",
    metadata,
    Column("checkpoint_id", Integer, ForeignKey(checkpoints.c.id), primary_key=True),
    Column("witness", String(200), primary_key=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("line", Text, nullable=False),
)

witness_status = Table(
    "trygg_witness_status",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("url", Text, nullable=False),
    Column("verifier_key", Text, nullable=False),
    Column("cosigned_size", BigInteger, nullable=True),
    Column("cosigned_at", DateTime(timezone=True), nullable=True),
    Column("attempted_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
)


class _WantedNodes:
    """A ``NodeReader`` that answers every read with a placeholder and remembers it."""

    def __init__(self) -> None:
        self.wanted: set[tuple[int, int]] = set()

    def node(self, level: int, index: int) -> bytes:
        self.wanted.add((level, index))
        return b"\0" * 32


def with_prefetched_nodes(conn: Connection, compute: Callable[[NodeReader], T]) -> T:
    """Run ``compute`` against the stored tree, reading every node it needs in one query.

    Which nodes a proof or a root reads depends only on indices and sizes, never on the
    hashes: a dry run with placeholders names them, one query fetches them, and the real
    run reads from memory. (One statement per node made a proof at 1M leaves ~40 round
    trips.) A missing node still raises ``LookupError``.
    """
    dry = _WantedNodes()
    compute(dry)
    by_level: dict[int, list[int]] = {}
    for level, index in dry.wanted:
        by_level.setdefault(level, []).append(index)
    store = MemoryNodeStore()
    if by_level:
        # Per level, ``idx IN (...)``: both databases use the primary key for each term
        # (SQLite does not for a row-value ``(level, idx) IN``).
        match = or_(
            *[and_(nodes.c.level == lv, nodes.c.idx.in_(ix)) for lv, ix in by_level.items()]
        )
        for level, index, digest in conn.execute(
            select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(match)
        ):
            store.put(int(level), int(index), bytes(digest))
    return compute(store)

"""The sealer: appends every stored event, in log order, as a leaf of the Merkle tree.

Like a projection it is exactly-once and resumable: one page of leaves, the
nodes they complete, and the new (position, tree size) are written in one
transaction, and the state update is conditional on the size read at the start,
so two sealers never append the same page twice and a crash loses nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import sqlalchemy.exc
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine, insert, select, update

from ledger.audit.leaf import leaf_hash_of, stored_bytes
from ledger.audit.merkle import TreeBuilder
from ledger.audit.store import leaves, metadata, nodes, seal_state, with_prefetched_nodes
from ledger.failpoints import crash_point
from ledger.storage import bulk_insert

log = logging.getLogger("trygg.audit")


class SealRace(Exception):
    """Another sealer appended first; this page was rolled back."""


class Sealer:
    def __init__(
        self, recorder: ApplicationRecorder, engine: Engine, page_size: int = 1000
    ) -> None:
        self.recorder = recorder
        self.engine = engine
        self.page_size = page_size
        self._builder: TreeBuilder | None = None
        metadata.create_all(engine)
        with engine.begin() as conn:
            if conn.execute(select(seal_state.c.id)).first() is None:
                conn.execute(
                    insert(seal_state).values(
                        id=1, position=0, tree_size=0, updated_at=datetime.now(UTC)
                    )
                )

    def state(self) -> tuple[int, int]:
        """(last sealed position, tree size)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(seal_state.c.position, seal_state.c.tree_size)).one()
        return int(row[0]), int(row[1])

    def step(self, stop: int | None = None) -> int:
        """Seal at most one page; returns the number of leaves appended."""
        try:
            return self._step(stop)
        except sqlalchemy.exc.IntegrityError:
            raise SealRace from None

    def _step(self, stop: int | None) -> int:
        with self.engine.begin() as conn:
            position, size = conn.execute(
                select(seal_state.c.position, seal_state.c.tree_size)
            ).one()
            batch = self.recorder.select_notifications(
                start=position, limit=self.page_size, stop=stop, inclusive_of_start=False
            )
            if not batch:
                return 0
            builder = self._builder
            if builder is None or builder.size != size:
                builder = with_prefetched_nodes(
                    conn, lambda reader: TreeBuilder.from_frontier(size, reader)
                )
            # Work on a copy: if this transaction rolls back, the cached frontier must too.
            working = TreeBuilder.from_frontier(builder.size, _FrontierReader(builder))
            node_rows = []
            leaf_rows = []
            for n in batch:
                originator_id = str(uuid.UUID(str(n.originator_id)))
                digest = leaf_hash_of(
                    n.id, originator_id, n.originator_version, n.topic, stored_bytes(n.state)
                )
                leaf_rows.append(
                    {
                        "leaf_index": working.size,
                        "position": n.id,
                        "originator_id": originator_id,
                        "originator_version": n.originator_version,
                    }
                )
                node_rows += [
                    {"level": lv, "idx": ix, "hash": h} for lv, ix, h in working.append(digest)
                ]
            bulk_insert(conn, leaves, leaf_rows)
            bulk_insert(conn, nodes, node_rows)
            done = conn.execute(
                update(seal_state)
                .where(seal_state.c.id == 1, seal_state.c.tree_size == size)
                .values(position=batch[-1].id, tree_size=working.size, updated_at=datetime.now(UTC))
            )
            if done.rowcount != 1:
                raise SealRace
            crash_point("seal.before_commit")
        self._builder = working
        return len(batch)

    def seal(self, stop: int | None = None) -> int:
        """Seal everything up to ``stop`` (default: the head now)."""
        stop = self.recorder.max_notification_id() if stop is None else stop
        total = 0
        while True:
            try:
                n = self.step(stop)
            except SealRace:
                self._builder = None
                log.info("another sealer is ahead; continuing from its state")
                continue
            total += n
            if n < self.page_size:
                return total


class _FrontierReader:
    """Reads a builder's own frontier, to copy it without touching the database."""

    def __init__(self, builder: TreeBuilder) -> None:
        self._nodes = {(lv, ix): h for lv, ix, h in builder.frontier()}

    def node(self, level: int, index: int) -> bytes:
        return self._nodes[(level, index)]

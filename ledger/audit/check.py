"""``trygg verify``: recompute everything from the stored events and compare.

What is checked, in order, reading the log once (memory does not grow with it):

1. every stored checkpoint's signature, with this ledger's public key;
2. the events against the sealed leaves, position by position: each sealed
   position must still hold an event with the same identity and the same leaf
   hash, and no event may appear at a position the tree skipped;
3. the tree rebuilt from the *recomputed* leaves against every stored
   checkpoint's root (so a forger who rewrote both an event and its stored leaf
   is still caught), and against an auditor's own earlier checkpoint if given.

The first problem is reported with its position and one of: ``modified``,
``missing``, ``inserted``, ``reordered``, ``truncated``, ``bad_signature``,
``root_mismatch``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine, select

from ledger.audit.checkpoint import CheckpointError, VerifierKey, verify_checkpoint
from ledger.audit.leaf import leaf_hash_of, stored_bytes
from ledger.audit.merkle import TreeBuilder
from ledger.audit.store import checkpoints, leaves, nodes, seal_state
from ledger.storage import LogRow, log_pages

PAGE = 5000


@dataclass
class Problem:
    kind: str
    detail: str
    position: int | None = None
    leaf_index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "position": self.position,
            "leaf_index": self.leaf_index,
            "detail": self.detail,
        }


@dataclass
class VerifyReport:
    events: int = 0
    leaves: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "leaves": self.leaves,
            "checkpoints": self.checkpoints,
            "first_problem": self.first.as_dict() if self.first else None,
            "problems": [p.as_dict() for p in self.problems[:20]],
        }


def _events(recorder: ApplicationRecorder, stop: int | None = None) -> Iterator[LogRow]:
    """(position, originator_id, version, topic, state) in log order, a page at a time."""
    for batch in log_pages(recorder, 0, PAGE, stop=stop):
        yield from batch


def _sealed(engine: Engine) -> Iterator[tuple[int, int, str, int, bytes]]:
    """(leaf_index, position, originator_id, version, sealed leaf hash) in leaf order."""
    after = -1
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    leaves.c.leaf_index,
                    leaves.c.position,
                    leaves.c.originator_id,
                    leaves.c.originator_version,
                    nodes.c.hash,
                )
                .outerjoin(nodes, (nodes.c.level == 0) & (nodes.c.idx == leaves.c.leaf_index))
                .where(leaves.c.leaf_index > after)
                .order_by(leaves.c.leaf_index)
                .limit(PAGE)
            ).all()
        for r in rows:
            yield int(r[0]), int(r[1]), r[2], int(r[3]), bytes(r[4] or b"")
        if len(rows) < PAGE:
            return
        after = int(rows[-1][0])


def verify_ledger(
    recorder: ApplicationRecorder,
    engine: Engine,
    verifier_key: str,
    *,
    auditor_checkpoint: str | None = None,
    auditor_key: str | None = None,
    progress: Callable[[int], None] | None = None,
    stop_after: int = 1,
) -> VerifyReport:
    report = VerifyReport()
    key = VerifierKey.parse(verifier_key)
    with engine.connect() as conn:
        stored = conn.execute(
            select(
                checkpoints.c.id,
                checkpoints.c.tree_size,
                checkpoints.c.root_hash,
                checkpoints.c.note,
            ).order_by(checkpoints.c.tree_size, checkpoints.c.id)
        ).all()
        sealed_position, sealed_size = conn.execute(
            select(seal_state.c.position, seal_state.c.tree_size)
        ).one()
    report.checkpoints = len(stored)

    # 1. Signatures.
    expected_roots: dict[int, list[tuple[str, bytes]]] = {}
    for row_id, size, root, note in stored:
        try:
            cp = verify_checkpoint(note, key)
        except CheckpointError as e:
            report.problems.append(
                Problem("bad_signature", f"checkpoint {row_id} (tree size {size}): {e}")
            )
            continue
        if cp.size != size or cp.root != bytes(root):
            report.problems.append(
                Problem(
                    "bad_signature", f"checkpoint {row_id}: its row disagrees with its signed note"
                )
            )
            continue
        expected_roots.setdefault(cp.size, []).append((f"checkpoint {row_id}", cp.root))
    if auditor_checkpoint is not None:
        try:
            cp = verify_checkpoint(
                auditor_checkpoint, VerifierKey.parse(auditor_key or verifier_key)
            )
            expected_roots.setdefault(cp.size, []).append(("your checkpoint", cp.root))
        except CheckpointError as e:
            report.problems.append(Problem("bad_signature", f"your checkpoint: {e}"))
    if report.problems and len(report.problems) >= stop_after:
        return report

    # 2 and 3. One merged walk over events and sealed leaves.
    tree = TreeBuilder()
    events = _events(recorder)
    sealed = _sealed(engine)
    event = next(events, None)
    leaf = next(sealed, None)
    expected_index = 0

    def problem(kind: str, detail: str, position: int | None, index: int | None) -> bool:
        report.problems.append(Problem(kind, detail, position, index))
        return len(report.problems) >= stop_after

    def check_roots() -> bool:
        for label, root in expected_roots.get(tree.size, []):
            if tree.root() != root:
                return problem(
                    "root_mismatch",
                    f"the log rebuilt from the stored events does not match {label} "
                    f"(tree size {tree.size})",
                    None,
                    tree.size - 1,
                )
        return False

    while leaf is not None or (event is not None and event[0] <= sealed_position):
        if leaf is not None and leaf[0] != expected_index:
            if problem(
                "missing",
                f"leaf {expected_index} is missing from the leaf table",
                None,
                expected_index,
            ):
                return report
            expected_index = leaf[0]
        if event is not None and (leaf is None or event[0] < leaf[1]):
            if event[0] <= sealed_position:
                kind = "inserted"
                detail = f"an event at position {event[0]} that was never sealed"
                if problem(kind, detail, event[0], None):
                    return report
            event = next(events, None)
            continue
        assert leaf is not None
        index, position, originator_id, version, sealed_hash = leaf
        report.leaves += 1
        if event is None or event[0] > position:
            rest_missing = event is None
            kind = "truncated" if rest_missing else "missing"
            detail = (
                f"the log ends before position {position} (leaf {index}); "
                "sealed events at its tail are gone"
                if rest_missing
                else f"the sealed event at position {position} (leaf {index}) is gone"
            )
            if problem(kind, detail, position, index):
                return report
            leaf = next(sealed, None)
            expected_index = index + 1
            continue
        # the event's position == the leaf's position
        report.events += 1
        _, actual_id, actual_version, topic, state = event
        digest = leaf_hash_of(position, actual_id, actual_version, topic, stored_bytes(state))
        tree.append(digest)
        if digest != sealed_hash:
            if (actual_id, actual_version) != (originator_id, version):
                kind, detail = _moved(engine, actual_id, actual_version, position)
            else:
                kind, detail = "modified", f"the event at position {position} was changed"
            if problem(kind, detail, position, index):
                return report
        if check_roots():
            return report
        if progress is not None and report.leaves % 10_000 == 0:
            progress(report.leaves)
        event = next(events, None)
        leaf = next(sealed, None)
        expected_index = index + 1
    if report.leaves < sealed_size and not report.problems:
        problem(
            "truncated",
            f"the leaf table ends at {report.leaves} of {sealed_size} sealed leaves",
            None,
            report.leaves,
        )
    for size, labels in expected_roots.items():
        if size > tree.size and not report.problems:
            problem(
                "truncated",
                f"{labels[0][0]} covers {size} events; only {tree.size} remain",
                None,
                tree.size,
            )
    return report


def _moved(engine: Engine, originator_id: str, version: int, position: int) -> tuple[str, str]:
    """An event with another identity sits at ``position``: where was it sealed?"""
    with engine.connect() as conn:
        sealed_at = conn.execute(
            select(leaves.c.position).where(
                leaves.c.originator_id == originator_id, leaves.c.originator_version == version
            )
        ).scalar_one_or_none()
    if sealed_at is None:
        return (
            "inserted",
            f"a forged event sits at position {position}, which the tree sealed for another event",
        )
    return (
        "reordered",
        f"the event sealed at position {sealed_at} now sits at position {position}",
    )

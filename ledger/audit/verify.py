"""``trygg verify``: recompute everything from the stored events and compare.

What is checked, in order, reading the log once (memory does not grow with it):

1. every stored checkpoint's signature, with this ledger's public key;
2. the events against the sealed leaves, position by position: each sealed
   position must still hold an event with the same identity and the same leaf
   hash, and no event may appear at a position the tree skipped;
3. the tree rebuilt from the *recomputed* leaves against every stored
   checkpoint's root (so a forger who rewrote both an event and its stored leaf
   is still caught), and against an auditor's own earlier checkpoint if given.

4. the erasable texts (``ledger.texts``): every text row must still hash to the
   reference it is stored under, and every reference in an event must have its row
   unless an erasure record names it;
5. that an audit trail exists at all: a log with events but no sealed leaves or no
   signed checkpoint fails (whoever can empty the audit tables must not get an OK);
6. with witness keys: every cosignature by those keys on every checkpoint verifies, and
   the latest checkpoint carries at least ``quorum`` of them. Whoever holds the database
   and the signing key can rewrite an event and re-sign every checkpoint, and steps 1–5
   then pass; the witnesses cosigned only what extended what they had seen, so the
   rewritten checkpoints carry no valid cosignatures.

Nothing is sealed or signed here (that is ``trygg checkpoint``): verifying must not
vouch for what it is checking. Events after the last sealed position are counted but
not checked until they are sealed.

The first problem is reported with its position and one of: ``modified``,
``missing``, ``inserted``, ``reordered``, ``truncated``, ``bad_signature``,
``root_mismatch``, ``no_audit_trail``, ``text_modified``, ``text_missing``,
``text_inserted``, ``bad_cosignature``, ``no_quorum``.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine, select

from ledger.audit.checkpoint import CheckpointError, VerifierKey, verify_checkpoint
from ledger.audit.cosignature import check_cosignatures, with_cosignatures
from ledger.audit.leaf import leaf_hash_of, stored_bytes
from ledger.audit.merkle import TreeBuilder
from ledger.audit.store import checkpoints, cosignatures, leaves, nodes, seal_state
from ledger.eventstore import LogRow, ledger_recorder, log_pages
from ledger.texts import commitment, refs_in, texts

PAGE = 5000
#: The page cache of the text references' scratch file (KiB).
REFS_CACHE_KIB = 32 * 1024


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
    unsealed: int = 0  # events after the last sealed position (checked once sealed)
    texts: int = 0  # text rows checked against their references
    erased_fields: int = 0  # fields named by erasure records
    erased_texts: int = 0  # texts those records erased
    # with witness keys: {"tree_size", "by": [witness names], "quorum"} of the latest checkpoint
    witnessed: dict[str, Any] | None = None
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
            "unsealed": self.unsealed,
            "texts": self.texts,
            "erased_fields": self.erased_fields,
            "erased_texts": self.erased_texts,
            "witnessed": self.witnessed,
            "first_problem": self.first.as_dict() if self.first else None,
            "problems": [p.as_dict() for p in self.problems[:20]],
        }


def _events(recorder: ApplicationRecorder, stop: int | None = None) -> Iterator[LogRow]:
    """(position, originator_id, version, topic, state) in log order, a page at a time."""
    for batch in log_pages(ledger_recorder(recorder), 0, PAGE, stop=stop):
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
    witnesses: Sequence[VerifierKey] = (),
    quorum: int | None = None,
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
    references = _References()
    try:
        events = references.watching(_events(recorder))
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
        while event is not None:  # the unsealed tail: its texts are referenced too
            report.unsealed += 1
            event = next(events, None)
        if report.problems:
            return report
        if report.events + report.unsealed and (sealed_size == 0 or not stored):
            what = "no sealed leaves" if sealed_size == 0 else "no signed checkpoint"
            problem(
                "no_audit_trail",
                f"{report.events + report.unsealed} events exist but there is {what}: "
                "nothing vouches for them (run `trygg checkpoint` on a trusted copy)",
                None,
                None,
            )
            return report
        report.erased_fields = references.erased_fields
        report.erased_texts = len(references.erased)
        if _check_texts(engine, references, report, problem):
            return report
        for size, labels in expected_roots.items():
            if size > tree.size and not report.problems:
                problem(
                    "truncated",
                    f"{labels[0][0]} covers {size} events; only {tree.size} remain",
                    None,
                    tree.size,
                )
        if witnesses and not report.problems:
            needed = len(witnesses) if quorum is None else quorum
            _check_witnesses(engine, stored, witnesses, needed, report, problem)
        return report
    finally:
        references.close()


def _check_witnesses(
    engine: Engine,
    stored: Sequence[Any],
    witnesses: Sequence[VerifierKey],
    quorum: int,
    report: VerifyReport,
    problem: Callable[[str, str, int | None, int | None], bool],
) -> None:
    """Every cosignature by a trusted witness verifies; the latest checkpoint has a quorum."""
    with engine.connect() as conn:
        lines: dict[int, list[str]] = {}
        for checkpoint_id, line in conn.execute(
            select(cosignatures.c.checkpoint_id, cosignatures.c.line).order_by(
                cosignatures.c.checkpoint_id, cosignatures.c.witness
            )
        ):
            lines.setdefault(int(checkpoint_id), []).append(line)
    latest = max(stored, key=lambda row: row[0], default=None)
    for row_id, size, _, note in stored:
        check = check_cosignatures(with_cosignatures(note, lines.get(row_id, [])), witnesses)
        for name, why in sorted(check.invalid.items()):
            if problem(
                "bad_cosignature",
                f"checkpoint {row_id} (tree size {size}): {name}: {why}; a witness never "
                "signs this, so the checkpoint or its cosignature was rewritten",
                None,
                None,
            ):
                return
        if latest is not None and row_id == latest[0]:
            report.witnessed = {"tree_size": int(size), "by": sorted(check.valid), "quorum": quorum}
            if not check.met(quorum):
                problem(
                    "no_quorum",
                    f"the latest checkpoint (tree size {size}) has {len(check.valid)} valid "
                    f"cosignatures of the {quorum} required ({check.describe()}); the history "
                    "it signs was not seen growing by enough witnesses: it may be rewritten, "
                    "or the witnesses have not been asked yet (`trygg checkpoint`)",
                    None,
                    None,
                )
    if latest is None:
        problem(
            "no_quorum", "there is no checkpoint for the witnesses to have cosigned", None, None
        )


class _References:
    """The text references of the entry events walked, and what erasures removed.

    The references go to a temporary SQLite file, not a dictionary: one per free text in
    the log, they held 335 MB at a million events (benchmarks/NOTES.md); on disk the walk
    keeps a page of them and the file's cache."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="trygg-verify-")
        self.db = sqlite3.connect(Path(self._dir.name) / "refs.db", isolation_level=None)
        # A scratch file: nothing here needs to survive a crash.
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(f"PRAGMA cache_size=-{REFS_CACHE_KIB}")
        self.db.execute(
            "CREATE TABLE refs (ref TEXT PRIMARY KEY, position INTEGER NOT NULL, "
            "seen INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
        )
        self._pending: list[tuple[str, int]] = []
        self.erased: set[str] = set()  # erasures are rare: what they name stays in memory
        self.erased_fields = 0

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()

    def watching(self, events: Iterator[LogRow]) -> Iterator[LogRow]:
        for event in events:
            if event[3].startswith(ENTRY_TOPICS):
                self._note(event[0], event[3], event[4])
            yield event
        self.flush()

    def flush(self) -> None:
        # The first event to hold a reference names it (OR IGNORE keeps the first).
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT OR IGNORE INTO refs (ref, position) VALUES (?, ?)", self._pending
        )
        self.db.execute("COMMIT")
        self._pending.clear()

    def find(self, refs: Sequence[str]) -> dict[str, int]:
        """The position of the event holding each of ``refs`` that an event holds; each
        found is marked seen."""
        found: dict[str, int] = {}
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(
                self.db.execute(
                    f"UPDATE refs SET seen = 1 WHERE ref IN ({marks}) RETURNING ref, position",  # noqa: S608
                    chunk,
                ).fetchall()
            )
        return found

    def unseen(self) -> Iterator[tuple[str, int]]:
        """References no stored text answered, in log order."""
        yield from self.db.execute(
            "SELECT ref, position FROM refs WHERE seen = 0 ORDER BY position"
        )

    def _note(self, position: int, topic: str, state: bytes) -> None:
        try:
            data = orjson.loads(stored_bytes(state))
        except orjson.JSONDecodeError:
            return  # a mangled event is reported by the leaf check
        if not isinstance(data, dict):
            return
        if topic.endswith(".Erased"):
            self.erased.update(r for r in data.get("refs", []) if isinstance(r, str))
            self.erased_fields += len(data.get("fields", []))
        for key in TEXT_KEYS:
            for _, ref in refs_in(data.get(key)):
                self._pending.append((ref, position))
        if len(self._pending) >= PAGE:
            self.flush()


#: Events whose payloads refer to sealed texts: entries, residents' ideas, walk findings.
ENTRY_TOPICS = ("ledger.domain.entries:", "ledger.domain.ideas:", "ledger.domain.findings:")
#: Where in those payloads the references are (an idea's ``text``, a decision's ``reply``,
#: a walk's ``findings``).
TEXT_KEYS = ("note", "details", "changes", "reason", "text", "reply", "findings")


def _check_texts(
    engine: Engine,
    references: _References,
    report: VerifyReport,
    problem: Callable[[str, str, int | None, int | None], bool],
) -> bool:
    """Every stored text against its reference, and every reference against the rows."""
    references.flush()
    after = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(texts.c.ref, texts.c.salt, texts.c.text)
                .where(texts.c.ref > after)
                .order_by(texts.c.ref)
                .limit(PAGE)
            ).all()
        referenced = references.find([ref for ref, _, _ in rows])
        for ref, salt, text in rows:
            report.texts += 1
            position = referenced.get(ref)
            if position is None:
                if problem("text_inserted", f"a text no event refers to ({ref[:12]}…)", None, None):
                    return True
            elif commitment(bytes(salt), text) != ref:
                detail = f"the text of the event at position {position} was changed"
                if problem("text_modified", detail, position, None):
                    return True
        if len(rows) < PAGE:
            break
        after = rows[-1][0]
    for ref, position in references.unseen():
        if ref not in references.erased:
            detail = (
                f"a text of the event at position {position} is gone, and no erasure "
                "record names it"
            )
            if problem("text_missing", detail, position, None):
                return True
    return False


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

"""Standalone offline verifier for an audit export.

Usage::

    python -m ledger.audit.standalone --log log.ndjson --checkpoint checkpoint.txt \\
        --key 'name+1234abcd+AR...' [--old-checkpoint old.txt] \\
        [--witness 'w1+89abcdef+BA...' --witness ... --quorum N]

It needs only the standard library and ``cryptography`` (it imports nothing
from the application but ``ledger.audit``), so it can be handed to an auditor
with the export.

What it establishes, in order, stopping at the first problem:

1. the checkpoint (and the old one, if given) is signed by the given key, and, with
   ``--witness`` keys, carries at least ``--quorum`` valid cosignatures by them (C2SP
   tlog-cosignature; default: all of them) and no invalid one;
2. the records' ``leaf_index`` run 0, 1, 2, ... without gaps or repeats, and
   their ``position`` strictly increases;
3. each record's ``leaf_hash`` equals the hash recomputed from its fields, and
   its human-readable ``event`` matches its ``state_b64``;
4. the RFC 6962 root of the first ``checkpoint.size`` leaves equals the
   checkpoint's root (so every covered byte is what the log signed);
5. with an old checkpoint: the root of the first ``old.size`` leaves equals the
   old root, i.e. the log only grew since then (consistency).

Memory stays constant in the log length: records are streamed, and only the
tree frontier (at most log2(n) + 1 hashes) is kept.

Exit status: 0 when intact, 1 when a problem was found (the first one is
printed with its kind, leaf index and position), 2 when the inputs could not be
read at all (missing file, invalid key string).
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ledger.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    format_time,
    verify_checkpoint,
)
from ledger.audit.cosignature import check_cosignatures, parse_witness_key
from ledger.audit.leaf import (
    RecordError,
    event_of,
    load_record,
    record_leaf_hash,
    record_state,
    same_event,
)
from ledger.audit.merkle import EMPTY_ROOT, TreeBuilder

Kind = Literal[
    "modified",
    "missing",
    "inserted",
    "reordered",
    "truncated",
    "bad_signature",
    "root_mismatch",
    "bad_cosignature",
    "no_quorum",
]


@dataclass(frozen=True)
class Report:
    """The outcome of a verification: ``ok``, or the first problem found.

    ``leaf_index`` is where the log deviates (for ``inserted`` with a repeated
    index, the repeated index); ``position`` is that of the offending record
    when there is one; ``line`` is its 1-based line number in the export.
    """

    records: int
    checkpoint: Checkpoint | None = None
    old_checkpoint: Checkpoint | None = None
    kind: Kind | None = None
    message: str = ""
    leaf_index: int | None = None
    position: int | None = None
    line: int | None = None
    witnessed_by: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.kind is None

    def summary(self) -> str:
        if self.ok:
            assert self.checkpoint is not None
            cp = self.checkpoint
            text = (
                f"OK: {self.records} records; checkpoint {cp.origin} size {cp.size} "
                f"root {base64.b64encode(cp.root).decode()} time {format_time(cp.time)}"
            )
            if self.old_checkpoint is not None:
                text += f"; consistent with old checkpoint size {self.old_checkpoint.size}"
            if self.witnessed_by:
                text += f"; cosigned by {', '.join(self.witnessed_by)}"
            return text
        where = []
        if self.leaf_index is not None:
            where.append(f"leaf index {self.leaf_index}")
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.line is not None:
            where.append(f"line {self.line}")
        at = f" at {', '.join(where)}" if where else ""
        return f"FAIL {self.kind}{at}: {self.message}"


class _Found(Exception):
    """Carries the first problem out of the streaming loop."""

    def __init__(self, kind: Kind, message: str, **where: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.where = where


def _numbered(lines: Iterable[str | bytes]) -> Iterator[tuple[int, str | bytes, bool]]:
    """Yield ``(line number, line, is_last)`` for non-blank lines, one line of lookahead."""
    pending: tuple[int, str | bytes] | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue  # blank lines carry nothing that is hashed
        if pending is not None:
            yield pending[0], pending[1], False
        pending = (number, line)
    if pending is not None:
        yield pending[0], pending[1], True


def _classify_gap(
    expected: int, got: int, rest: Iterator[tuple[int, str | bytes, bool]], seen: int
) -> Kind:
    """Decide whether a jump from ``expected`` to ``got`` is missing, reordered or inserted.

    Scans the remaining records once, keeping three numbers: whether the
    expected index turns up later (a reorder), whether ``got`` turns up again
    (a duplicate, i.e. an insertion), and how many records there are in all
    (an index past the end cannot be a reorder either).
    """
    expected_later = got_again = False
    total = seen
    for _, line, _ in rest:
        total += 1
        try:
            index = load_record(line)["leaf_index"]
        except RecordError:
            continue
        expected_later = expected_later or index == expected
        got_again = got_again or index == got
    if got_again or got >= total:
        return "inserted"
    return "reordered" if expected_later else "missing"


def _check_root(cp: Checkpoint, root: bytes, label: str, since: int | None = None) -> None:
    if root != cp.root:
        message = (
            f"the root of the first {cp.size} records does not match the {label}: "
            "records were altered and re-hashed, inserted or removed"
        )
        if since:
            message += (
                f" at leaf index {since} or later (the earlier ones match the old checkpoint)"
            )
        raise _Found("root_mismatch", message)


def _ends_with_newline(line: str | bytes) -> bool:
    return line.endswith("\n") if isinstance(line, str) else line.endswith(b"\n")


class _Scan:
    """One streaming pass over the records; :meth:`run` raises :class:`_Found` at the first problem.

    State is constant-size: the tree frontier, the expected next leaf index
    (``builder.size``) and the previous record's position and line number.
    """

    def __init__(self, cp: Checkpoint, old: Checkpoint | None) -> None:
        self.cp, self.old = cp, old
        self.builder = TreeBuilder()
        self.previous_position = -1
        self.previous_line = 0

    @property
    def records(self) -> int:
        return self.builder.size

    def run(self, lines: Iterable[str | bytes]) -> None:
        if self.old is not None and self.old.size == 0:
            _check_root(self.old, EMPTY_ROOT, "old checkpoint")
        if self.cp.size == 0:
            _check_root(self.cp, EMPTY_ROOT, "checkpoint")
        records = _numbered(lines)
        for line_no, line, is_last in records:
            self._record(line_no, line, is_last, records)
        if self.builder.size < self.cp.size:
            raise _Found(
                "truncated",
                f"the log has {self.builder.size} records but the checkpoint covers {self.cp.size}",
                leaf_index=self.builder.size,
            )

    def _record(
        self,
        line_no: int,
        line: str | bytes,
        is_last: bool,
        rest: Iterator[tuple[int, str | bytes, bool]],
    ) -> None:
        expected = self.builder.size
        try:
            record = load_record(line)
        except RecordError as exc:
            if is_last and not _ends_with_newline(line):
                kind: Kind = "truncated"
                message = f"the last line is cut off ({exc})"
            else:
                kind, message = "modified", f"malformed record: {exc}"
            raise _Found(kind, message, leaf_index=expected, line=line_no) from None
        index, position = record["leaf_index"], record["position"]
        where = {"leaf_index": expected, "position": position, "line": line_no}
        if index < expected:
            where["leaf_index"] = index
            also = f" (also at line {self.previous_line})" if index == expected - 1 else ""
            raise _Found("inserted", f"leaf index {index} appears again{also}", **where)
        if index > expected:
            kind = _classify_gap(expected, index, rest, expected + 1)
            message = {
                "missing": f"leaf index {expected} is missing (this record has {index})",
                "reordered": f"leaf index {index} comes before {expected}",
                "inserted": f"a record with leaf index {index} does not belong here",
            }[kind]
            raise _Found(kind, message, **where)
        leaf = record_leaf_hash(record)
        if leaf.hex() != record["leaf_hash"]:
            raise _Found("modified", "the record's fields do not match its leaf_hash", **where)
        if not same_event(record["event"], event_of(record_state(record))):
            raise _Found("modified", "the event field does not match state_b64", **where)
        # After the hash check, so an edited position is reported as modified.
        if position <= self.previous_position:
            raise _Found(
                "reordered",
                f"position {position} does not follow position {self.previous_position}",
                **where,
            )
        self.previous_position, self.previous_line = position, line_no
        self.builder.append(leaf)
        size = self.builder.size
        if self.old is not None and size == self.old.size:
            _check_root(self.old, self.builder.root(), "old checkpoint")
        if size == self.cp.size:
            since = self.old.size if self.old is not None else None
            _check_root(self.cp, self.builder.root(), "checkpoint", since)


def verify_export(
    lines: Iterable[str | bytes],
    checkpoint_text: str | bytes,
    verifier_key: VerifierKey | str,
    old_checkpoint_text: str | bytes | None = None,
    witnesses: Sequence[VerifierKey] = (),
    quorum: int | None = None,
) -> Report:
    """Verify an NDJSON export against a signed checkpoint; see the module docstring.

    ``lines`` are the export's lines split on ``"\\n"`` only (a file opened in
    binary mode, or ``text.split("\\n")``); blank lines are ignored. Raises
    ``CheckpointError`` (a ``ValueError``) only if ``verifier_key`` is not a
    valid key string; every problem with the data is returned in the report.
    ``quorum`` defaults to every one of ``witnesses``.
    """
    key = verifier_key if isinstance(verifier_key, VerifierKey) else VerifierKey.parse(verifier_key)
    try:
        cp = verify_checkpoint(checkpoint_text, key)
    except CheckpointError as exc:
        return Report(0, kind="bad_signature", message=f"checkpoint: {exc}")
    witnessed_by: tuple[str, ...] = ()
    if witnesses:
        needed = len(witnesses) if quorum is None else quorum
        check = check_cosignatures(checkpoint_text, witnesses)
        if check.invalid:
            name, why = sorted(check.invalid.items())[0]
            return Report(0, cp, kind="bad_cosignature", message=f"checkpoint: {name}: {why}")
        if not check.met(needed):
            message = (
                f"the checkpoint has {len(check.valid)} valid cosignatures of the {needed} "
                f"required ({check.describe()})"
            )
            return Report(0, cp, kind="no_quorum", message=message)
        witnessed_by = tuple(sorted(check.valid))
    old = None
    if old_checkpoint_text is not None:
        try:
            old = verify_checkpoint(old_checkpoint_text, key)
        except CheckpointError as exc:
            return Report(0, cp, kind="bad_signature", message=f"old checkpoint: {exc}")
        if old.origin != cp.origin:
            message = f"old checkpoint is for log {old.origin!r}, not {cp.origin!r}"
            return Report(0, cp, old, kind="bad_signature", message=message)
        if old.size > cp.size:
            return Report(
                0,
                cp,
                old,
                kind="truncated",
                message=f"the old checkpoint covers {old.size} records, the new one only {cp.size}",
                leaf_index=cp.size,
            )
    scan = _Scan(cp, old)
    try:
        scan.run(lines)
    except _Found as found:
        return Report(scan.records, cp, old, found.kind, found.message, **found.where)
    return Report(scan.records, cp, old, witnessed_by=witnessed_by)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.audit.standalone",
        description="Verify an audit log export against a signed checkpoint, offline.",
    )
    parser.add_argument("--log", required=True, help="NDJSON export")
    parser.add_argument("--checkpoint", required=True, help="signed checkpoint note")
    parser.add_argument("--key", required=True, help="verifier key: name+keyid+base64")
    parser.add_argument("--old-checkpoint", help="an earlier checkpoint to check consistency with")
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        help="a witness verifier key (name+keyid+base64, type 0x04) you trust; repeatable",
    )
    parser.add_argument(
        "--quorum", type=int, help="cosignatures needed from --witness keys (default: all)"
    )
    args = parser.parse_args(argv)
    if args.quorum is not None and not 1 <= args.quorum <= len(args.witness):
        parser.error("--quorum must be between 1 and the number of --witness keys")
    try:
        key = VerifierKey.parse(args.key)
        witnesses = [parse_witness_key(w) for w in args.witness]
        # Bytes, not text mode: newline translation would change the signed body.
        with open(args.checkpoint, "rb") as f:
            checkpoint_text = f.read()
        old_text = None
        if args.old_checkpoint:
            with open(args.old_checkpoint, "rb") as f:
                old_text = f.read()
        # Binary lines split on b"\n" only; a line that is not UTF-8 is then
        # reported as a modified record rather than aborting the run.
        with open(args.log, "rb") as log:
            report = verify_export(log, checkpoint_text, key, old_text, witnesses, args.quorum)
    except (OSError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

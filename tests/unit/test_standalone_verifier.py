"""The offline verifier: an intact export passes, and each kind of tampering is named."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.audit.checkpoint import Signer, sign_checkpoint
from ledger.audit.leaf import (
    RecordError,
    dump_record,
    leaf_bytes,
    leaf_hash_of,
    load_record,
    make_record,
    record_leaf_hash,
)
from ledger.audit.merkle import TreeBuilder, leaf_hash
from ledger.audit.standalone import main, verify_export

ROOT_DIR = Path(__file__).resolve().parents[2]
ORIGIN = "trygg.example/ledger"
SIGNER = Signer(ORIGIN, bytes(range(32)))
KEY = SIGNER.verifier_key
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
N = 10


def _state(i: int) -> bytes:
    if i == 4:
        return b"\x1f\x8b\x08\x00 not json"  # e.g. a compressed state: event is null
    return json.dumps({"note": f"Trygghetsvandring nr {i} på stationen", "n": i}).encode()


def make_records(n: int = N) -> list[dict]:
    """Positions have gaps (as global notification ids can), so forgeries can fit between."""
    return [
        make_record(
            leaf_index=i,
            position=10 + 3 * i,
            originator_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"aggregate-{i % 3}")),
            originator_version=i // 3 + 1,
            topic="ledger.domain:Entry.Recorded",
            state=_state(i),
        )
        for i in range(n)
    ]


def lines_of(records: list[dict]) -> list[str]:
    return [dump_record(r) for r in records]


def checkpoint_for(records: list[dict], size: int | None = None, signer: Signer = SIGNER) -> str:
    builder = TreeBuilder()
    for record in records[: len(records) if size is None else size]:
        builder.append(record_leaf_hash(record))
    return sign_checkpoint(ORIGIN, builder.size, builder.root(), WHEN, signer)


def verify(records: list[dict] | list[str], checkpoint: str, old: str | None = None):
    lines = records if records and isinstance(records[0], str) else lines_of(records)
    return verify_export(lines, checkpoint, KEY, old)


@pytest.fixture
def records() -> list[dict]:
    return make_records()


@pytest.fixture
def checkpoint(records) -> str:
    return checkpoint_for(records)


# --- Leaf encoding ---------------------------------------------------------------


def test_leaf_bytes_contract():
    oid = "0b6f8b4e-9d0c-4a43-9c2f-2f6a1f1d0e7a"
    # Compact JSON header, non-ASCII kept as UTF-8, a newline, then the state verbatim.
    data = leaf_bytes(7, oid, 2, "ledger.domain:Händelse", b'{"x": 1}\x00')
    expected = (
        b'[7,"0b6f8b4e-9d0c-4a43-9c2f-2f6a1f1d0e7a",2,"ledger.domain:H\xc3\xa4ndelse"]\n'
        b'{"x": 1}\x00'
    )
    assert data == expected
    assert leaf_hash_of(7, oid, 2, "ledger.domain:Händelse", b'{"x": 1}\x00') == leaf_hash(data)


def test_leaf_headers_are_the_standard_librarys_compact_json_for_every_character():
    """The service writes leaf headers with orjson; the offline verifier, anyone's JSON
    library. Both must give the bytes of compact JSON with UTF-8 kept, for any text."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(characters), 4096):
        topic = "".join(characters[start : start + 4096])
        fields = [2**63 - 1, '"id\\', 1, topic]
        assert leaf_bytes(*fields, b"") == encoder.encode(fields).encode() + b"\n"
    assert leaf_bytes(2**70, "x", 1, "t", b"") == b'[1180591620717411303424,"x",1,"t"]\n'


def test_record_fields(records):
    r = records[1]
    assert list(r) == [
        "position",
        "leaf_index",
        "leaf_hash",
        "originator_id",
        "originator_version",
        "topic",
        "state_b64",
        "event",
    ]
    assert base64.b64decode(r["state_b64"]) == _state(1)
    assert r["event"] == json.loads(_state(1))
    assert records[4]["event"] is None
    assert load_record(dump_record(r)) == r
    assert record_leaf_hash(r).hex() == r["leaf_hash"]
    forged = {**r, "leaf_hash": "00" * 32}
    assert record_leaf_hash(forged).hex() == r["leaf_hash"]  # recomputed, not trusted


@pytest.mark.parametrize(
    "change",
    [
        {"position": "10"},
        {"position": True},
        {"leaf_index": -1},
        {"leaf_hash": "AB" * 32},
        {"state_b64": "not base64!"},
        {"state_b64": "QQ=="[:-1] + "x"},
        {"topic": None},
        {"extra": 1},
    ],
)
def test_malformed_records_are_rejected(records, change):
    with pytest.raises(RecordError):
        load_record(json.dumps({**records[0], **change}))


def test_make_record_requires_canonical_uuid():
    with pytest.raises(ValueError, match="canonical"):
        make_record(
            leaf_index=0,
            position=1,
            originator_id="0B6F8B4E-9D0C-4A43-9C2F-2F6A1F1D0E7A",
            originator_version=1,
            topic="t",
            state=b"{}",
        )


# --- Intact exports --------------------------------------------------------------


def test_intact_export_verifies(records, checkpoint):
    report = verify(records, checkpoint)
    assert report.ok, report.summary()
    assert report.records == N
    assert report.summary().startswith(f"OK: {N} records; checkpoint {ORIGIN} size {N} ")


def test_log_that_grew_past_the_checkpoint_verifies(records):
    report = verify(records, checkpoint_for(records, size=6))
    assert report.ok, report.summary()
    assert report.records == N


def test_empty_log_and_empty_checkpoint_verify():
    assert verify([], checkpoint_for([])).ok


def test_bytes_lines_and_blank_lines_are_accepted(records, checkpoint):
    lines = [line.encode() for line in lines_of(records)]
    lines.insert(3, b"\n")
    assert verify_export(lines, checkpoint.encode(), KEY).ok


def test_consistent_old_checkpoint(records, checkpoint):
    old = checkpoint_for(records, size=4)
    report = verify(records, checkpoint, old)
    assert report.ok, report.summary()
    assert report.summary().endswith("consistent with old checkpoint size 4")
    assert verify(records, checkpoint, checkpoint).ok  # same size
    assert verify(records, checkpoint, checkpoint_for(records, size=0)).ok


# --- Tampering -------------------------------------------------------------------


def _flip_state_byte(record: dict, at: int = 5) -> dict:
    state = bytearray(base64.b64decode(record["state_b64"]))
    state[at] ^= 0x01
    return {**record, "state_b64": base64.b64encode(bytes(state)).decode()}


def test_modified_state_byte(records, checkpoint):
    records[3] = _flip_state_byte(records[3])
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index, report.position, report.line) == ("modified", 3, 19, 4)
    assert report.summary().startswith("FAIL modified at leaf index 3, position 19, line 4:")


def test_modified_position_is_a_modification_not_a_reorder(records, checkpoint):
    records[3]["position"] = records[1]["position"]
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index) == ("modified", 3)


def test_modified_event_field_only(records, checkpoint):
    records[2]["event"]["n"] = 999  # what a human reads, not what was hashed
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index) == ("modified", 2)
    assert "event" in report.message


def test_modified_and_rehashed_record_fails_the_root(records, checkpoint):
    r = _flip_state_byte(records[3])
    records[3] = make_record(
        leaf_index=3,
        position=r["position"],
        originator_id=r["originator_id"],
        originator_version=r["originator_version"],
        topic=r["topic"],
        state=base64.b64decode(r["state_b64"]),
    )
    report = verify(records, checkpoint)
    assert report.kind == "root_mismatch"


def test_malformed_line_in_the_middle(records, checkpoint):
    lines = lines_of(records)
    lines[5] = lines[5].replace('"topic"', '"topik"')
    report = verify(lines, checkpoint)
    assert (report.kind, report.leaf_index, report.line) == ("modified", 5, 6)


def test_deleted_record(records, checkpoint):
    del records[4]
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index) == ("missing", 4)


def test_swapped_adjacent_records(records, checkpoint):
    records[2], records[3] = records[3], records[2]
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index) == ("reordered", 2)


def test_swapped_distant_records(records, checkpoint):
    records[1], records[7] = records[7], records[1]
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index) == ("reordered", 1)


def test_swapped_records_with_renumbered_leaf_indexes(records, checkpoint):
    records[2], records[3] = records[3], records[2]
    records[2]["leaf_index"], records[3]["leaf_index"] = 2, 3
    report = verify(records, checkpoint)
    # Their leaf hashes are intact (leaf_index is not hashed), but positions go backwards.
    assert (report.kind, report.leaf_index) == ("reordered", 3)


def _forged(leaf_index: int, position: int) -> dict:
    return make_record(
        leaf_index=leaf_index,
        position=position,
        originator_id=str(uuid.uuid4()),
        originator_version=1,
        topic="ledger.domain:Entry.Recorded",
        state=b'{"note":"never happened"}',
    )


def test_inserted_forged_record(records, checkpoint):
    records.insert(3, _forged(3, records[2]["position"] + 1))
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index, report.line) == ("inserted", 3, 5)
    assert "also at line 4" in report.message


def test_inserted_forged_record_with_out_of_range_index(records, checkpoint):
    records.insert(3, _forged(500, records[2]["position"] + 1))
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index) == ("inserted", 3)


def test_inserted_forged_record_with_renumbering_fails_the_root(records, checkpoint):
    records.insert(3, _forged(3, records[2]["position"] + 1))
    for i, record in enumerate(records):
        record["leaf_index"] = i
    report = verify(records, checkpoint)
    assert report.kind == "root_mismatch"


def test_truncated_tail(records, checkpoint):
    report = verify(records[:7], checkpoint)
    assert (report.kind, report.leaf_index, report.records) == ("truncated", 7, 7)


def test_last_line_cut_off(records, checkpoint):
    lines = lines_of(records)
    lines[-1] = lines[-1][:40]
    report = verify(lines, checkpoint)
    assert (report.kind, report.leaf_index) == ("truncated", N - 1)


def test_checkpoint_signed_by_another_key(records):
    impostor = Signer.generate(ORIGIN)
    report = verify(records, checkpoint_for(records, signer=impostor))
    assert report.kind == "bad_signature"
    assert "different key" in report.message


def test_checkpoint_with_altered_size(records, checkpoint):
    report = verify(records, checkpoint.replace(f"\n{N}\n", f"\n{N - 1}\n", 1))
    assert report.kind == "bad_signature"


def test_old_checkpoint_over_a_rewritten_history(records, checkpoint):
    # An insider with the key re-signed a different past: consistency catches it.
    rewritten = make_records()
    rewritten[1] = _forged(1, rewritten[1]["position"])
    old = checkpoint_for(rewritten, size=4)
    report = verify(records, checkpoint, old)
    assert report.kind == "root_mismatch"
    assert "old checkpoint" in report.message


def test_new_checkpoint_smaller_than_old_one(records):
    report = verify(records, checkpoint_for(records, size=5), checkpoint_for(records, size=8))
    assert report.kind == "truncated"


def test_old_checkpoint_signed_by_another_key(records, checkpoint):
    old = checkpoint_for(records, size=4, signer=Signer.generate("other.example/log"))
    report = verify(records, checkpoint, old)
    assert report.kind == "bad_signature"
    assert report.message.startswith("old checkpoint")


def test_old_checkpoint_of_another_log(records, checkpoint):
    builder = TreeBuilder()
    old = sign_checkpoint("other.example/log", 0, builder.root(), WHEN, SIGNER)
    report = verify(records, checkpoint, old)
    assert report.kind == "bad_signature"
    assert "other.example/log" in report.message


def test_first_problem_wins(records, checkpoint):
    records[2] = _flip_state_byte(records[2])
    del records[6]
    report = verify(records, checkpoint)
    assert (report.kind, report.leaf_index) == ("modified", 2)


# --- Streaming -------------------------------------------------------------------


def _streamed_lines(n: int) -> Iterator[str]:
    for i in range(n):
        yield dump_record(
            make_record(
                leaf_index=i,
                position=i + 1,
                originator_id=str(uuid.UUID(int=i)),
                originator_version=1,
                topic="ledger.domain:Entry.Recorded",
                state=json.dumps({"i": i, "padding": "x" * 400}).encode(),
            )
        )


def test_memory_does_not_grow_with_the_log():
    n = 4000  # about 2.5 MB of NDJSON
    builder = TreeBuilder()
    for line in _streamed_lines(n):
        builder.append(record_leaf_hash(load_record(line)))
    checkpoint = sign_checkpoint(ORIGIN, n, builder.root(), WHEN, SIGNER)
    tracemalloc.start()
    try:
        report = verify_export(_streamed_lines(n), checkpoint, KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok, report.summary()
    assert peak < 200_000  # a handful of records' worth, not the whole log


# --- Standalone use --------------------------------------------------------------


def test_verifier_imports_without_the_application():
    code = (
        "import sys, ledger.audit.standalone\n"
        "heavy = {'eventsourcing', 'sqlalchemy', 'pydantic', 'fastapi', 'psycopg'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy\n"
        "    or (m.startswith('ledger.') and not m.startswith('ledger.audit')))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT_DIR, check=True)


def _write(tmp_path: Path, records: list[dict], checkpoint: str, old: str | None = None):
    log = tmp_path / "log.ndjson"
    log.write_text("".join(lines_of(records)), encoding="utf-8")
    cp = tmp_path / "checkpoint.txt"
    cp.write_text(checkpoint, encoding="utf-8", newline="")
    args = ["--log", str(log), "--checkpoint", str(cp), "--key", KEY]
    if old is not None:
        (tmp_path / "old.txt").write_text(old, encoding="utf-8", newline="")
        args += ["--old-checkpoint", str(tmp_path / "old.txt")]
    return args


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger.audit.standalone", *args],
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def test_cli_exit_codes(tmp_path, records, checkpoint):
    ok = _run(_write(tmp_path, records, checkpoint, checkpoint_for(records, size=3)))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith(f"OK: {N} records")

    records[3] = _flip_state_byte(records[3])
    bad = _run(_write(tmp_path, records, checkpoint))
    assert bad.returncode == 1
    assert bad.stdout.startswith("FAIL modified at leaf index 3, position 19")

    unusable = _run(["--log", "nope", "--checkpoint", "nope", "--key", "not-a-key"])
    assert unusable.returncode == 2
    assert "error:" in unusable.stderr


def test_main_in_process(tmp_path, records, checkpoint, capsys):
    assert main(_write(tmp_path, records, checkpoint)) == 0
    assert capsys.readouterr().out.startswith("OK:")
    del records[2]
    assert main(_write(tmp_path, records, checkpoint)) == 1
    assert capsys.readouterr().out.startswith("FAIL missing at leaf index 2")

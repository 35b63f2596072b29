"""The leaf encoding of one stored event, and its NDJSON export record.

Contract (other code and every past checkpoint depend on it, never change it):
a leaf is ``leaf_bytes(...)``, i.e. the compact JSON array
``[position, originator_id, originator_version, topic]``, a newline, then the
event's stored ``state`` bytes exactly as the event store holds them. The
Merkle leaf hash is RFC 6962's ``SHA-256(0x00 || leaf_bytes)``.

So a leaf hash covers: the event's global position, its aggregate id
(canonical hyphenated lower-case UUID string), its version, its topic, and every
byte of its stored state. It does *not* cover the export's ``leaf_index``
(checked separately as a contiguous sequence) nor its ``event`` field (a human
convenience, checked against ``state_b64`` by the verifier but never hashed).

An export record is one JSON object per line with exactly the keys in
``RECORD_KEYS``; ``state_b64`` is standard base64 of the stored bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from ledger.audit.merkle import leaf_hash

RECORD_KEYS = (
    "position",
    "leaf_index",
    "leaf_hash",
    "originator_id",
    "originator_version",
    "topic",
    "state_b64",
    "event",
)

_HEX_HASH = re.compile(r"[0-9a-f]{64}")


class RecordError(ValueError):
    """An export record (or line) that is not well formed."""


# The header is compact JSON with non-ASCII kept as UTF-8: what the standard library's
# encoder writes with these options. orjson writes the same bytes for every integer that
# fits in 64 bits and every string of code points (``tests/unit/test_standalone_verifier.py``
# checks it for each one) at a twentieth of the cost, which a receipt, the sealer and
# verify pay once per event; anything orjson refuses goes to the standard library, which
# decides as it always did.
_HEADER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def leaf_bytes(
    position: int, originator_id: str, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The exact bytes a Merkle leaf commits to (see the module docstring)."""
    fields = [position, originator_id, originator_version, topic]
    try:
        header = orjson.dumps(fields)
    except orjson.JSONEncodeError:
        header = _HEADER.encode(fields).encode()
    return header + b"\n" + state


def stored_bytes(state: bytes | bytearray | memoryview | str) -> bytes:
    """The stored state as bytes. A row edited behind the service's back may come back
    as text (SQLite changes a value's type freely); it must still hash, not crash."""
    if isinstance(state, str):
        return state.encode("utf-8", "surrogateescape")
    return bytes(state)


def leaf_hash_of(
    position: int, originator_id: str, originator_version: int, topic: str, state: bytes
) -> bytes:
    """RFC 6962 leaf hash of :func:`leaf_bytes`."""
    return leaf_hash(leaf_bytes(position, originator_id, originator_version, topic, state))


def canonical_originator_id(value: uuid.UUID | str) -> str:
    """The canonical hyphenated lower-case form that leaves must use for an aggregate id."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's json accepts them by default.
    raise ValueError(f"{name} is not valid JSON")


def event_of(state: bytes) -> Any:
    """The stored state decoded as JSON, or ``None`` if it is not UTF-8 JSON (e.g. compressed)."""
    try:
        return json.loads(state.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def same_event(a: Any, b: Any) -> bool:
    """JSON-value equality that, unlike ``==``, tells ``true`` from ``1`` and ``1`` from ``1.0``."""

    def canon(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    try:
        return canon(a) == canon(b)
    except (TypeError, ValueError, RecursionError):
        return False


def make_record(
    *,
    leaf_index: int,
    position: int,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
) -> dict[str, Any]:
    """Build the export record of one leaf.

    ``originator_id`` must already be canonical (see
    :func:`canonical_originator_id`); it is not normalised here because the
    hash must cover exactly the string that was hashed when the leaf was made.
    """
    if originator_id != canonical_originator_id(originator_id):
        raise ValueError(f"originator_id {originator_id!r} is not a canonical UUID string")
    return {
        "position": position,
        "leaf_index": leaf_index,
        "leaf_hash": leaf_hash_of(position, originator_id, originator_version, topic, state).hex(),
        "originator_id": originator_id,
        "originator_version": originator_version,
        "topic": topic,
        "state_b64": base64.b64encode(state).decode("ascii"),
        "event": event_of(state),
    }


def dump_record(record: Mapping[str, Any]) -> str:
    """One NDJSON line (with its ``"\\n"``).

    Non-ASCII text is kept readable; JSON escapes every control character, so
    the only newline is the terminator. Split exports on ``"\\n"`` only (as
    file iteration does), not with ``str.splitlines``, which also splits on
    U+2028 and friends.
    """
    return json.dumps(dict(record), separators=(",", ":"), ensure_ascii=False) + "\n"


def load_record(line: str | bytes) -> dict[str, Any]:
    """Parse and validate one NDJSON line; raise :class:`RecordError` if malformed."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        record = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise RecordError(f"not a JSON object: {exc}") from exc
    if not isinstance(record, dict):
        raise RecordError("not a JSON object")
    validate_record(record)
    return record


def _int(record: Mapping[str, Any], key: str) -> int:
    value = record[key]
    # bool is an int subclass; true is not a position.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{key} must be a non-negative integer, not {value!r}")
    return value


def _str(record: Mapping[str, Any], key: str) -> str:
    value = record[key]
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a string, not {value!r}")
    return value


def record_state(record: Mapping[str, Any]) -> bytes:
    """The stored state bytes of a record, from strict standard base64."""
    text = _str(record, "state_b64")
    try:
        state = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RecordError(f"state_b64 is not standard base64: {exc}") from exc
    # Reject non-canonical encodings (stray padding bits) so that one state has
    # exactly one textual form in the export.
    if base64.b64encode(state).decode("ascii") != text:
        raise RecordError("state_b64 is not canonical base64")
    return state


def validate_record(record: Mapping[str, Any]) -> None:
    """Check a record's keys and field types; raise :class:`RecordError` if malformed.

    Unknown keys are rejected: an export must not carry unhashed data that a
    reader could mistake for verified content.
    """
    keys = set(record)
    if keys != set(RECORD_KEYS):
        missing = sorted(set(RECORD_KEYS) - keys)
        extra = sorted(keys - set(RECORD_KEYS))
        raise RecordError(f"wrong keys (missing {missing}, unexpected {extra})")
    _int(record, "position")
    _int(record, "leaf_index")
    _int(record, "originator_version")
    _str(record, "originator_id")
    _str(record, "topic")
    if not _HEX_HASH.fullmatch(_str(record, "leaf_hash")):
        raise RecordError("leaf_hash must be 64 lower-case hex digits")
    record_state(record)


def record_leaf_hash(record: Mapping[str, Any]) -> bytes:
    """Recompute the leaf hash from the record's fields, ignoring its ``leaf_hash``."""
    validate_record(record)
    return leaf_hash_of(
        record["position"],
        record["originator_id"],
        record["originator_version"],
        record["topic"],
        record_state(record),
    )

"""Canonical content hashes, for telling an idempotent replay from a conflicting reuse.

The digest is SHA-256 over sorted-key, compact JSON of the entry's content, with every
datetime written as its UTC ISO form (the same instant given with another offset is the
same content) and enums as their values. Stored events carry these digests and retries
are compared against them, so the encoding must never change:
``tests/unit/test_hashing.py`` pins it against the plain recursive definition.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any


def _json_default(value: Any) -> Any:
    # Only called for what JSON cannot encode itself. Str/int enums never get here (the
    # C encoder writes their values, as the definition wants); other enums do.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot hash a {type(value).__name__}")


# One encoder, built once: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
)


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 over sorted-key JSON with datetimes normalised to UTC."""
    return hashlib.sha256(_ENCODER.encode(content).encode()).hexdigest()

"""Canonical content hashes, for telling an idempotent replay from a conflicting reuse."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # The same instant written with another offset is the same content.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 over sorted-key JSON with datetimes normalised to UTC."""
    data = json.dumps(
        _canonical(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(data.encode()).hexdigest()

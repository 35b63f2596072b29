"""Valid example bodies, varied by keyword. Impersonal by construction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

RECENT = datetime(2021, 10, 1, 16, 0, tzinfo=UTC)


def activity(n: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"vt-{n}",
        "kind": "security_host_shift",
        "station": "lerum",
        "started_at": "2021-10-01T16:00:00+02:00",
        "ended_at": "2021-10-01T22:00:00+02:00",
        "staff_count": 2,
        "details": {},
    }
    body.update(overrides)
    return body


def observation(n: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"obs-{n}",
        "category": "graffiti",
        "station": "lerum",
        "zone": "tunnel",
        "observed_at": "2021-10-02T08:30:00+02:00",
        "count": 2,
        "severity": "low",
    }
    body.update(overrides)
    return body


def in_future(hours: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()

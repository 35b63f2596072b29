"""Content hashes are stored in every entry's first event and compared on every retry:
the encoding is frozen. These tests pin it against the plain recursive definition it
was first written as, and against digests recorded from that first version."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum, IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.hashing import content_hash
from ledger.inputs import ActivityIn, ObservationIn, parse
from ledger.taxonomy import ActivityKind, Zone
from tests.factories import activity, observation


def reference(content: dict[str, Any]) -> str:
    """The definition: datetimes as UTC ISO strings, enums as values, sorted compact JSON."""

    def canonical(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, dict):
            return {str(k): canonical(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [canonical(v) for v in value]
        if isinstance(value, Enum):
            return value.value
        return value

    data = json.dumps(canonical(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


class Level(IntEnum):
    low = 1


class Shade(Enum):
    dark = "dark"


@pytest.mark.parametrize(
    ("body", "model", "digest"),
    [
        (
            activity(note="Trasig belysning – åäö", zone="platform"),
            ActivityIn,
            "964274d6327dc518c36eef33a5bc0034bdfa441ec17fad4d2e63d179e30155aa",
        ),
        (
            observation(),
            ObservationIn,
            "26bd6a6f8a1ba9f3f94d9eef679bb6c6537bd962cf005ffc5a73d674695d31c9",
        ),
    ],
)
def test_entry_digests_are_those_recorded_by_the_first_version(body, model, digest):
    assert content_hash(parse(model, body).model_dump(exclude={"actor"})) == digest


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.text(max_size=20),
    st.sampled_from([*ActivityKind, *Zone, Level.low, Shade.dark]),
    st.builds(
        lambda dt, minutes: dt.replace(tzinfo=timezone(timedelta(minutes=minutes))),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
        st.integers(-14 * 60, 14 * 60),
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_the_digest_equals_the_definition_for_any_content(content):
    assert content_hash(content) == reference(content)


def test_the_same_instant_at_another_offset_is_the_same_content():
    summer = datetime(2022, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert content_hash({"at": summer}) == content_hash({"at": summer.astimezone(UTC)})

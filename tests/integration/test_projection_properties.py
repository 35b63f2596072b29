"""Property: for any sequence of records, corrections and retractions, incremental
processing (in arbitrary page sizes, interleaved with writes), a rebuild, and a
plain recomputation from the ledger's own entries give identical views."""

import uuid
from contextlib import contextmanager
from unittest.mock import patch

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import StaticPool

from api.runtime import Runtime
from ledger.access import SYSTEM, Principal, Role
from ledger.entry_service import ACTIVITY, OBSERVATION
from ledger.errors import LedgerError
from ledger.inputs import ActivityIn, ActorIn, CorrectionIn, ObservationIn, RetractionIn, StationIn
from ledger.settings import Settings
from ledger.storage import pg_conninfo
from projections import history
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from tests import reference
from tests.conftest import PG_URL

ACTORS = ["vasttrafik", "trafikverket"]
STATIONS = ["lerum", "floda"]
KINDS = ["patrol", "security_host_shift", "cleaning_round"]
CATEGORIES = ["graffiti", "litter"]

record_activity = st.tuples(
    st.just("activity"),
    st.sampled_from(ACTORS),
    st.sampled_from(STATIONS),
    st.sampled_from(KINDS),
    st.integers(0, 20),  # day offset
    st.integers(0, 23),  # hour (crosses midnight in local time for some)
    st.integers(0, 600),  # minutes
    st.integers(0, 5),  # staff
)
record_observation = st.tuples(
    st.just("observation"),
    st.sampled_from(ACTORS),
    st.sampled_from(STATIONS),
    st.sampled_from(CATEGORIES),
    st.integers(0, 20),
    st.integers(1, 5),
    st.sampled_from(["low", "high"]),
)
correct = st.tuples(
    st.just("correct"),
    st.integers(0, 50),
    st.integers(0, 5),
    st.sampled_from(STATIONS),
    st.integers(0, 20),
)
retract = st.tuples(st.just("retract"), st.integers(0, 50))
catch_up = st.tuples(st.just("catch_up"), st.integers(1, 7))
operations = st.lists(
    st.one_of(record_activity, record_observation, correct, retract, catch_up), max_size=40
)


@contextmanager
def fresh_system(backend, tmp_path_factory):
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("prop") / "t.db"
        system = Runtime(Settings(database_url=f"sqlite:///{path}"))
        try:
            yield system
        finally:
            system.close()
        return
    schema = f"trygg_prop_{uuid.uuid4().hex[:10]}"
    key = tmp_path_factory.mktemp("prop") / "signing-key.pem"
    system = Runtime(Settings(database_url=PG_URL, database_schema=schema, signing_key_file=key))
    try:
        yield system
    finally:
        system.close()
        with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def apply_operations(system, ops, runner):
    recorded = []  # (kind, id, actor)
    for n, op in enumerate(ops):
        try:
            if op[0] == "activity":
                _, actor, station, kind, day, hour, minutes, staff = op
                start = f"2021-09-{1 + day:02d}T{hour:02d}:00:00+00:00"
                from datetime import datetime, timedelta

                end = (datetime.fromisoformat(start) + timedelta(minutes=minutes)).isoformat()
                body = ActivityIn.model_validate(
                    {
                        "external_id": f"a{n}",
                        "kind": kind,
                        "station": station,
                        "started_at": start,
                        "ended_at": end if minutes else None,
                        "staff_count": staff,
                    }
                )
                r = system.entries.record_entry(ACTIVITY, Principal("p", Role.partner, actor), body)
                recorded.append((ACTIVITY, r.id, actor))
            elif op[0] == "observation":
                _, actor, station, category, day, count, severity = op
                body = ObservationIn.model_validate(
                    {
                        "external_id": f"o{n}",
                        "category": category,
                        "station": station,
                        "observed_at": f"2021-09-{1 + day:02d}T12:00:00+02:00",
                        "count": count,
                        "severity": severity,
                    }
                )
                r = system.entries.record_entry(
                    OBSERVATION, Principal("p", Role.partner, actor), body
                )
                recorded.append((OBSERVATION, r.id, actor))
            elif op[0] in {"correct", "retract"} and recorded:
                kind, entry_id, actor = recorded[op[1] % len(recorded)]
                who = Principal("p", Role.partner, actor)
                entry = system.entries.get_entry(kind, who, entry_id)
                if op[0] == "retract":
                    system.entries.retract_entry(
                        kind,
                        who,
                        entry_id,
                        RetractionIn(reason="retracted", expected_version=entry.version),
                    )
                else:
                    _, _, number, station, day = op
                    changes = {"station": station}
                    if kind is ACTIVITY:
                        changes["staff_count"] = number
                        changes["started_at"] = f"2021-09-{1 + day:02d}T05:00:00+02:00"
                        changes["ended_at"] = None
                    else:
                        changes["count"] = max(1, number)
                    system.entries.correct_entry(
                        kind,
                        who,
                        entry_id,
                        CorrectionIn(
                            changes=changes, reason="corrected", expected_version=entry.version
                        ),
                    )
            elif op[0] == "catch_up":
                runner.page_size = op[1]
                runner.catch_up_all()
        except LedgerError:
            pass  # e.g. correcting a retracted entry, or a change that changes nothing


def applied(system, ops):
    """The stations and actors, then ``ops`` with catch-ups between; a caught-up runner."""
    for code in STATIONS:
        system.registry.register_station(
            SYSTEM, StationIn(code=code, name=code, municipality="Lerum")
        )
    for code in ACTORS:
        system.registry.register_actor(
            SYSTEM, ActorIn.model_validate({"code": code, "name": code, "kind": "transit"})
        )
    runner = ProjectionRunner(system.ledger.recorder, system.engine, page_size=3)
    apply_operations(system, ops, runner)
    runner.catch_up_all()
    return runner


ACTIVITY_KEY = (["station", "day", "actor", "kind"], ["entries", "minutes", "staff_minutes"])
OBSERVATION_KEY = (["station", "day", "category", "actor"], ["entries", "count", "high"])
WEEKLY_KEY = (["station", "week", "actor", "kind"], ["entries", "minutes", "staff_minutes"])


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_incremental_rebuild_and_recomputation_agree(backend, ops, tmp_path_factory):
    if backend == "postgres" and not PG_URL:
        pytest.skip("TRYGG_TEST_DATABASE_URL is not set")
    with fresh_system(backend, tmp_path_factory) as system:
        runner = applied(system, ops)

        expected = {
            "activities": reference.activity_daily(system.ledger),
            "observations": reference.observation_daily(system.ledger),
        }
        keys = {"activities": ACTIVITY_KEY, "observations": OBSERVATION_KEY}
        weekly = reference.activity_weekly(system.ledger)
        live = runner.live_tables("activities").weekly
        assert reference.table_rows(runner.engine, live, *WEEKLY_KEY) == weekly
        for name in ("activities", "observations"):
            tables = runner.live_tables(name)
            incremental = reference.table_rows(runner.engine, tables.daily, *keys[name])
            entries = reference.entry_states(runner.engine, tables.entries)
            assert incremental == expected[name]
            rebuild(runner, name, grace_seconds=0)
            rebuilt = runner.live_tables(name)
            assert reference.table_rows(runner.engine, rebuilt.daily, *keys[name]) == expected[name]
            assert reference.entry_states(runner.engine, rebuilt.entries) == entries
        rebuilt_weekly = runner.live_tables("activities").weekly
        assert reference.table_rows(runner.engine, rebuilt_weekly, *WEEKLY_KEY) == weekly


def _totals(conn, selectable, key, values):
    """Sums per bucket of a totals table or of its "as of" form (buckets summing to zero
    are absent, as they are from the live table)."""
    c = selectable.c
    query = (
        select(*[c[k] for k in key], *[func.sum(c[v]) for v in values])
        .group_by(*[c[k] for k in key])
        .having(func.sum(c[values[0]]) != 0)
    )
    return {tuple(r[: len(key)]): tuple(int(x) for x in r[len(key) :]) for r in conn.execute(query)}


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, snapshot_every=st.integers(1, 6))
def test_as_of_history_agrees_with_a_replay_at_every_position(
    backend, ops, snapshot_every, tmp_path_factory
):
    """Issue #13: "as of" reads come from stored history (journal, snapshots, prior entry
    versions), not replays. At every position of the log, live-applied history and rebuilt
    history both give exactly what a replay up to that position gives."""
    if backend == "postgres" and not PG_URL:
        pytest.skip("TRYGG_TEST_DATABASE_URL is not set")
    keys = {
        "activities": {"daily": ACTIVITY_KEY, "weekly": WEEKLY_KEY},
        "observations": {"daily": OBSERVATION_KEY},
    }
    with (
        patch.object(history, "SNAPSHOT_MIN_PENDING", snapshot_every),
        fresh_system(backend, tmp_path_factory) as system,
    ):
        runner = applied(system, ops)
        head = runner.head()
        for rebuilt in (False, True):
            if rebuilt:
                for name in keys:
                    rebuild(runner, name, grace_seconds=0)
            replay = ProjectionRunner(
                system.ledger.recorder,
                create_engine("sqlite://", poolclass=StaticPool),
            )
            for position in range(head + 1):
                for name, totals in keys.items():
                    replay.catch_up(name, stop=position)
                    expected = replay.live_tables(name)
                    projection = runner.projections[name]
                    with runner.engine.connect() as conn, replay.engine.connect() as oracle:
                        found = projection.as_of(conn, runner.live_tables(name, conn), position)
                        for table, (key, values) in totals.items():
                            assert _totals(conn, getattr(found, table), key, values) == _totals(
                                oracle, getattr(expected, table), key, values
                            ), (name, table, position, rebuilt)
                        assert reference.entry_states(
                            runner.engine, found.entries
                        ) == reference.entry_states(replay.engine, expected.entries), (
                            name,
                            position,
                            rebuilt,
                        )

"""Property: for any sequence of records, corrections and retractions, incremental
processing (in arbitrary page sizes, interleaved with writes), a rebuild, and a
plain recomputation from the ledger's own entries give identical views."""

import uuid
from contextlib import contextmanager

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.runtime import Runtime
from ledger.access import SYSTEM, Principal, Role
from ledger.entry_service import ACTIVITY, OBSERVATION
from ledger.errors import LedgerError
from ledger.inputs import ActivityIn, ActorIn, CorrectionIn, ObservationIn, RetractionIn, StationIn
from ledger.settings import Settings
from ledger.storage import pg_conninfo
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


ACTIVITY_KEY = (["station", "day", "actor", "kind"], ["entries", "minutes", "staff_minutes"])
OBSERVATION_KEY = (["station", "day", "category"], ["entries", "count", "high"])
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

"""The event-store contract both recorders keep (``ledger.eventstore``), on SQLite and
PostgreSQL alike: plain log pages, positions, first events, and texts that are written
and erased in the events' own transaction."""

from __future__ import annotations

import time
import uuid

import pytest
from eventsourcing.persistence import IntegrityError
from sqlalchemy import func, select

from ledger.access import Principal, Role
from ledger.entry_service import ACTIVITY
from ledger.eventstore import LedgerRecorder, log_pages
from ledger.inputs import ActivityIn, CorrectionIn
from ledger.texts import texts
from tests.factories import activity

HOSTS = Principal("k", Role.partner, "vasttrafik")


def record(system, n, **overrides):
    return system.entries.record_entry(
        ACTIVITY, HOSTS, ActivityIn.model_validate(activity(n, **overrides))
    )


def text_rows(system) -> int:
    with system.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(texts)).scalar_one()


def test_the_recorder_is_a_ledger_recorder(system):
    assert isinstance(system.ledger.store, LedgerRecorder)
    assert system.ledger.store.head() == 0
    assert system.ledger.store.log_page(0, 10) == []


def test_log_pages_are_plain_rows_in_log_order(registry):
    receipts = [record(registry, n) for n in range(7)]
    store = registry.ledger.store
    assert store.head() == receipts[-1].position
    rows = store.log_page(0, 1000)
    topics = {r[3] for r in rows}
    assert "ledger.domain.entries:Activity.Recorded" in topics
    positions = [r[0] for r in rows]
    assert positions == sorted(positions)
    entries = store.log_page(0, 1000, topics=("ledger.domain.entries:Activity.Recorded",))
    assert [r[0] for r in entries] == [r.position for r in receipts]
    assert [r[1] for r in entries] == [str(r.id) for r in receipts]  # canonical ids
    assert all(isinstance(r[4], bytes) for r in entries)
    middle = receipts[3].position
    assert [r[0] for r in store.log_page(middle - 1, 2, stop=middle)] == [middle]
    pages = list(log_pages(store, 0, 3, topics=("ledger.domain.entries:Activity.Recorded",)))
    assert [len(p) for p in pages] == [3, 3, 1]


def test_positions_and_first_events(registry):
    first = record(registry, 1)
    fix = CorrectionIn(changes={"staff_count": 3}, reason="recount", expected_version=1)
    second = registry.entries.correct_entry(ACTIVITY, HOSTS, first.id, fix)
    store = registry.ledger.store
    assert store.event_positions(first.id) == {1: first.position, 2: second.position}
    many = [record(registry, n).id for n in range(2, 8)]
    unknown = [uuid.uuid4() for _ in range(600)]  # more than one chunk of ids
    found = store.first_events([first.id, *many, *unknown])
    assert set(found) == {first.id, *many}
    position, stored = found[first.id]
    assert position == first.position
    assert stored.originator_version == 1
    assert stored.topic.endswith("Activity.Recorded")


def test_texts_are_stored_with_their_event_or_not_at_all(registry):
    """The text rows go in the events' transaction: a failed insert leaves none behind."""
    record(registry, 1, note="Klotter i tunneln")
    assert text_rows(registry) == 1
    entry = ActivityIn.model_validate(activity(1, note="Annan text"))
    entry_id = ACTIVITY.entry_id("vasttrafik", entry)
    first = registry.entries.first_event(ACTIVITY, "vasttrafik", entry)
    assert first.entry_id == entry_id
    assert len(first.texts) == 1
    with pytest.raises(IntegrityError):  # version 1 of this id exists
        registry.ledger.put_new([first.stored], first.texts)
    assert text_rows(registry) == 1


def test_an_erasure_deletes_its_texts_in_the_records_transaction(registry):
    receipt = record(registry, 1, note="Klotter i tunneln")
    (ref,) = [r.ref for r in registry.texts.lookup(_refs(registry)).values()]
    entry = registry.ledger.repository.get(receipt.id)
    entry.erase(["note"], [ref], {"$text": ref}, "k")
    registry.ledger.save(entry, erase=[ref])
    assert text_rows(registry) == 0


def _refs(system) -> list[str]:
    with system.engine.connect() as conn:
        return list(conn.execute(select(texts.c.ref)).scalars())


def test_a_log_read_from_the_start_walks_the_position_index_once_statistics_are_fresh(registry):
    """A rebuild refreshes the planner's statistics first. Without them (a log loaded a
    moment ago), PostgreSQL read each page by sorting the whole tail on disk: at 1M events
    a second a page, more than half of a rebuild."""
    for n in range(40):
        record(registry, n)
    store = registry.ledger.store
    store.refresh_statistics()
    if registry.database.is_sqlite:
        assert store.log_page(0, 5)  # nothing to refresh; pages still read
        return
    topics = ["ledger.domain.entries:Activity.Recorded"]
    with registry.engine.connect() as conn:
        analyzed = conn.exec_driver_sql(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s AND schemaname = current_schema()",
            (registry.ledger.events_table,),
        ).scalar_one()
        plan = "\n".join(
            row[0]
            for row in conn.exec_driver_sql(
                "EXPLAIN SELECT notification_id, state FROM "  # the log page's query
                f"{registry.ledger.events_table} WHERE notification_id > 0 "
                "AND notification_id <= 1000000 AND topic = ANY(%s) "
                "ORDER BY notification_id LIMIT 10",
                (topics,),
            )
        )
    assert analyzed
    assert "Sort" not in plan, plan


def test_refreshing_statistics_gives_way_to_writers_and_skips_fresh_ones(registry, caplog):
    """ANALYZE holds a lock the inserts wait for: with a writer on the table it gives up
    within seconds instead of stalling every write behind it, and statistics that are
    fresh are not gathered again."""
    if registry.database.is_sqlite:
        return  # nothing is gathered on SQLite (see the test above)
    store = registry.ledger.store
    table = registry.ledger.events_table
    record(registry, 1)
    with registry.engine.connect() as writer:
        writer.exec_driver_sql(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # as an insert does
        started = time.monotonic()
        store.refresh_statistics()
        assert time.monotonic() - started < 10
        writer.rollback()
    assert "skipped ANALYZE" in caplog.text

    def analyzed_at():
        with registry.engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s AND schemaname = current_schema()",
                (table,),
            ).scalar_one()

    store.refresh_statistics()
    first = analyzed_at()
    assert first is not None
    record(registry, 2)
    store.refresh_statistics()  # one new row: the statistics are still fresh
    assert analyzed_at() == first

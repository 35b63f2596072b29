"""The ledger service on a real database (SQLite and PostgreSQL)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from ledger.access import SYSTEM, Principal, Role
from ledger.domain.base import recording_time
from ledger.entry_service import ACTIVITY, OBSERVATION
from ledger.errors import (
    EntryRetracted,
    ExternalIdConflict,
    Forbidden,
    InvalidInput,
    NotFound,
    VersionConflict,
)
from ledger.first_events import FirstEventWriter
from ledger.inputs import (
    ActivityIn,
    CorrectionIn,
    ObservationIn,
    RetractionIn,
    StationIn,
    parse,
)
from ledger.receipts import leaf_hash_for
from ledger.texts import Sealer
from tests.factories import activity, in_future, observation

HOSTS = Principal("k-test", Role.partner, "vasttrafik")
CLEANERS = Principal("k-test-2", Role.partner, "trafikverket")


def record(system, body, who=HOSTS):
    return system.entries.record_entry(ACTIVITY, who, parse(ActivityIn, body))


def log_length(system) -> int:
    return len(system.ledger.recorder.select_notifications(start=1, limit=1_000_000))


def test_recording_returns_id_position_and_version(registry):
    receipt = record(registry, activity())
    assert receipt.created
    assert receipt.version == 1
    assert receipt.position == registry.ledger.last_position()


@pytest.mark.parametrize(
    ("kind", "model", "body"),
    [
        (ACTIVITY, ActivityIn, activity(note="Trasig belysning")),
        (OBSERVATION, ObservationIn, observation()),
    ],
)
def test_a_new_entry_is_stored_as_the_aggregate_itself_would_store_it(system, kind, model, body):
    """The write path builds an entry's stored first event directly (ledger.first_events);
    its stored bytes must be the ones the aggregate's own event gives through the library's
    mapper, or old and new entries would differ."""
    entry = parse(model, body)
    at = datetime(2022, 3, 1, 12, 0, tzinfo=UTC)
    entry_id = kind.entry_id("vasttrafik", entry)
    fields = Sealer(str(entry_id)).payload(entry.model_dump(mode="json", exclude={"actor"}))
    writer = FirstEventWriter(kind.aggregate, system.ledger.mapper)
    with recording_time(at):
        direct = writer.build(entry_id, {**fields, "actor": "vasttrafik", "content_hash": "d"}, [])
        aggregate = kind.aggregate(actor="vasttrafik", content_hash="d", **fields)
    (via_aggregate,) = aggregate.collect_events()
    assert aggregate.id == entry_id
    assert direct.stored == system.ledger.mapper.to_stored_event(via_aggregate)
    assert direct.recorded_at == at


def test_a_stored_first_event_reads_back_as_the_entry_it_was_built_from(registry):
    """What the direct path stored, the library reads as the aggregate: every field, the
    recording time and the receipt's leaf hash."""
    receipt = record(registry, activity(note="Trasig belysning"))
    entry = registry.ledger.repository.get(receipt.id)
    assert (entry.actor, entry.version, entry.kind) == ("vasttrafik", 1, "security_host_shift")
    assert entry.created_on.isoformat() == receipt.recorded_at
    (notification,) = registry.ledger.recorder.select_notifications(receipt.position, 1)
    assert leaf_hash_for(notification) == receipt.leaf_hash


def test_a_replay_with_the_same_content_returns_the_original(registry):
    first = record(registry, activity())
    before = log_length(registry)
    again = record(registry, activity())
    assert (again.id, again.position, again.created) == (first.id, first.position, False)
    assert log_length(registry) == before


def test_reusing_an_external_id_for_other_content_is_a_conflict(registry):
    record(registry, activity())
    with pytest.raises(ExternalIdConflict):
        record(registry, activity(staff_count=5))


def test_external_ids_are_per_actor(registry):
    a = record(registry, activity())
    b = record(registry, activity(), who=CLEANERS)
    assert a.id != b.id


def test_concurrent_retries_store_exactly_one_event(registry):
    before = log_length(registry)
    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(lambda _: record(registry, activity()), range(16)))
    assert sum(r.created for r in receipts) == 1
    assert len({(r.id, r.position) for r in receipts}) == 1
    assert log_length(registry) == before + 1


def test_group_commit_keeps_each_writes_own_answer_under_racing_retries(registry, monkeypatch):
    """Issue #13: single writes that arrive together share one transaction. Retries of a
    new entry, reuses of a stored entry's external_id for other content and new entries race
    in the same groups: the retried entry is stored once and every retry gets its receipt,
    each reuse alone gets 409, and the new entries are all stored."""
    stored = record(registry, activity(20))
    put = registry.ledger.put_new
    first_commit = threading.Event()

    def slow_put(events, texts):
        # The first transaction waits, so that the racing writes queue up behind it.
        if not first_commit.is_set():
            first_commit.set()
            time.sleep(0.2)
        return put(events, texts)

    monkeypatch.setattr(registry.ledger, "put_new", slow_put)
    before = log_length(registry)
    writes = [("retry", activity(1))] * 8
    writes += [("reuse", activity(20, staff_count=9))] * 2
    writes += [("new", activity(n)) for n in range(2, 12)]
    start = threading.Barrier(len(writes))

    def write(kind_and_body):
        _, body = kind_and_body
        start.wait()
        try:
            return record(registry, body)
        except ExternalIdConflict as conflict:
            return conflict

    with ThreadPoolExecutor(len(writes)) as pool:
        answers = list(pool.map(write, writes))
    by_kind = {}
    for (kind, _), answer in zip(writes, answers, strict=True):
        by_kind.setdefault(kind, []).append(answer)
    retries = by_kind["retry"]
    assert sum(r.created for r in retries) == 1
    assert len({(r.id, r.position) for r in retries}) == 1
    assert all(isinstance(r, ExternalIdConflict) for r in by_kind["reuse"])
    assert registry.entries.get_entry(ACTIVITY, HOSTS, stored.id).version == 1
    new = by_kind["new"]
    assert all(r.created for r in new)
    assert len({r.position for r in new}) == len(new)
    assert log_length(registry) == before + 1 + len(new)
    group = registry.entries.group.stats
    assert group.largest > 1  # some writes did share a transaction
    assert group.split >= 1  # a group with a duplicate was retried write by write
    assert group.transactions < len(writes)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"station": "goteborg"}, "station"),
        ({"zone": "platform", "station": "nowhere"}, "station"),
        ({"ended_at": "2021-10-01T15:00:00+02:00"}, "ended_at"),
        ({"started_at": in_future(), "ended_at": None}, "started_at"),
        ({"ended_at": "2021-10-03T22:00:00+02:00"}, "ended_at"),  # a 54-hour shift
    ],
)
def test_rule_violations_name_the_field_and_store_nothing(registry, overrides, field):
    before = log_length(registry)
    with pytest.raises(InvalidInput) as caught:
        record(registry, activity(**overrides))
    assert field in {e.field for e in caught.value.errors}
    assert log_length(registry) == before


def test_a_zone_must_exist_at_the_station(registry):
    registry.registry.register_station(
        SYSTEM,
        StationIn.model_validate(
            {"code": "floda", "name": "Floda", "municipality": "Lerum", "zones": ["platform"]}
        ),
    )
    with pytest.raises(InvalidInput) as caught:
        record(registry, activity(station="floda", zone="tunnel"))
    assert caught.value.errors[0].field == "zone"


def test_only_partners_record_and_only_for_their_own_actor(registry):
    with pytest.raises(Forbidden):
        record(registry, activity(), who=SYSTEM)
    with pytest.raises(Forbidden):
        record(registry, activity(actor="trafikverket"))


def batch(system, bodies, who=HOSTS, kind=ACTIVITY, model=ActivityIn):
    return system.entries.record_entries(kind, who, [parse(model, b) for b in bodies])


def test_a_batch_is_stored_in_one_go_with_per_item_results(registry):
    receipt = batch(registry, [activity(n) for n in range(50)])
    assert receipt.created == 50
    positions = [r.receipt.position for r in receipt.results]
    assert positions == sorted(positions)
    assert [r.index for r in receipt.results] == list(range(50))
    # Each receipt names the position its own event was stored at, in the batch's order.
    for r in receipt.results:
        assert registry.ledger.store.event_positions(r.receipt.id) == {1: r.receipt.position}


def test_a_batch_with_one_bad_item_stores_nothing(registry):
    before = log_length(registry)
    bodies = [activity(n) for n in range(10)]
    bodies[7] = activity(7, station="goteborg")
    with pytest.raises(InvalidInput) as caught:
        batch(registry, bodies)
    assert caught.value.errors[0].field == "items.7.station"
    assert log_length(registry) == before


def test_a_replayed_batch_reports_duplicates_and_stores_only_new_items(registry):
    batch(registry, [activity(n) for n in range(5)])
    before = log_length(registry)
    receipt = batch(registry, [activity(n) for n in range(8)])
    assert [r.status for r in receipt.results] == ["duplicate"] * 5 + ["created"] * 3
    assert log_length(registry) == before + 3


def test_a_batch_that_reuses_an_external_id_for_other_content_stores_nothing(registry):
    batch(registry, [activity(1)])
    before = log_length(registry)
    with pytest.raises(ExternalIdConflict):
        batch(registry, [activity(2), activity(1, staff_count=9)])
    assert log_length(registry) == before


def test_a_batch_repeating_an_item_stores_it_once(registry):
    receipt = batch(registry, [activity(1), activity(1)])
    assert [r.status for r in receipt.results] == ["created", "duplicate"]
    assert receipt.results[0].receipt.position == receipt.results[1].receipt.position


def test_batches_over_the_limit_are_refused(registry):
    with pytest.raises(InvalidInput) as caught:
        batch(registry, [activity(n) for n in range(1001)])
    assert caught.value.errors[0].field == "items"


def test_concurrent_overlapping_batches_store_each_item_once(registry):
    before = log_length(registry)
    bodies = [activity(n) for n in range(40)]
    with ThreadPoolExecutor(4) as pool:
        receipts = list(
            pool.map(lambda k: batch(registry, bodies[k * 10 :] + bodies[: k * 10]), range(4))
        )
    assert sum(r.created for r in receipts) == 40
    assert log_length(registry) == before + 40


def test_corrections_and_retraction_build_a_history(registry):
    receipt = record(registry, activity())
    fix = CorrectionIn(changes={"staff_count": 3}, reason="miscounted", expected_version=1)
    corrected = registry.entries.correct_entry(ACTIVITY, HOSTS, receipt.id, fix)
    assert corrected.version == 2
    retracted = registry.entries.retract_entry(
        ACTIVITY, HOSTS, receipt.id, RetractionIn(reason="logged twice", expected_version=2)
    )
    state = registry.entries.get_entry(ACTIVITY, HOSTS, receipt.id).as_dict()
    assert (state["staff_count"], state["status"], state["version"]) == (3, "retracted", 3)
    history = registry.entries.entry_history(ACTIVITY, HOSTS, receipt.id)
    assert [e["type"] for e in history] == ["recorded", "corrected", "retracted"]
    assert [e["position"] for e in history] == [
        receipt.position,
        corrected.position,
        retracted.position,
    ]
    assert history[0]["staff_count"] == 2  # the original is kept as it was


def test_a_stale_expected_version_is_a_conflict(registry):
    receipt = record(registry, activity())
    fix = CorrectionIn(changes={"staff_count": 3}, reason="miscounted", expected_version=1)
    registry.entries.correct_entry(ACTIVITY, HOSTS, receipt.id, fix)
    with pytest.raises(VersionConflict):
        registry.entries.correct_entry(ACTIVITY, HOSTS, receipt.id, fix)


def test_racing_corrections_admit_exactly_one(registry):
    receipt = record(registry, activity())

    def correct(n):
        fix = CorrectionIn(changes={"staff_count": n}, reason="recount", expected_version=1)
        try:
            registry.entries.correct_entry(ACTIVITY, HOSTS, receipt.id, fix)
            return "ok"
        except VersionConflict:
            return "conflict"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(correct, range(3, 11)))
    assert outcomes.count("ok") == 1
    assert registry.entries.get_entry(ACTIVITY, HOSTS, receipt.id).version == 2


def test_a_correction_is_validated_like_a_new_entry(registry):
    receipt = record(registry, activity())
    bad = CorrectionIn(
        changes={"ended_at": "2021-10-01T10:00:00+02:00"}, reason="typo", expected_version=1
    )
    with pytest.raises(InvalidInput) as caught:
        registry.entries.correct_entry(ACTIVITY, HOSTS, receipt.id, bad)
    assert caught.value.errors[0].field == "changes.ended_at"


def test_only_the_owner_may_correct_or_retract(registry):
    receipt = record(registry, activity())
    # Issue #10: as if the entry did not exist (not 403), so ids cannot be probed.
    with pytest.raises(NotFound):
        registry.entries.retract_entry(
            ACTIVITY, CLEANERS, receipt.id, RetractionIn(reason="not mine", expected_version=1)
        )


def test_a_retracted_entry_cannot_be_corrected(registry):
    receipt = record(registry, activity())
    registry.entries.retract_entry(
        ACTIVITY, HOSTS, receipt.id, RetractionIn(reason="duplicate", expected_version=1)
    )
    with pytest.raises(EntryRetracted):
        registry.entries.correct_entry(
            ACTIVITY,
            HOSTS,
            receipt.id,
            CorrectionIn(changes={"staff_count": 1}, reason="late fix", expected_version=2),
        )


def test_observations_follow_the_same_rules(registry):
    obs = parse(ObservationIn, observation())
    first = registry.entries.record_entry(OBSERVATION, HOSTS, obs)
    again = registry.entries.record_entry(OBSERVATION, HOSTS, obs)
    assert first.created
    assert not again.created
    with pytest.raises(ExternalIdConflict):
        registry.entries.record_entry(
            OBSERVATION, HOSTS, parse(ObservationIn, observation(count=3))
        )
    state = registry.entries.get_entry(OBSERVATION, HOSTS, first.id).as_dict()
    assert state["category"] == "graffiti"


def test_partners_read_only_their_own_entries(registry):
    receipt = record(registry, activity())
    with pytest.raises(NotFound):  # issue #10: the same answer as an unknown id
        registry.entries.get_entry(ACTIVITY, CLEANERS, receipt.id)
    steering = Principal("k-s", Role.steering)
    assert registry.entries.get_entry(ACTIVITY, steering, receipt.id).actor == "vasttrafik"

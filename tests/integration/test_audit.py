"""Tamper evidence on a real database: every edit made behind the service's back is
caught by ``verify`` at the right position, and proofs from the server check out."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.event import listen, remove

from ledger.access import Principal, Role
from ledger.audit.checkpoint import Signer, parse_checkpoint, sign_checkpoint
from ledger.audit.merkle import (
    MemoryNodeStore,
    consistency_proof,
    inclusion_proof,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from ledger.audit.store import checkpoints, leaves, nodes
from ledger.audit.verify import verify_ledger
from ledger.entry_service import ACTIVITY
from ledger.errors import ExternalIdConflict
from ledger.inputs import ActivityIn
from tests.factories import activity

HOSTS = Principal("k", Role.partner, "vasttrafik")


@pytest.fixture
def sealed(registry):
    """Twenty activities, sealed and covered by a signed checkpoint."""
    positions = [
        registry.entries.record_entry(
            ACTIVITY, HOSTS, ActivityIn.model_validate(activity(n))
        ).position
        for n in range(20)
    ]
    registry.audit.issue_checkpoint()
    return registry, positions


def verify(system, **kwargs):
    return verify_ledger(
        system.ledger.recorder, system.engine, system.audit.signer.verifier_key, **kwargs
    )


def events_table(system) -> str:
    if system.database.is_sqlite:
        return system.ledger.events_table
    return f'"{system.database.schema}"."{system.ledger.events_table}"'


def pos_column(system) -> str:
    return "rowid" if system.database.is_sqlite else "notification_id"


def tamper(system, sql: str, **params) -> None:
    with system.engine.begin() as conn:
        conn.execute(text(sql.format(t=events_table(system), pos=pos_column(system))), params)


def state_at(system, position: int) -> bytes:
    with system.engine.connect() as conn:
        return bytes(
            conn.execute(
                text(f"SELECT state FROM {events_table(system)} WHERE {pos_column(system)} = :p"),
                {"p": position},
            ).scalar_one()
        )


def test_an_untouched_log_verifies(sealed):
    system, _ = sealed
    report = verify(system)
    assert report.ok, report.as_dict()
    assert report.leaves == system.ledger.last_position()


def test_changing_one_byte_of_a_payload_is_modified_at_that_position(sealed):
    system, positions = sealed
    target = positions[7]
    state = bytearray(state_at(system, target))
    state[state.index(b'"staff_count":2') + len('"staff_count":')] = ord("9")
    tamper(system, "UPDATE {t} SET state = :s WHERE {pos} = :p", s=bytes(state), p=target)
    first = verify(system).first
    assert (first.kind, first.position) == ("modified", target)


def test_deleting_a_row_is_missing_at_that_position(sealed):
    system, positions = sealed
    tamper(system, "DELETE FROM {t} WHERE {pos} = :p", p=positions[5])
    first = verify(system).first
    assert (first.kind, first.position) == ("missing", positions[5])


def test_swapping_two_rows_is_reordered(sealed):
    system, positions = sealed
    a, b = positions[3], positions[9]
    tamper(system, "UPDATE {t} SET {pos} = -1 WHERE {pos} = :a", a=a)
    tamper(system, "UPDATE {t} SET {pos} = :a WHERE {pos} = :b", a=a, b=b)
    tamper(system, "UPDATE {t} SET {pos} = :b WHERE {pos} = -1", b=b)
    first = verify(system).first
    assert (first.kind, first.position) == ("reordered", a)


def test_truncating_the_tail_is_truncated(sealed):
    system, positions = sealed
    tamper(system, "DELETE FROM {t} WHERE {pos} > :p", p=positions[15])
    first = verify(system).first
    assert (first.kind, first.position) == ("truncated", positions[16])


def test_a_forged_row_among_sealed_positions_is_inserted(registry):
    system = registry
    for n in range(5):
        system.entries.record_entry(ACTIVITY, HOSTS, ActivityIn.model_validate(activity(n)))
    # A refused write: on PostgreSQL it uses up a position, leaving a gap in the log.
    with pytest.raises(ExternalIdConflict):
        system.entries.record_entry(
            ACTIVITY, HOSTS, ActivityIn.model_validate(activity(0, staff_count=7))
        )
    for n in range(5, 10):
        system.entries.record_entry(ACTIVITY, HOSTS, ActivityIn.model_validate(activity(n)))
    system.audit.issue_checkpoint()
    positions = [n.id for n in system.ledger.recorder.select_notifications(start=1, limit=1000)]
    gaps = [p for p in range(positions[0], positions[-1]) if p not in positions]
    forged_state = state_at(system, positions[-1]).replace(b"vt-9", b"vt-X")
    forged_id = "00000000-0000-4000-8000-000000000001"
    if gaps:  # PostgreSQL: slip a row into the gap
        at = gaps[0]
        tamper(
            system,
            "INSERT INTO {t} (originator_id, originator_version, topic, state, {pos}) "
            "VALUES (:i, 1, 'ledger.domain.entries:Activity.Recorded', :s, :p)",
            i=forged_id,
            s=forged_state,
            p=at,
        )
    else:  # SQLite numbers rows without gaps: replace a sealed row with a forged one
        at = positions[4]
        tamper(system, "DELETE FROM {t} WHERE {pos} = :p", p=at)
        tamper(
            system,
            "INSERT INTO {t} (originator_id, originator_version, topic, state, {pos}) "
            "VALUES (:i, 1, 'ledger.domain.entries:Activity.Recorded', :s, :p)",
            i=forged_id.replace("-", ""),
            s=forged_state,
            p=at,
        )
    first = verify(system).first
    assert (first.kind, first.position) == ("inserted", at)


def test_a_checkpoint_signed_by_another_key_is_a_bad_signature(sealed):
    system, _ = sealed
    latest = parse_checkpoint(system.audit.latest_checkpoint()["note"])
    impostor = Signer.generate(system.audit.origin)
    forged = sign_checkpoint(latest.origin, latest.size, latest.root, datetime.now(UTC), impostor)
    with system.engine.begin() as conn:
        conn.execute(update(checkpoints).values(note=forged))
    first = verify(system).first
    assert first.kind == "bad_signature"


def test_rewriting_an_event_and_its_sealed_leaf_still_breaks_the_signed_root(sealed):
    system, positions = sealed
    from ledger.audit.leaf import leaf_hash_of
    from ledger.audit.store import leaves, nodes

    target = positions[2]
    state = state_at(system, target).replace(b'"staff_count":2', b'"staff_count":5')
    tamper(system, "UPDATE {t} SET state = :s WHERE {pos} = :p", s=state, p=target)
    with system.engine.begin() as conn:
        index, oid, version = conn.execute(
            leaves.select()
            .with_only_columns(
                leaves.c.leaf_index, leaves.c.originator_id, leaves.c.originator_version
            )
            .where(leaves.c.position == target)
        ).one()
        topic = "ledger.domain.entries:Activity.Recorded"
        conn.execute(
            update(nodes)
            .where(nodes.c.level == 0, nodes.c.idx == index)
            .values(hash=leaf_hash_of(target, oid, version, topic, state))
        )
    first = verify(system).first
    assert first.kind == "root_mismatch"


def test_an_auditors_earlier_checkpoint_is_proven_consistent(sealed):
    system, _ = sealed
    earlier = system.audit.latest_checkpoint()["note"]
    for n in range(20, 25):
        system.entries.record_entry(ACTIVITY, HOSTS, ActivityIn.model_validate(activity(n)))
    system.audit.issue_checkpoint()
    assert verify(system, auditor_checkpoint=earlier).ok
    other = Signer.generate("someone-else")
    cp = parse_checkpoint(earlier)
    foreign = sign_checkpoint(cp.origin, cp.size, bytes(32), cp.time, other)
    report = verify(system, auditor_checkpoint=foreign, auditor_key=other.verifier_key)
    assert report.first.kind == "root_mismatch"


def test_server_proofs_verify_and_tampered_ones_do_not(sealed):
    system, positions = sealed
    audit = system.audit
    size = audit.sealed_size()
    proof = audit.inclusion(positions[11], size)
    leaf, root = bytes.fromhex(proof["leaf_hash"]), bytes.fromhex(proof["root_hash"])
    path = [bytes.fromhex(h) for h in proof["proof"]]
    assert verify_inclusion(leaf, proof["leaf_index"], size, path, root)
    wrong_sibling = [bytes(32), *path[1:]]
    assert not verify_inclusion(leaf, proof["leaf_index"], size, wrong_sibling, root)
    assert not verify_inclusion(leaf, proof["leaf_index"], size + 5, path, root)
    c = audit.consistency(7, size)
    args = (7, size, bytes.fromhex(c["first_root"]), bytes.fromhex(c["second_root"]))
    c_path = [bytes.fromhex(h) for h in c["proof"]]
    assert verify_consistency(*args, c_path)
    assert not verify_consistency(*args, c_path[:-1])
    # A proof for another size fails against that size's real root (from its checkpoint).
    smaller_root = bytes.fromhex(audit.consistency(7, size - 1)["second_root"])
    assert not verify_consistency(7, size - 1, args[2], smaller_root, c_path)


def test_proofs_equal_the_reference_tree_and_read_it_in_one_query(sealed):
    system, _ = sealed
    audit = system.audit
    size = audit.sealed_size()
    with system.engine.connect() as conn:
        sealed_leaves = conn.execute(
            select(leaves.c.position, nodes.c.hash)
            .join(nodes, (nodes.c.level == 0) & (nodes.c.idx == leaves.c.leaf_index))
            .order_by(leaves.c.leaf_index)
        ).all()
    reference = MemoryNodeStore.from_leaf_hashes([bytes(h) for _, h in sealed_leaves])
    statements = []

    def count(*args):
        statements.append(args[2])

    listen(system.engine, "before_cursor_execute", count)
    try:
        for n in range(1, size + 1):
            for index in range(n):
                before = len(statements)
                proof = audit.inclusion(sealed_leaves[index][0], n)
                # the sealed size, the leaf's index, then every node it needs at once
                assert len(statements) - before <= 3
                assert proof["proof"] == [h.hex() for h in inclusion_proof(index, n, reference)]
                assert proof["root_hash"] == root_at(n, reference).hex()
            for first in range(1, n + 1):
                c = audit.consistency(first, n)
                assert c["proof"] == [h.hex() for h in consistency_proof(first, n, reference)]
                assert c["first_root"] == root_at(first, reference).hex()
    finally:
        remove(system.engine, "before_cursor_execute", count)

"""Two real witnesses beside a ledger: every checkpoint it serves carries their
cosignatures, an unreachable one blocks nothing, and neither a forked nor a rewritten
history can gather a quorum — even when its author holds the database and the key."""

import re
import time
from datetime import UTC, datetime

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update

from api.app import create_app
from api.runtime import Runtime
from ledger.access import Principal, Role
from ledger.audit.checkpoint import sign_checkpoint, verify_checkpoint
from ledger.audit.cosignature import check_cosignatures, parse_witness_key
from ledger.audit.merkle import root_at
from ledger.audit.store import (
    checkpoints,
    cosignatures,
    leaves,
    nodes,
    seal_state,
    with_prefetched_nodes,
    witness_status,
)
from ledger.audit.verify import verify_ledger
from ledger.entry_service import ACTIVITY
from ledger.inputs import ActivityIn
from tests.factories import activity
from tests.witness_server import RunningWitness

HOSTS = Principal("k", Role.partner, "vasttrafik")


def record(system: Runtime, first: int, n: int) -> list[int]:
    """``n`` activities; returns their log positions."""
    return [
        system.entries.record_entry(
            ACTIVITY, HOSTS, ActivityIn.model_validate(activity(i))
        ).position
        for i in range(first, first + n)
    ]


def checkpoint(system: Runtime) -> dict:
    system.audit.issue_checkpoint()
    return system.audit.gather_cosignatures()


def keys_of(witnesses: list[RunningWitness]):
    return [parse_witness_key(w.vkey) for w in witnesses]


def verify(system: Runtime, witnesses, quorum: int):
    return verify_ledger(
        system.ledger.recorder,
        system.engine,
        system.audit.signer.verifier_key,
        witnesses=keys_of(witnesses),
        quorum=quorum,
    )


def status_of(system: Runtime) -> dict[str, dict]:
    return {w["name"]: w for w in system.audit.witness_status()["witnesses"]}


def test_every_checkpoint_served_carries_both_cosignatures(witnessed, witnesses):
    system = witnessed
    record(system, 0, 5)
    checkpoint(system)
    record(system, 5, 7)
    checkpoint(system)
    app = create_app(system.settings, runtime=system)
    auditor = system.create_key(Role.auditor, None, None)[1]
    h = {"Authorization": f"Bearer {auditor}"}
    with TestClient(app) as client:
        latest = client.get(
            "/v1/audit/checkpoints/latest", params={"format": "note"}, headers=h
        ).text
        listed = client.get("/v1/audit/checkpoints", headers=h).json()["items"]
    for note in [latest, *(c["note"] for c in listed)]:
        verify_checkpoint(note, system.audit.signer.verifier)  # the log's own signature
        check = check_cosignatures(note, keys_of(witnesses))
        assert sorted(check.valid) == ["witness1.example/trygg", "witness2.example/trygg"]
    assert [len(c["cosignatures"]) for c in listed] == [2, 2]
    report = verify(system, witnesses, quorum=2)
    assert report.ok, report.first
    assert report.witnessed["by"] == ["witness1.example/trygg", "witness2.example/trygg"]


def test_the_background_job_gathers_cosignatures_on_its_own(settings, witnesses):
    entries = ", ".join(w.config_entry for w in witnesses)
    tuned = settings.model_copy(update={"witnesses": entries, "checkpoint_interval_seconds": 0.2})
    from tests.conftest import registered

    system = registered(Runtime(tuned))
    try:
        system.start()
        record(system, 0, 3)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            latest = system.audit.latest_checkpoint()
            if latest and latest["tree_size"] >= 8 and len(latest["cosignatures"]) == 2:
                break
            time.sleep(0.1)
        assert latest is not None
        assert len(latest["cosignatures"]) == 2, system.audit.witness_status()
    finally:
        system.close()


def test_status_metrics_and_the_audit_page_say_witnessed_by_n_of_m(witnessed, witnesses):
    system = witnessed
    record(system, 0, 3)
    checkpoint(system)
    witnesses[1].stop()
    record(system, 3, 2)
    checkpoint(system)
    app = create_app(system.settings, runtime=system)
    auditor = system.create_key(Role.auditor, None, None)[1]
    h = {"Authorization": f"Bearer {auditor}"}
    with TestClient(app) as client:
        status = client.get("/v1/audit/witnesses", headers=h).json()
        metrics = client.get("/metrics", headers=h).text
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"token": auditor, "csrf": csrf, "next": "/audit"})
        html = client.get("/audit").text
    assert (status["configured"], status["witnessed"]) == (2, 1)
    down = next(w for w in status["witnesses"] if w["name"] == "witness2.example/trygg")
    assert "unreachable" in down["last_error"]
    assert down["cosigned_latest"] is False
    assert "trygg_witnesses_configured 2" in metrics
    assert "trygg_checkpoint_witnessed 1" in metrics
    assert 'trygg_witness_cosigned_size{witness="witness1.example/trygg"}' in metrics
    assert "Bevittnad av 1 av 2" in html
    assert "unreachable" in html


def test_an_unreachable_witness_blocks_no_write_and_catches_up_when_back(witnessed, witnesses):
    system = witnessed
    record(system, 0, 4)
    first = checkpoint(system)
    witnesses[1].stop()
    record(system, 4, 6)  # writes go on: they never wait for a witness
    second = checkpoint(system)
    assert [c["witness"] for c in second["cosignatures"]] == ["witness1.example/trygg"]
    assert not verify(system, witnesses, quorum=2).ok
    assert verify(system, witnesses, quorum=1).ok
    witnesses[1].start()  # same key, same state file: it still holds the first size
    caught_up = system.audit.gather_cosignatures()
    assert len(caught_up["cosignatures"]) == 2
    assert status_of(system)["witness2.example/trygg"]["cosigned_size"] == second["tree_size"]
    assert first["tree_size"] < second["tree_size"]
    assert verify(system, witnesses, quorum=2).ok


def test_the_ledger_learns_a_witness_size_from_its_409(witnessed, witnesses):
    system = witnessed
    record(system, 0, 4)
    checkpoint(system)
    with system.engine.begin() as conn:  # the ledger forgets (e.g. restored from a backup)
        conn.execute(update(witness_status).values(cosigned_size=None))
    record(system, 4, 3)
    latest = checkpoint(system)
    assert len(latest["cosignatures"]) == 2


def test_a_split_view_gathers_no_cosignature_and_fails_the_quorum(witnessed, witnesses, tmp_path):
    """The host runs a second ledger with the same key and origin and another history
    (to show one party something else): the witnesses saw the first, so they refuse."""
    system = witnessed
    record(system, 0, 6)
    checkpoint(system)
    fork_settings = system.settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'fork.db'}",
            "database_schema": None,
            "log_origin": system.audit.origin,
        }
    )
    from tests.conftest import registered

    fork = registered(Runtime(fork_settings))
    try:
        assert fork.audit.signer.verifier_key == system.audit.signer.verifier_key
        record(fork, 100, 9)  # other activities: another history under the same name
        forked = checkpoint(fork)
        assert forked["cosignatures"] == []
        errors = [w["last_error"] for w in fork.audit.witness_status()["witnesses"]]
        assert all(errors), errors
        report = verify(fork, witnesses, quorum=1)
        assert report.first.kind == "no_quorum"
    finally:
        fork.close()


def rewrite_and_resign(system: Runtime, position: int) -> None:
    """What a host holding the database and the signing key can do: change an event,
    rebuild the whole tree from the changed log, and re-sign every checkpoint."""
    table = system.ledger.events_table
    if not system.database.is_sqlite:
        table = f'"{system.database.schema}"."{table}"'
    pos = "rowid" if system.database.is_sqlite else "notification_id"
    with system.engine.begin() as conn:
        state = bytes(
            conn.execute(
                text(f"SELECT state FROM {table} WHERE {pos} = :p"), {"p": position}
            ).scalar_one()
        )
        forged = state.replace(b'"staff_count":2', b'"staff_count":9')
        assert forged != state
        conn.execute(
            text(f"UPDATE {table} SET state = :s WHERE {pos} = :p"), {"s": forged, "p": position}
        )
        conn.execute(delete(leaves))
        conn.execute(delete(nodes))
        conn.execute(update(seal_state).values(position=0, tree_size=0))
    system.audit.sealer._builder = None  # the attacker's own sealer starts afresh
    system.audit.sealer.seal()
    signer = system.audit.signer
    with system.engine.begin() as conn:
        for row in conn.execute(select(checkpoints)).all():
            root = with_prefetched_nodes(conn, lambda reader, s=row.tree_size: root_at(s, reader))
            note = sign_checkpoint(
                system.audit.origin, row.tree_size, root, datetime.now(UTC), signer
            )
            conn.execute(
                update(checkpoints)
                .where(checkpoints.c.id == row.id)
                .values(root_hash=root, note=note)
            )


def test_rewriting_history_and_re_signing_it_is_caught_by_the_quorum(witnessed, witnesses):
    system = witnessed
    positions = record(system, 0, 6)
    checkpoint(system)
    record(system, 6, 4)
    checkpoint(system)
    assert verify(system, witnesses, quorum=2).ok
    rewrite_and_resign(system, positions[2])

    # Without witnesses the forgery is perfect: every leaf, root and signature agrees.
    plain = verify_ledger(system.ledger.recorder, system.engine, system.audit.signer.verifier_key)
    assert plain.ok
    # The witnesses' cosignatures were over the true history: they no longer verify.
    assert verify(system, witnesses, quorum=2).first.kind == "bad_cosignature"
    # Dropping them leaves the re-signed checkpoints without a quorum…
    with system.engine.begin() as conn:
        conn.execute(delete(cosignatures))
    assert verify(system, witnesses, quorum=1).first.kind == "no_quorum"
    # …and no witness will cosign the rewritten history, now or later.
    assert system.audit.gather_cosignatures()["cosignatures"] == []
    record(system, 10, 2)
    assert checkpoint(system)["cosignatures"] == []
    assert verify(system, witnesses, quorum=1).first.kind == "no_quorum"
    for w in system.audit.witness_status()["witnesses"]:
        assert w["last_error"], w


@pytest.mark.parametrize("quorum", [1, 2])
def test_a_checkpoint_cosigned_by_strangers_does_not_count(witnessed, witnesses, tmp_path, quorum):
    system = witnessed
    record(system, 0, 3)
    checkpoint(system)
    strangers = [
        RunningWitness(f"stranger{n}", [system.audit.signer.verifier_key], tmp_path / f"s{n}.db")
        for n in (1, 2)
    ]
    report = verify_ledger(
        system.ledger.recorder,
        system.engine,
        system.audit.signer.verifier_key,
        witnesses=keys_of(strangers),
        quorum=quorum,
    )
    assert report.first.kind == "no_quorum"


def test_the_offline_verifier_requires_the_quorum_on_the_checkpoint_it_is_given(
    witnessed, witnesses, tmp_path
):
    from ledger.audit.standalone import main

    system = witnessed
    record(system, 0, 5)
    note = checkpoint(system)["note"]
    log = tmp_path / "log.ndjson"
    log.write_text(
        "".join(orjson.dumps(r).decode() + "\n" for r in system.audit.export()), encoding="utf-8"
    )
    (tmp_path / "cp.txt").write_text(note, encoding="utf-8")
    own_only = note.split("— witness1")[0]  # the log's signature alone
    (tmp_path / "bare.txt").write_text(own_only, encoding="utf-8")
    base = ["--log", str(log), "--key", system.audit.signer.verifier_key]
    vkeys = [arg for w in witnesses for arg in ("--witness", w.vkey)]
    assert main([*base, "--checkpoint", str(tmp_path / "cp.txt"), *vkeys, "--quorum", "2"]) == 0
    assert main([*base, "--checkpoint", str(tmp_path / "bare.txt"), *vkeys]) == 1
    assert main([*base, "--checkpoint", str(tmp_path / "bare.txt")]) == 0  # no witnesses asked

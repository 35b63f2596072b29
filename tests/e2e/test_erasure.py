"""Erasure that keeps the proof (issue #10): personal data that slipped past the
screening is erased from every read and from the database, an erasure record stays in
the history, and every leaf, checkpoint and proof stays valid."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.audit.checkpoint import VerifierKey, verify_checkpoint
from ledger.audit.merkle import verify_inclusion
from ledger.audit.verify import verify_ledger
from ledger.texts import TEXT_TABLE
from tests.e2e.live import trygg
from tests.e2e.test_dashboard import sign_in
from tests.factories import activity

# A name the screening cannot tell from ordinary words: it gets in, as such text will.
SLIPPED = "Kalle Exempelsson bråkade"
REASON = "Fel person, Kalle Exempelsson"


@pytest.fixture
def slipped(client, keys, registry):
    """An event with personal data in its title and note, corrected (the reason names
    the person too), sealed and covered by a checkpoint taken before the erasure."""
    h = keys.header("partner")
    body = activity(
        1,
        kind="public_event",
        note=SLIPPED,
        details={"title": f"Fika med {SLIPPED}", "participants_estimate": 30},
    )
    created = client.post("/v1/activities", json=body, headers=h).json()
    fix = {"changes": {"staff_count": 3}, "reason": REASON, "expected_version": 1}
    corrected = client.post(f"/v1/activities/{created['id']}/corrections", json=fix, headers=h)
    assert corrected.status_code == 200, corrected.text
    before = client.post("/v1/audit/checkpoints", headers=keys.header("auditor")).json()
    return {"id": created["id"], "created": created, "checkpoint": before, "body": body}


def erase(client, keys, entry_id, fields, role="admin"):
    return client.post(
        f"/v1/activities/{entry_id}/erasure",
        json={"fields": fields, "reason": "Begäran 2022-17 från registrator"},
        headers=keys.header(role),
    )


def test_only_administrators_erase_and_only_what_is_there(client, keys, slipped):
    for role in ("partner", "steering", "auditor"):
        assert erase(client, keys, slipped["id"], ["note"], role).status_code == 403
    r = erase(client, keys, slipped["id"], ["notes"])
    assert r.status_code == 422
    assert erase(client, keys, slipped["id"], ["details.unit"]).status_code == 422  # none given
    assert erase(client, keys, slipped["id"], ["note"]).status_code == 200
    again = erase(client, keys, slipped["id"], ["note"])
    assert again.status_code == 422
    assert "erased already" in again.json()["detail"]


def test_erased_text_is_gone_from_every_read(client, keys, slipped, registry, cli_env, tmp_path):
    entry_id = slipped["id"]
    r = erase(client, keys, entry_id, ["note", "details.title", "reason"])
    assert r.status_code == 200, r.text
    assert r.json()["erased"] == ["details.title", "note", "reason"]
    position = r.json()["position"]
    admin, steering = keys.header("admin"), keys.header("steering")

    entry = client.get(f"/v1/activities/{entry_id}", headers=admin).json()
    assert entry["note"] is None
    assert entry["details"]["title"] is None
    assert entry["details"]["participants_estimate"] == 30  # figures stay
    assert entry["erased_fields"] == ["details.title", "note", "reason"]
    history = client.get(f"/v1/activities/{entry_id}/history", headers=admin).json()["events"]
    assert [e["type"] for e in history] == ["recorded", "corrected", "erased"]
    assert history[1]["reason"] is None
    assert history[2]["fields"] == ["details.title", "note", "reason"]
    assert history[2]["reason"] == "Begäran 2022-17 från registrator"
    reads = [
        json.dumps(entry),
        json.dumps(history),
        client.get("/v1/activities", params={"min_position": position}, headers=admin).text,
        client.get("/v1/activities", params={"min_position": position}, headers=steering).text,
        client.get("/v1/feed", headers=admin).text,
        client.get("/v1/feed", headers=keys.header("partner")).text,
        client.get("/v1/audit/log", headers=admin).text,
    ]
    for body in reads:
        assert "Exempelsson" not in body
    sign_in(client, keys.admin)
    for export in ("csv", "xlsx"):
        page = client.get(
            f"/export/activities.{export}",
            params={"station": "lerum", "from": "2021-09-01", "to": "2021-12-31"},
        )
        assert page.status_code == 200, page.text[:300]
        assert b"Exempelsson" not in page.content
        assert "Exempelsson" not in unzip_text(page.content) if export == "xlsx" else True
    out = tmp_path / "log.ndjson"
    trygg("export", "--out", str(out), env=cli_env)
    assert "Exempelsson" not in out.read_text(encoding="utf-8")
    replayed = tmp_path / "views.json"
    trygg("replay", "--as-of", str(position), "--out", str(replayed), env=cli_env)
    assert "Exempelsson" not in replayed.read_text(encoding="utf-8")
    assert_gone_from_the_database(registry, "Exempelsson")


def unzip_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def assert_gone_from_the_database(registry, needle: str) -> None:
    """No table holds the text; on SQLite, not even the file's free pages or its WAL."""
    with registry.engine.connect() as conn:
        if registry.database.is_sqlite:
            names = [
                r[0]
                for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")
            ]
        else:
            names = [
                r[0]
                for r in conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                    {"s": registry.database.schema},
                )
            ]
        for name in names:
            rows = conn.exec_driver_sql(f'SELECT * FROM "{name}"').all()
            assert needle not in repr(rows), name
    if registry.database.is_sqlite:
        path = Path(registry.database.sqlite_path)
        for file in (path, Path(f"{path}-wal")):
            if file.exists():
                assert needle.encode() not in file.read_bytes(), file


def test_every_proof_stays_valid_and_verify_counts_the_erasure(
    client, keys, slipped, registry, cli_env, tmp_path
):
    auditor = keys.header("auditor")
    before = slipped["checkpoint"]
    note_before = client.get(
        "/v1/audit/checkpoints/latest", params={"format": "note"}, headers=auditor
    ).text
    assert (
        erase(client, keys, slipped["id"], ["note", "details.title", "reason"]).status_code == 200
    )
    after = client.post("/v1/audit/checkpoints", headers=auditor).json()
    # The original event is still in the old checkpoint and in the new one.
    key = VerifierKey.parse(
        client.get("/v1/audit/public-key", headers=auditor).json()["verifier_key"]
    )
    assert verify_checkpoint(note_before, key).size == before["tree_size"]
    for size, root in (
        (before["tree_size"], before["root_hash"]),
        (after["tree_size"], after["root_hash"]),
    ):
        proof = client.get(
            "/v1/audit/proofs/inclusion",
            params={"position": slipped["created"]["position"], "tree_size": size},
            headers=auditor,
        ).json()
        assert proof["leaf_hash"] == slipped["created"]["leaf_hash"]
        assert verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            proof["leaf_index"],
            size,
            [bytes.fromhex(h) for h in proof["proof"]],
            bytes.fromhex(root),
        )
    consistency = client.get(
        "/v1/audit/proofs/consistency",
        params={"first": before["tree_size"], "second": after["tree_size"]},
        headers=auditor,
    )
    assert consistency.status_code == 200
    ok = trygg("verify", env=cli_env)
    assert "OK" in ok.stdout
    assert "3 fields were erased" in " ".join(ok.stdout.split())
    # The standalone verifier, with the checkpoint an auditor kept from before.
    earlier = tmp_path / "before.txt"
    earlier.write_text(note_before)
    log = tmp_path / "log.ndjson"
    cp = tmp_path / "now.txt"
    trygg("export", "--out", str(log), "--checkpoint-out", str(cp), env=cli_env)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.audit.standalone",
            "--log",
            str(log),
            "--checkpoint",
            str(cp),
            "--old-checkpoint",
            str(earlier),
            "--key",
            str(key),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_retry_after_an_erasure_is_answered_not_stored_again(client, keys, slipped, registry):
    assert erase(client, keys, slipped["id"], ["note", "details.title"]).status_code == 200
    again = client.post("/v1/activities", json=slipped["body"], headers=keys.header("partner"))
    assert again.status_code == 200
    assert again.json()["id"] == slipped["id"]
    assert again.json()["created"] is False
    assert_gone_from_the_database(registry, "Exempelsson bråkade")
    other = {**slipped["body"], "staff_count": 9}
    assert (
        client.post("/v1/activities", json=other, headers=keys.header("partner")).status_code == 409
    )


def test_a_correction_after_an_erasure_keeps_the_text_erased(client, keys, slipped):
    assert erase(client, keys, slipped["id"], ["details.title"]).status_code == 200
    h = keys.header("partner")
    current = client.get(f"/v1/activities/{slipped['id']}", headers=h).json()
    fix = {
        "changes": {"details": {"participants_estimate": 40, "title": "[raderad]"}},
        "reason": "Fler deltagare",
        "expected_version": current["version"],
    }
    r = client.post(f"/v1/activities/{slipped['id']}/corrections", json=fix, headers=h)
    assert r.status_code == 200, r.text
    now = client.get(f"/v1/activities/{slipped['id']}", headers=h).json()
    assert now["details"] == {"title": None, "participants_estimate": 40}


def test_verify_catches_a_changed_or_vanished_text(client, keys, registry, cli_env):
    h = keys.header("partner")
    client.post("/v1/activities", json=activity(1, note="Klotter i tunneln"), headers=h)
    client.post("/v1/activities", json=activity(2, note="Lugnt"), headers=h)
    registry.audit.issue_checkpoint()
    key = registry.audit.signer.verifier_key
    report = verify_ledger(registry.ledger.recorder, registry.engine, key)
    assert report.ok
    assert report.texts == 2
    with registry.engine.begin() as conn:
        conn.execute(text(f"UPDATE {TEXT_TABLE} SET text = 'Lugnt och fint' WHERE text = 'Lugnt'"))
    report = verify_ledger(registry.ledger.recorder, registry.engine, key)
    assert report.first.kind == "text_modified"
    with registry.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {TEXT_TABLE} WHERE text = 'Lugnt och fint'"))
    report = verify_ledger(registry.ledger.recorder, registry.engine, key)
    assert report.first.kind == "text_missing"
    failed = trygg("verify", env=cli_env, check=False)
    assert failed.returncode == 1
    assert "text_missing" in failed.stderr


def test_verify_catches_a_text_no_event_refers_to(client, keys, registry):
    """Texts and references are compared page by page (a scratch file, not memory): a row
    slipped in among them is found, and nothing else is reported."""
    h = keys.header("partner")
    for n in range(12):
        client.post("/v1/activities", json=activity(n, note=f"Lugnt vid entrén {n}"), headers=h)
    registry.audit.issue_checkpoint()
    key = registry.audit.signer.verifier_key
    with registry.engine.begin() as conn:
        row = conn.execute(text(f"SELECT entry_id, salt FROM {TEXT_TABLE}")).first()
        conn.execute(
            text(
                f"INSERT INTO {TEXT_TABLE} (ref, entry_id, salt, text) "
                "VALUES (:ref, :entry_id, :salt, 'Inskjuten')"
            ),
            {"ref": "0" * 64, "entry_id": row.entry_id, "salt": row.salt},
        )
    report = verify_ledger(registry.ledger.recorder, registry.engine, key, stop_after=50)
    assert [p.kind for p in report.problems] == ["text_inserted"]
    assert report.texts == 13


def test_the_cli_erases_too(client, keys, slipped, cli_env):
    done = trygg(
        "erase", slipped["id"], "--field", "note", "--reason", "Begäran 2022-18", env=cli_env
    )
    assert "Erased 1 texts (note)" in done.stdout
    entry = client.get(f"/v1/activities/{slipped['id']}", headers=keys.header("admin")).json()
    assert entry["note"] is None
    refused = trygg(
        "erase", slipped["id"], "--field", "nope", "--reason", "x y z", env=cli_env, check=False
    )
    assert refused.returncode == 1

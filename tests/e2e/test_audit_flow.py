"""An auditor's session, as the README describes it: fetch the key and a checkpoint,
pull the log, verify it offline; later, prove the new log extends the old one."""

import subprocess
import sys

from sqlalchemy import text

from ledger.access import Principal, Role
from ledger.entry_service import ACTIVITY
from ledger.inputs import ActivityIn
from tests.e2e.live import trygg
from tests.factories import activity


def post_some(client, keys, start, n):
    return [
        client.post("/v1/activities", json=activity(i), headers=keys.header("partner")).json()
        for i in range(start, start + n)
    ]


def test_receipts_carry_a_leaf_hash_that_is_proven_in_a_checkpoint(client, keys):
    receipt = post_some(client, keys, 0, 3)[1]
    assert len(receipt["leaf_hash"]) == 64
    h = keys.header("auditor")
    checkpoint = client.post("/v1/audit/checkpoints", headers=h).json()
    proof = client.get(
        "/v1/audit/proofs/inclusion",
        params={"position": receipt["position"], "tree_size": checkpoint["tree_size"]},
        headers=h,
    ).json()
    assert proof["leaf_hash"] == receipt["leaf_hash"]
    assert proof["root_hash"] == checkpoint["root_hash"]
    note = client.get("/v1/audit/checkpoints/latest", params={"format": "note"}, headers=h)
    assert note.headers["content-type"].startswith("text/plain")
    origin = note.text.split("\n", 1)[0]
    assert origin.startswith("trygg-ledger/")
    assert len(origin) == len("trygg-ledger/") + 16


def test_proof_requests_outside_the_tree_are_clear_4xx(client, keys):
    post_some(client, keys, 0, 2)
    h = keys.header("auditor")
    size = client.post("/v1/audit/checkpoints", headers=h).json()["tree_size"]
    r = client.get(
        "/v1/audit/proofs/inclusion", params={"position": 1, "tree_size": size + 10}, headers=h
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "tree_size"
    r = client.get(
        "/v1/audit/proofs/inclusion", params={"position": 10**9, "tree_size": size}, headers=h
    )
    assert r.status_code == 404
    r = client.get("/v1/audit/proofs/consistency", params={"first": 5, "second": 2}, headers=h)
    assert r.status_code == 422


def test_offline_audit_with_the_standalone_verifier(client, keys, tmp_path, registry):
    post_some(client, keys, 0, 10)
    h = keys.header("auditor")
    key = client.get("/v1/audit/public-key", headers=h).json()["verifier_key"]
    client.post("/v1/audit/checkpoints", headers=h)
    first = tmp_path / "checkpoint-1.txt"
    first.write_text(
        client.get("/v1/audit/checkpoints/latest", params={"format": "note"}, headers=h).text
    )

    post_some(client, keys, 10, 5)
    client.post("/v1/audit/checkpoints", headers=h)
    second = tmp_path / "checkpoint-2.txt"
    second.write_text(
        client.get("/v1/audit/checkpoints/latest", params={"format": "note"}, headers=h).text
    )
    log = tmp_path / "log.ndjson"
    log.write_bytes(client.get("/v1/audit/log", headers=h).content)

    def offline(*extra):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "ledger.audit.standalone",
                "--log",
                str(log),
                "--checkpoint",
                str(second),
                "--key",
                key,
                *extra,
            ],
            capture_output=True,
            text=True,
        )

    ok = offline("--old-checkpoint", str(first))
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # Someone edits an event behind the server's back; the next export betrays it.
    table = registry.ledger.events_table
    if not registry.database.is_sqlite:
        table = f'"{registry.database.schema}"."{table}"'
        position = "notification_id"
    else:
        position = "rowid"
    old, new = '"staff_count":2', '"staff_count":8'
    last = f"(SELECT max({position}) FROM {table})"
    if registry.database.is_sqlite:  # the edit also turns the BLOB into TEXT, as SQLite does
        sql = f"UPDATE {table} SET state = replace(state, :old, :new) WHERE {position} = {last}"
    else:
        sql = (
            f"UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            f":old, :new), 'UTF8') WHERE {position} = {last}"
        )
    with registry.engine.begin() as conn:
        conn.execute(text(sql), {"old": old, "new": new})
    log.write_bytes(client.get("/v1/audit/log", headers=h).content)
    bad = offline()
    assert bad.returncode == 1
    assert "modified" in bad.stdout + bad.stderr


def test_cli_verify_and_export(registry, keys, client, cli_env, tmp_path):
    post_some(client, keys, 0, 5)
    signed = trygg("checkpoint", env=cli_env)
    assert "Signed a checkpoint" in signed.stdout
    ok = trygg("verify", env=cli_env)
    assert "OK" in ok.stdout
    out = tmp_path / "log.ndjson"
    cp = tmp_path / "cp.txt"
    exported = trygg("export", "--out", str(out), "--checkpoint-out", str(cp), env=cli_env).stdout
    key = exported.strip().splitlines()[-1].split()[-1]
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.audit.standalone",
            "--log",
            str(out),
            "--checkpoint",
            str(cp),
            "--key",
            key,
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    earlier = tmp_path / "earlier.txt"
    earlier.write_text(cp.read_text())
    table = registry.ledger.events_table
    where = "rowid" if registry.database.is_sqlite else "notification_id"
    if not registry.database.is_sqlite:
        table = f'"{registry.database.schema}"."{table}"'
    with registry.engine.begin() as conn:
        conn.execute(
            text(f"DELETE FROM {table} WHERE {where} = (SELECT min({where}) FROM {table})")
        )
    failed = trygg("verify", "--checkpoint", str(earlier), env=cli_env, check=False)
    assert failed.returncode == 1
    assert "missing" in failed.stderr


def test_verify_never_signs_so_a_rewrite_with_an_emptied_audit_trail_fails(registry, cli_env):
    """Issue #10: verify used to seal and sign first, so after an event was changed and
    the audit tables emptied, it vouched for the forgery. (No server runs here: its
    sealer would seal whatever it finds.)"""
    who = Principal("k", Role.partner, "vasttrafik")
    for n in range(5):
        registry.entries.record_entry(ACTIVITY, who, ActivityIn.model_validate(activity(n)))
    trygg("checkpoint", env=cli_env)
    assert trygg("verify", env=cli_env).returncode == 0
    table = registry.ledger.events_table
    if not registry.database.is_sqlite:
        table = f'"{registry.database.schema}"."{table}"'
    old, new = '"staff_count":2', '"staff_count":8'
    if registry.database.is_sqlite:
        rewrite = f"UPDATE {table} SET state = replace(state, :old, :new)"
    else:
        rewrite = (
            f"UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            ":old, :new), 'UTF8')"
        )
    with registry.engine.begin() as conn:
        conn.execute(text(rewrite), {"old": old, "new": new})
        for audit_table in (
            "trygg_checkpoints",
            "trygg_merkle_nodes",
            "trygg_merkle_leaves",
        ):
            conn.execute(text(f"DELETE FROM {audit_table}"))
        conn.execute(text("UPDATE trygg_seal_state SET position = 0, tree_size = 0"))
    failed = trygg("verify", env=cli_env, check=False)
    assert failed.returncode == 1
    assert "no_audit_trail" in failed.stderr
    with registry.engine.connect() as conn:  # and it signed nothing
        assert conn.execute(text("SELECT count(*) FROM trygg_checkpoints")).scalar_one() == 0

"""The ``trygg`` command line, run as a user runs it."""

import time

import httpx

from tests.e2e.live import running_server, trygg


def test_keys_create_list_revoke(registry, cli_env):
    created = trygg(
        "keys",
        "create",
        "--role",
        "partner",
        "--actor",
        "vasttrafik",
        "--name",
        "VT system",
        env=cli_env,
    )
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("tl_")

    listed = trygg("keys", "list", env=cli_env).stdout.strip().splitlines()
    assert len(listed) == 1
    key_id = listed[0].split("\t")[0]
    assert key_id.startswith("k_")
    assert "partner\tvasttrafik\tVT system" in listed[0]
    assert token not in "\n".join(listed)

    with running_server(cli_env) as base:
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/v1/stations", headers=headers).status_code == 200
        trygg("keys", "revoke", key_id, env=cli_env)
        # Another process revoked it: the server's key cache lets it through for ≤ 1 s.
        deadline = time.monotonic() + 5
        while (r := httpx.get(f"{base}/v1/stations", headers=headers)).status_code == 200:
            assert time.monotonic() < deadline, "a revoked key kept working"
            time.sleep(0.2)
        assert r.status_code == 401
    assert "revoked" in trygg("keys", "list", env=cli_env).stdout


def test_keys_create_refuses_bad_input_clearly(registry, cli_env):
    r = trygg("keys", "create", "--role", "partner", "--actor", "nobody", env=cli_env, check=False)
    assert r.returncode != 0
    assert "unknown actor" in r.stderr
    r = trygg("keys", "create", "--role", "partner", env=cli_env, check=False)
    assert r.returncode != 0
    assert "bound to an actor" in r.stderr
    r = trygg("keys", "create", "--role", "wizard", env=cli_env, check=False)
    assert r.returncode != 0
    r = trygg("keys", "revoke", "k_nope", env=cli_env, check=False)
    assert r.returncode != 0
    assert "no key" in r.stderr


def test_a_bad_database_url_is_a_clear_error(tmp_path):
    r = trygg("keys", "list", env={"TRYGG_DATABASE_URL": "mysql://x"}, check=False)
    assert r.returncode == 2
    assert "unsupported database" in r.stderr


def test_demo_builds_a_database_and_prints_a_key_per_role(tmp_path):
    db = tmp_path / "demo.db"
    out = trygg("demo", "--db", str(db), "--days", "30", "--no-serve", env={}).stdout
    assert db.exists()
    for role in ["admin", "steering", "auditor", "partner"]:
        assert f"  {role}" in out
    tokens = [
        line.split()[-1]
        for line in out.splitlines()
        if line.strip().startswith(("admin", "partner"))
    ]
    assert all(t.startswith("tl_") for t in tokens)


def test_demo_is_deterministic_by_seed(tmp_path):
    def stations_and_counts(path):
        out = trygg("demo", "--db", str(path), "--days", "20", "--no-serve", env={}).stdout
        return out.split("Demo ready")[1].split("\n")[0].split(":", 1)[1]

    assert stations_and_counts(tmp_path / "a.db") == stations_and_counts(tmp_path / "b.db")


CSV = """external_id,kind,station,zone,started_at,ended_at,staff_count,note,details
vt-c1,security_host_shift,lerum,platform,2021-10-01T16:00:00+02:00,2021-10-01T22:00:00+02:00,2,,
vt-c2,cleaning_round,herrljunga,,2021-10-02T06:00:00+02:00,2021-10-02T08:00:00+02:00,1,Klotter sanerat,"{""litter_bags"": 3}"
"""


def test_import_csv_stores_every_row_once(registry, cli_env, tmp_path):
    path = tmp_path / "aktiviteter.csv"
    path.write_text(CSV, encoding="utf-8")
    first = trygg("import", str(path), "--actor", "vasttrafik", env=cli_env)
    assert "Imported 2 new" in first.stdout
    again = trygg("import", str(path), "--actor", "vasttrafik", env=cli_env)
    assert "Imported 0 new activity rows; 2 were already stored" in again.stdout
    stored = [
        n
        for n in registry.ledger.recorder.select_notifications(start=1, limit=100)
        if n.topic.endswith("Activity.Recorded")
    ]
    assert len(stored) == 2


def test_import_csv_with_a_bad_row_names_it_and_stores_nothing(registry, cli_env, tmp_path):
    bad = (
        CSV
        + "vt-c3,security_host_shift,goteborg,,2021-10-03T16:00:00+02:00,,2,ring 070-123 45 67,\n"
    )
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    r = trygg("import", str(path), "--actor", "vasttrafik", env=cli_env, check=False)
    assert r.returncode == 1
    assert "row 4: note" in r.stderr
    assert "nothing was stored" in r.stderr
    r = trygg(
        "import", str(path.with_name("bad2.csv")), "--actor", "vasttrafik", env=cli_env, check=False
    )
    assert r.returncode != 0
    path.write_text(CSV.replace("2021-10-01T22", "2021-10-01T12"), encoding="utf-8")
    r = trygg("import", str(path), "--actor", "vasttrafik", env=cli_env, check=False)
    assert "row 2: ended_at" in r.stderr
    assert [
        n
        for n in registry.ledger.recorder.select_notifications(start=1, limit=100)
        if "Activity" in n.topic
    ] == []


def test_import_csv_cells_pass_the_same_door(registry, cli_env, tmp_path):
    """Issue #10: control and bidi characters in CSV cells are refused by row and field."""
    bad = CSV + "vt-c3,security_host_shift,lerum,,2021-10-03T16:00:00+02:00,,2,lugnt\x0bkväll,\n"
    bad += "vt-c4,security_host_shift,lerum,,2021-10-04T16:00:00+02:00,,2,\u202eevalp,\n"
    path = tmp_path / "controls.csv"
    path.write_text(bad, encoding="utf-8")
    r = trygg("import", str(path), "--actor", "vasttrafik", env=cli_env, check=False)
    assert r.returncode == 1
    assert "row 4: note" in r.stderr
    assert "row 5: note" in r.stderr
    assert "nothing was stored" in r.stderr


def test_import_csv_sends_batches_the_ledger_takes(registry, cli_env, tmp_path):
    """The import is sized by TRYGG_MAX_BATCH_ITEMS, not a fixed 1,000 rows."""
    rows = "".join(
        f"vt-b{n},security_host_shift,lerum,,2021-10-{n + 1:02d}T16:00:00+02:00,,2,,\n"
        for n in range(5)
    )
    path = tmp_path / "five.csv"
    path.write_text(CSV.splitlines(keepends=True)[0] + rows, encoding="utf-8")
    env = {**cli_env, "TRYGG_MAX_BATCH_ITEMS": "2"}
    done = trygg("import", str(path), "--actor", "vasttrafik", env=env)
    assert "Imported 5 new activity rows; 0 were already stored" in done.stdout


def test_witness_keygen_prints_the_verifier_key_last_and_never_overwrites(tmp_path):
    from ledger.audit.cosignature import Cosigner, parse_witness_key

    key = tmp_path / "w.key"
    r = trygg("witness", "keygen", "--name", "witness.example/trygg", "--out", str(key), env={})
    vkey = r.stdout.strip().splitlines()[-1]
    assert parse_witness_key(vkey).name == "witness.example/trygg"
    assert Cosigner.from_key_file(key).verifier_key == vkey
    again = trygg("witness", "keygen", "--name", "x", "--out", str(key), env={}, check=False)
    assert again.returncode == 2
    assert "never overwritten" in again.stderr
    bad = trygg(
        "witness",
        "keygen",
        "--name",
        "has space",
        "--out",
        str(tmp_path / "b"),
        env={},
        check=False,
    )
    assert bad.returncode == 2


def test_witness_serve_refuses_a_bad_key_or_log_key_clearly(tmp_path):
    key = tmp_path / "w.key"
    key.write_text("not a key\n")
    r = trygg(
        "witness",
        "serve",
        "--key",
        str(key),
        "--log",
        "x+1+AA",
        "--state",
        str(tmp_path / "s.db"),
        env={},
        check=False,
    )
    assert r.returncode == 2
    assert "--key" in r.stderr


def test_verify_with_a_quorum_fails_on_an_unwitnessed_ledger(registry, cli_env, tmp_path):
    from ledger.audit.cosignature import Cosigner

    registry.audit.issue_checkpoint()
    stranger = Cosigner.generate("witness.example/trygg").verifier_key
    assert trygg("public-key", env=cli_env).stdout.strip() == registry.audit.signer.verifier_key
    r = trygg("verify", "--witness", stranger, "--quorum", "1", env=cli_env, check=False)
    assert r.returncode == 1
    assert "no_quorum" in r.stderr
    r = trygg("verify", "--witness", stranger, "--quorum", "2", env=cli_env, check=False)
    assert r.returncode == 2  # a quorum larger than the keys given is a usage error
    r = trygg("verify", "--witness", "not-a-key", env=cli_env, check=False)
    assert r.returncode == 2


def test_postgresql_without_a_signing_key_file_is_a_clear_error(tmp_path):
    env = {"TRYGG_DATABASE_URL": "postgresql+psycopg://trygg@db.invalid:5432/trygg"}
    r = trygg("keys", "list", env=env, check=False)
    assert r.returncode == 2
    assert "TRYGG_SIGNING_KEY_FILE must be set" in r.stderr

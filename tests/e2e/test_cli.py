"""The ``trygg`` command line, run as a user runs it."""

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
        r = httpx.get(f"{base}/v1/stations", headers=headers)
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

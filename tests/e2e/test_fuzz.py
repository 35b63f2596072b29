"""Fuzzing the live OpenAPI schema with schemathesis: no 5xx, no response that breaks the
schema it documents, for a partner key and an admin key, on SQLite and (when
``TRYGG_TEST_DATABASE_URL`` is set) PostgreSQL. Bounded for CI.

The apps are built at import (schemathesis needs the schema then; building touches no
database). The module fixture fills each database with demo data and starts the app's
lifespan (projection runner and sealer) before any case runs, and drops it afterwards.
"""

import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api.app import create_app
from api.demo import populate
from api.runtime import Runtime
from ledger.access import Role
from ledger.settings import Settings
from ledger.storage import pg_conninfo
from tests.conftest import PG_URL

WORKDIR = Path(tempfile.mkdtemp(prefix="trygg-fuzz-"))
COMMON = {
    "signing_key_file": WORKDIR / "key.pem",
    "rate_limit_per_second": 0,
    "read_wait_seconds": 0.2,
}
SQLITE = Settings(database_url=f"sqlite:///{WORKDIR / 'demo.db'}", **COMMON)
PG_SCHEMA = f"trygg_fuzz_{uuid.uuid4().hex[:10]}"
POSTGRES = Settings(database_url=PG_URL, database_schema=PG_SCHEMA, **COMMON) if PG_URL else None

APPS = {"sqlite": create_app(SQLITE)}
if POSTGRES is not None:
    APPS["postgres"] = create_app(POSTGRES)
sqlite_schema = schemathesis.openapi.from_asgi("/openapi.json", APPS["sqlite"])
TOKENS: dict[tuple[str, str], str] = {}
FUZZ = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))

# What the issue asks of every response: no 5xx, and nothing that breaks the documented
# schema (status codes, content types, headers, bodies). Business refusals of valid-looking
# input (a partner may not register stations; an unknown station) are correct 4xx answers.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def _prepare(backend: str, config: Settings) -> None:
    system = Runtime(config)
    try:
        populate(system, days=10)
        TOKENS[(backend, "partner")] = system.create_key(Role.partner, "vasttrafik", "fuzz")[1]
        TOKENS[(backend, "admin")] = system.create_key(Role.admin, None, "fuzz")[1]
    finally:
        system.close()


@pytest.fixture(scope="module", autouse=True)
def running_apps():
    clients = []
    _prepare("sqlite", SQLITE)
    if POSTGRES is not None:
        with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{PG_SCHEMA}"')
        _prepare("postgres", POSTGRES)
    try:
        for app in APPS.values():
            client = TestClient(app)
            client.__enter__()  # the lifespan: runtime, projections, sealer
            clients.append(client)
        yield
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        if POSTGRES is not None:
            with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{PG_SCHEMA}" CASCADE')
        shutil.rmtree(WORKDIR, ignore_errors=True)


def call(case, backend, role):
    if backend not in APPS:
        pytest.skip("TRYGG_TEST_DATABASE_URL is not set")
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKENS[(backend, role)]}"}
    case.call_and_validate(checks=CHECKS, app=APPS[backend])


@sqlite_schema.parametrize()
@FUZZ
def test_sqlite_as_a_partner(case):
    call(case, "sqlite", "partner")


@sqlite_schema.parametrize()
@FUZZ
def test_sqlite_as_an_admin(case):
    call(case, "sqlite", "admin")


@sqlite_schema.parametrize()
@FUZZ
@pytest.mark.postgres
def test_postgres_as_a_partner(case):
    call(case, "postgres", "partner")


@sqlite_schema.parametrize()
@FUZZ
@pytest.mark.postgres
def test_postgres_as_an_admin(case):
    call(case, "postgres", "admin")

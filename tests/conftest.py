"""Fixtures: one per real resource.

``settings`` is parametrised over SQLite (always) and PostgreSQL (when
``TRYGG_TEST_DATABASE_URL`` is set; CI sets it). Each PostgreSQL test gets a
fresh schema that is dropped afterwards; each SQLite test a fresh file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from ledger.access import SYSTEM, Role
from ledger.inputs import ActorIn, StationIn
from ledger.settings import Settings
from ledger.storage import pg_conninfo
from tests.witness_server import RunningWitness

PG_URL = os.environ.get("TRYGG_TEST_DATABASE_URL")
NO_PG = "TRYGG_TEST_DATABASE_URL is not set, so the PostgreSQL variant is skipped"


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards."""
    if not PG_URL:
        pytest.skip(NO_PG)
    schema = f"trygg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    key = tmp_path / "signing-key.pem"
    if request.param == "sqlite":
        return Settings(database_url=f"sqlite:///{tmp_path / 'trygg.db'}", signing_key_file=key)
    schema = request.getfixturevalue("pg_schema")
    return Settings(database_url=PG_URL, database_schema=schema, signing_key_file=key)


@pytest.fixture
def system(settings: Settings) -> Iterator[Runtime]:
    system = Runtime(settings)
    yield system
    system.close()


@pytest.fixture
def registry(system: Runtime) -> Runtime:
    """Two stations and three actors, registered as an administrator would."""
    return registered(system)


def registered(system: Runtime) -> Runtime:
    for code, name in [("lerum", "Lerum"), ("herrljunga", "Herrljunga")]:
        system.registry.register_station(SYSTEM, StationIn(code=code, name=name, municipality=name))
    for code, name, kind in [
        ("vasttrafik", "Västtrafik", "transit"),
        ("trafikverket", "Trafikverket", "infrastructure"),
        ("polisen-alingsas", "Polisen", "police"),
    ]:
        system.registry.register_actor(
            SYSTEM, ActorIn.model_validate({"code": code, "name": name, "kind": kind})
        )
    return system


@pytest.fixture
def witnesses(settings: Settings, tmp_path) -> Iterator[list[RunningWitness]]:
    """Two real witnesses (HTTP on local ports, SQLite state) that know this ledger's key."""
    first = Runtime(settings)  # fixes the log's origin and key, as a deployment's first start
    vkey = first.audit.signer.verifier_key
    first.close()
    running = [
        RunningWitness(f"witness{n}.example/trygg", [vkey], tmp_path / f"witness{n}.db").start()
        for n in (1, 2)
    ]
    yield running
    for w in running:
        w.stop()


@pytest.fixture
def witnessed(settings: Settings, witnesses: list[RunningWitness]) -> Iterator[Runtime]:
    """The ledger with TRYGG_WITNESSES naming both witnesses, stations and actors registered."""
    entries = ", ".join(w.config_entry for w in witnesses)
    system = Runtime(settings.model_copy(update={"witnesses": entries}))
    yield registered(system)
    system.close()


@dataclass(frozen=True)
class Keys:
    admin: str
    steering: str
    auditor: str
    partner: str  # vasttrafik
    other_partner: str  # trafikverket

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def keys(registry: Runtime) -> Keys:
    def make(role: Role, actor: str | None = None) -> str:
        return registry.create_key(role, actor, None)[1]

    return Keys(
        admin=make(Role.admin),
        steering=make(Role.steering),
        auditor=make(Role.auditor),
        partner=make(Role.partner, "vasttrafik"),
        other_partner=make(Role.partner, "trafikverket"),
    )


@pytest.fixture
def client(registry: Runtime, keys: Keys) -> Iterator[TestClient]:
    app = create_app(registry.settings, runtime=registry)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # Figures a test measured (record_property), e.g. the screening corpus's recall.
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            terminalreporter.write_line(f"{name}: {value}")
    if not PG_URL:
        terminalreporter.write_line(
            f"PostgreSQL variants skipped: {NO_PG} "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)",
            yellow=True,
        )

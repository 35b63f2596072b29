"""An origin names exactly one log (C2SP tlog-checkpoint): each ledger gets its own, keeps
it for life, and a PostgreSQL ledger never signs with a key it made up on the spot."""

import re

import pytest
from sqlalchemy import delete

from api.runtime import Runtime
from ledger.audit.store import log_identity
from ledger.settings import ConfigurationError, Settings
from ledger.storage import Database


def test_each_fresh_ledger_gets_its_own_origin_and_keeps_it(tmp_path):
    def settings(name: str) -> Settings:
        return Settings(
            database_url=f"sqlite:///{tmp_path / name}.db",
            signing_key_file=tmp_path / f"{name}.pem",
        )

    one, two = Runtime(settings("one")), Runtime(settings("two"))
    origins = one.audit.origin, two.audit.origin
    one.close()
    two.close()
    assert all(re.fullmatch(r"trygg-ledger/[0-9a-f]{16}", o) for o in origins)
    assert origins[0] != origins[1]
    again = Runtime(settings("one"))
    assert again.audit.origin == origins[0]
    assert again.audit.signer.verifier_key.startswith(origins[0] + "+")
    again.close()


def test_a_chosen_origin_is_fixed_at_creation_and_a_different_one_later_is_refused(settings):
    chosen = settings.model_copy(update={"log_origin": "ledger.example.se/trygg"})
    first = Runtime(chosen)
    assert first.audit.origin == "ledger.example.se/trygg"
    first.close()
    Runtime(settings).close()  # unset later: the stored origin stands
    with pytest.raises(ConfigurationError, match="names one log"):
        Runtime(settings.model_copy(update={"log_origin": "another.example/trygg"}))


def test_a_log_signed_before_origins_were_stored_keeps_the_origin_it_signed_with(registry):
    registry.audit.issue_checkpoint()
    origin = registry.audit.origin
    with registry.engine.begin() as conn:
        conn.execute(delete(log_identity))  # as a ledger from before this table existed
    reopened = Runtime(registry.settings)
    assert reopened.audit.origin == origin
    reopened.close()


def test_postgresql_needs_an_explicit_signing_key():
    database = Database.from_settings(
        Settings(database_url="postgresql+psycopg://trygg@db.example:5432/trygg")
    )
    with pytest.raises(ConfigurationError, match="TRYGG_SIGNING_KEY_FILE must be set"):
        database.default_signing_key_file()

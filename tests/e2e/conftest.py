import pytest

from ledger.settings import Settings


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for the CLI and a live server, on the test's database."""
    env = {"TRYGG_DATABASE_URL": settings.database_url}
    if settings.signing_key_file:
        env["TRYGG_SIGNING_KEY_FILE"] = str(settings.signing_key_file)
    if settings.database_schema:
        env["TRYGG_DATABASE_SCHEMA"] = settings.database_schema
    return env

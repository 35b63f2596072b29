"""A short run of the load test (benchmarks/load_test.py) so it cannot rot: mixed writes,
retries, corrections and reads against a real server, then its own checks (zero 5xx,
every acknowledged event once, views equal a rebuild, verify passes)."""

import pytest

from benchmarks import load_test
from tests.conftest import PG_URL


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_short_load_run_passes_its_checks(backend, monkeypatch):
    if backend == "postgres" and not PG_URL:
        pytest.skip("TRYGG_TEST_DATABASE_URL is not set")
    if PG_URL:
        monkeypatch.setattr(load_test, "PG_URL", PG_URL)
    assert load_test.main(["--db", backend, "--seconds", "5"]) == 0

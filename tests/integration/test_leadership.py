"""One jobs leader per database: the lock every API process campaigns for."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from api.runtime import Runtime
from ledger.leadership import AdvisoryLock
from ledger.settings import Settings
from ledger.storage import pg_conninfo
from tests.conftest import PG_URL


def test_one_holder_at_a_time_and_the_next_takes_over(settings: Settings) -> None:
    first, second = Runtime(settings), Runtime(settings)
    try:
        a = first.database.jobs_lock(first.engine)
        b = second.database.jobs_lock(second.engine)
        assert a.acquire() is True
        assert a.held() is True
        assert b.acquire() is False
        a.release()
        assert b.acquire() is True
        assert a.acquire() is False
        b.release()
    finally:
        first.close()
        second.close()


def _advisory_holders(key: int) -> list[int]:
    """Backends holding the advisory lock ``key`` (a bigint key is classid:objid)."""
    assert PG_URL
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = %s AND objid::bigint = %s",
            (unsigned >> 32, unsigned & 0xFFFFFFFF),
        ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.postgres
def test_a_leader_whose_lock_session_drops_steps_down(settings: Settings) -> None:
    if not PG_URL or settings.database_url.startswith("sqlite"):
        pytest.skip("a session advisory lock is PostgreSQL's")
    runtime = Runtime(settings)
    stopping = threading.Event()
    leader = threading.Thread(
        target=runtime.lead_jobs,
        args=(stopping,),
        kwargs={"poll_seconds": 0.1, "check_seconds": 0.3},
        daemon=True,
    )
    leader.start()
    try:
        deadline = time.monotonic() + 20
        while not runtime.leading.is_set():
            assert time.monotonic() < deadline, "never led"
            time.sleep(0.05)
        lock = runtime.database.jobs_lock(runtime.engine)
        assert isinstance(lock, AdvisoryLock)
        key = lock.key
        (holder,) = _advisory_holders(key)
        with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (holder,))
        # It notices, steps down, campaigns again and leads on a new session.
        deadline = time.monotonic() + 30
        while True:
            holders = _advisory_holders(key)
            if holders and holders != [holder] and runtime.leading.is_set():
                break
            assert time.monotonic() < deadline, f"no new leader session: {holders}"
            time.sleep(0.1)
    finally:
        stopping.set()
        leader.join(30)
        runtime.close()

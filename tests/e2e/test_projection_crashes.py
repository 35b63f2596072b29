"""Kill the projection runner between events and inside transactions: after a
restart the views hold every event exactly once."""

import os
import random
import signal
import subprocess
import sys
import time

from ledger.access import Principal, Role
from ledger.entry_service import ACTIVITY
from ledger.inputs import ActivityIn, CorrectionIn, RetractionIn
from projections.runner import ProjectionRunner
from tests import reference

HOSTS = Principal("k", Role.partner, "vasttrafik")


def seed(system, n=1200):
    items = [
        ActivityIn.model_validate(
            {
                "external_id": f"s{i}",
                "kind": "security_host_shift",
                "station": "lerum" if i % 3 else "herrljunga",
                "started_at": f"2021-{9 + i % 3:02d}-{1 + i % 28:02d}T16:00:00+02:00",
                "ended_at": f"2021-{9 + i % 3:02d}-{1 + i % 28:02d}T{17 + i % 5}:00:00+02:00",
                "staff_count": 1 + i % 3,
            }
        )
        for i in range(n)
    ]
    receipts = []
    for start in range(0, n, 400):
        receipts += system.entries.record_entries(
            ACTIVITY, HOSTS, items[start : start + 400]
        ).results
    for r in receipts[::50]:
        system.entries.correct_entry(
            ACTIVITY,
            HOSTS,
            r.receipt.id,
            CorrectionIn(changes={"staff_count": 7}, reason="recount", expected_version=1),
        )
    for r in receipts[25::100]:
        system.entries.retract_entry(
            ACTIVITY, HOSTS, r.receipt.id, RetractionIn(reason="duplicate", expected_version=1)
        )


def runner_process(cli_env, **extra):
    env = {**os.environ, **cli_env, "TRYGG_PROJECTION_PAGE_SIZE": "50", **extra}
    return subprocess.Popen(
        [sys.executable, "-m", "api", "project", "--poll", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def activity_position(system) -> int:
    return {
        s.name: s.position for s in ProjectionRunner(system.ledger.recorder, system.engine).status()
    }["activities"]


def test_kills_inside_transactions_and_between_pages_lose_and_double_nothing(registry, cli_env):
    seed(registry)
    head = registry.ledger.last_position()

    # Inside a transaction: exit after applying the 3rd page, before its commit.
    proc = runner_process(cli_env, TRYGG_FAILPOINT="projection.before_commit:3")
    assert proc.wait(60) == 137
    after_crash = activity_position(registry)
    assert 0 < after_crash < head

    # Between events, at random moments: SIGKILL a running runner several times.
    rng = random.Random(7)
    for _ in range(5):
        proc = runner_process(cli_env)
        time.sleep(rng.uniform(0.3, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    # Restart and let it finish.
    proc = runner_process(cli_env)
    try:
        deadline = time.monotonic() + 60
        while activity_position(registry) < head and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

    runner = ProjectionRunner(registry.ledger.recorder, registry.engine)
    assert activity_position(registry) == head
    tables = runner.live_tables("activities")
    rows = reference.table_rows(
        runner.engine,
        tables.daily,
        ["station", "day", "actor", "kind"],
        ["entries", "minutes", "staff_minutes"],
    )
    assert rows == reference.activity_daily(registry.ledger)
    assert sum(v[0] for v in rows.values()) == 1200 - 12  # 12 retracted

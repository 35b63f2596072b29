"""The OpenAPI contract as a partner meets it: a client generated with
``openapi-python-client`` from ``/openapi.json``, used against a real server for a
partner's post and its retry, a steering group's read and an auditor's log."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from tests.e2e.live import free_port, server_process
from tests.factories import activity

CONFIG = (
    "content_type_overrides:\n"
    "  application/x-ndjson: application/octet-stream\n"
    "  text/csv: application/octet-stream\n"
)


@pytest.fixture
def generated(client, tmp_path) -> str:
    """A typed client package generated from the live OpenAPI document; its module name."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(client.get("/openapi.json").json()))
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "trygg_client"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(out),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(tmp_path))
    yield "trygg_client"
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == "trygg_client" or m.startswith("trygg_client.")]:
        del sys.modules[name]


def test_a_generated_client_posts_retries_and_reads_typed_answers(
    generated, keys, cli_env, registry
):
    pkg = importlib.import_module(generated)
    models = importlib.import_module(f"{generated}.models")
    record = importlib.import_module(f"{generated}.api.activities.record_activity")
    record_batch = importlib.import_module(f"{generated}.api.activities.record_activities")
    summary = importlib.import_module(f"{generated}.api.views.station_summary")
    audit_log = importlib.import_module(f"{generated}.api.audit.audit_log")
    with server_process(cli_env, free_port()) as (base, _proc):
        partner = pkg.AuthenticatedClient(base_url=base, token=keys.partner)
        body = models.ActivityIn.from_dict(activity(1, note="Lugnt på perrongen"))
        first = record.sync_detailed(client=partner, body=body)
        assert first.status_code == 201
        assert isinstance(first.parsed, models.Receipt)
        assert first.parsed.created is True
        retry = record.sync_detailed(client=partner, body=body)
        assert retry.status_code == 200  # the retry's receipt is documented and parsed
        assert isinstance(retry.parsed, models.Receipt)
        assert (retry.parsed.id, retry.parsed.created) == (first.parsed.id, False)
        conflict = record.sync_detailed(
            client=partner, body=models.ActivityIn.from_dict(activity(1, staff_count=9))
        )
        assert conflict.status_code == 409
        assert isinstance(conflict.parsed, models.ErrorOut)
        assert conflict.parsed.code == "external_id_conflict"

        # The batch body is read as bytes by the server and declared by hand: the client
        # still gets a typed body to fill and a typed receipt back.
        items = [body, *(models.ActivityIn.from_dict(activity(n)) for n in (2, 3))]
        batch = record_batch.sync_detailed(client=partner, body=models.ActivityBatchIn(items))
        assert batch.status_code == 201
        assert isinstance(batch.parsed, models.BatchReceipt)
        assert (batch.parsed.created, batch.parsed.duplicates) == (2, 1)
        refused = record_batch.sync_detailed(
            client=partner,
            body=models.ActivityBatchIn([models.ActivityIn.from_dict(activity(4, staff_count=-1))]),
        )
        assert refused.status_code == 422
        assert refused.parsed.errors[0].field == "items.0.staff_count"

        steering = pkg.AuthenticatedClient(base_url=base, token=keys.steering)
        read = summary.sync(
            client=steering,
            code="lerum",
            group=models.StationSummaryGroup.DAY,
            min_position=max(r.position for r in batch.parsed.results),
        )
        assert isinstance(read, models.Summary)
        assert [(r.actor, r.activities) for r in read.rows] == [("vasttrafik", 3)]
        assert isinstance(read.rows[0], models.SummaryRow)

        auditor = pkg.AuthenticatedClient(base_url=base, token=keys.auditor)
        log = audit_log.sync_detailed(client=auditor)
        assert log.status_code == 200
        lines = [json.loads(line) for line in log.content.decode().splitlines()]
        assert all("leaf_hash" in line for line in lines)


def test_the_contract_names_operations_and_only_the_errors_each_route_can_give(client):
    spec = client.get("/openapi.json").json()
    operations = {
        op["operationId"]: (method, path, set(op["responses"]))
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    }
    assert {"recordActivity", "stationSummary", "promiseProgress", "auditLog"} <= set(operations)
    assert all("_v1_" not in name for name in operations)  # not the framework's ids
    assert "413" not in operations["stationSummary"][2]  # a read has no body
    assert "409" in operations["stationSummary"][2]  # an as_of before the history kept
    assert "409" not in operations["listStations"][2]
    assert "404" not in operations["listStations"][2]
    assert {"200", "201", "409", "413"} <= operations["recordActivity"][2]
    ok = spec["paths"]["/v1/activities"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/Receipt")
    log = spec["paths"]["/v1/audit/log"]["get"]["responses"]["200"]["content"]
    assert list(log) == ["application/x-ndjson"]

"""Prometheus metrics at ``/metrics`` (text exposition format, no client library needed).

Request counts and durations by route template (never by raw path, so an attacker
cannot blow up the label set), plus the ledger's own health: log head, each
projection's position and lag, the sealer's lag and the latest checkpoint.
Nothing here is personal or per-entry; scrape it from the internal network.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count: dict[tuple[str, str, str], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.observed: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.count[(method, route, str(status))] += 1
            self.seconds[(method, route)] += seconds
            self.observed[(method, route)] += 1


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)


router = APIRouter(include_in_schema=False)


def _label(value: str) -> str:
    return value.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"').replace("\\n", " ")


@router.get("/metrics")
def metrics(request: Request) -> PlainTextResponse:
    runtime = request.app.state.runtime
    req: RequestMetrics = request.app.state.request_metrics
    lines = [
        "# HELP trygg_http_requests_total HTTP requests by method, route and status.",
        "# TYPE trygg_http_requests_total counter",
    ]
    with req._lock:
        counts = dict(req.count)
        seconds = dict(req.seconds)
        observed = dict(req.observed)
    for (method, route, status), n in sorted(counts.items()):
        lines.append(
            f'trygg_http_requests_total{{method="{method}",route="{_label(route)}",status="{status}"}} {n}'
        )
    lines += [
        "# HELP trygg_http_request_duration_seconds Time spent answering, by route.",
        "# TYPE trygg_http_request_duration_seconds summary",
    ]
    for (method, route), total in sorted(seconds.items()):
        labels = f'method="{method}",route="{_label(route)}"'
        lines.append(f"trygg_http_request_duration_seconds_sum{{{labels}}} {total:.6f}")
        lines.append(
            f"trygg_http_request_duration_seconds_count{{{labels}}} {observed[(method, route)]}"
        )
    head = runtime.ledger.last_position()
    lines += [
        "# HELP trygg_log_head_position The newest position in the ledger's log.",
        "# TYPE trygg_log_head_position gauge",
        f"trygg_log_head_position {head}",
        "# HELP trygg_projection_lag Positions between the log head and a projection.",
        "# TYPE trygg_projection_lag gauge",
    ]
    status = runtime.runner.status()
    for s in status:
        if s.state == "live":
            lines.append(f'trygg_projection_lag{{projection="{s.name}"}} {s.lag}')
    lines += [
        "# HELP trygg_projection_failed 1 while a projection is stopped at a failing event.",
        "# TYPE trygg_projection_failed gauge",
    ]
    for s in status:
        if s.state == "live":
            lines.append(
                f'trygg_projection_failed{{projection="{s.name}"}} {1 if s.last_error else 0}'
            )
    lines += [
        "# HELP trygg_projection_parked Events a projection could not apply and parked "
        "(see `trygg projections retry`).",
        "# TYPE trygg_projection_parked gauge",
    ]
    for s in status:
        if s.state == "live":
            lines.append(f'trygg_projection_parked{{projection="{s.name}"}} {s.parked_count}')
    position, size = runtime.audit.sealer.state()
    latest = runtime.audit.latest_checkpoint()
    lines += [
        "# HELP trygg_sealed_tree_size Leaves in the Merkle tree.",
        "# TYPE trygg_sealed_tree_size gauge",
        f"trygg_sealed_tree_size {size}",
        "# HELP trygg_seal_lag Positions between the log head and the last sealed event.",
        "# TYPE trygg_seal_lag gauge",
        f"trygg_seal_lag {max(0, head - position)}",
        "# HELP trygg_checkpoint_tree_size Tree size of the latest signed checkpoint.",
        "# TYPE trygg_checkpoint_tree_size gauge",
        f"trygg_checkpoint_tree_size {latest['tree_size'] if latest else 0}",
        "# HELP trygg_jobs_leader 1 if this API process runs the background jobs.",
        "# TYPE trygg_jobs_leader gauge",
        f"trygg_jobs_leader {1 if runtime.leading.is_set() else 0}",
    ]
    grouped = runtime.entries.group.stats
    lines += [
        "# HELP trygg_group_commit_transactions_total Transactions that stored single entries.",
        "# TYPE trygg_group_commit_transactions_total counter",
        f"trygg_group_commit_transactions_total {grouped.transactions}",
        "# HELP trygg_group_commit_writes_total Single entries stored through group commit.",
        "# TYPE trygg_group_commit_writes_total counter",
        f"trygg_group_commit_writes_total {grouped.writes}",
        "# HELP trygg_group_commit_split_total Groups retried write by write after a failure.",
        "# TYPE trygg_group_commit_split_total counter",
        f"trygg_group_commit_split_total {grouped.split}",
    ]
    witnessing = runtime.audit.witnesses.status(latest)
    lines += [
        "# HELP trygg_witnesses_configured Witnesses in TRYGG_WITNESSES.",
        "# TYPE trygg_witnesses_configured gauge",
        f"trygg_witnesses_configured {witnessing['configured']}",
        "# HELP trygg_checkpoint_witnessed Witnesses that cosigned the latest checkpoint.",
        "# TYPE trygg_checkpoint_witnessed gauge",
        f"trygg_checkpoint_witnessed {witnessing['witnessed']}",
        "# HELP trygg_witness_cosigned_size Tree size each witness last cosigned.",
        "# TYPE trygg_witness_cosigned_size gauge",
    ]
    for w in witnessing["witnesses"]:
        name = w["name"].replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'trygg_witness_cosigned_size{{witness="{name}"}} {w["cosigned_size"] or 0}')
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

"""The body cap as ASGI middleware: by Content-Length up front, or by counting a stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from api.limits import BodySizeLimit

CAP = 1024


async def echo_length(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, bytes]:
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(BodySizeLimit(echo_length, max_bytes=CAP)(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_body_within_its_declared_length_passes():
    status, body = call([(b"content-length", b"1000")], [b"x" * 1000])
    assert (status, body) == (200, b"1000")


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    status, body = call([(b"content-length", b"1025")], [b"x" * 1025])
    assert status == 413
    assert json.loads(body)["code"] == "body_too_large"


def test_a_stream_without_length_is_counted_and_refused_once_over_the_cap():
    status, body = call([(b"transfer-encoding", b"chunked")], [b"x" * 600, b"x" * 600])
    assert status == 413
    assert json.loads(body)["code"] == "body_too_large"


def test_a_stream_without_length_under_the_cap_passes():
    status, body = call([(b"transfer-encoding", b"chunked")], [b"x" * 500, b"x" * 500])
    assert (status, body) == (200, b"1000")


def test_the_rate_limiter_forgets_buckets_instead_of_growing_without_bound(monkeypatch):
    """Ideas come from ever new addresses: the table of buckets stays bounded."""
    from api.limits import RateLimiter

    limiter = RateLimiter(rate=10 / 3600, burst=10)
    monkeypatch.setattr(RateLimiter, "MAX_BUCKETS", 100)
    for n in range(1000):
        limiter.hit(f"address-{n}")
    assert len(limiter._buckets) <= 100

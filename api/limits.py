"""The request gate: what every request passes before a route reads it.

Three small ASGI middlewares, outermost first:

* ``UrlHygiene`` refuses a path or query string holding control, bidi or unpaired
  surrogate characters (``422 invalid_input`` naming the parameter), so that no such
  text reaches a query, a log line or a page;
* ``AuthGate`` authenticates every ``/v1/`` request (except the public ones) from its
  ``Authorization`` header *before* the body is read or parsed: a bad key gets ``401``
  whatever the body holds, and the rate limit applies per key;
* ``BodySizeLimit`` reads the whole body first, refusing it with ``413`` once it passes
  the cap (by Content-Length up front, or while counting a chunked stream) and with
  ``408`` if it does not arrive within the read timeout; the route then reads it from
  memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyTimeout, BodyTooLarge, RateLimited, classify
from ledger.cleaning import clean_text
from ledger.errors import InvalidInput, Unauthenticated

#: Paths under /v1/ that anyone may call without a key.
PUBLIC_PREFIXES = ("/v1/public/",)
#: The resident's HTML form: posted without a key, capped like the public API.
PUBLIC_FORMS = frozenset({"/ideas"})


class RateLimiter:
    """A token bucket per API key: ``rate`` requests a second, bursts up to ``burst``.

    Per process: with several API processes the effective limit is their sum, which is
    fine for its purpose (one partner system misbehaving must not starve the others).
    A rate of 0 turns it off.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    #: Buckets kept before the full ones are dropped (a full bucket is the same as none),
    #: so that clients from ever new addresses cannot grow the table without bound.
    MAX_BUCKETS = 100_000

    def hit(self, key: str) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= self.MAX_BUCKETS:
                self._prune(now)
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited((1.0 - tokens) / self.rate)
            self._buckets[key] = (tokens - 1.0, now)

    def _prune(self, now: float) -> None:
        refill = self.burst / self.rate  # seconds for an empty bucket to fill up
        self._buckets = {
            k: (tokens, last) for k, (tokens, last) in self._buckets.items() if now - last < refill
        }
        if len(self._buckets) >= self.MAX_BUCKETS:  # a flood within one refill period
            oldest = sorted(self._buckets.items(), key=lambda kv: kv[1][1])
            self._buckets = dict(oldest[len(oldest) // 2 :])


class AddressThrottle:
    """Ideas per client address and hour (a token bucket, ``per_hour`` 0 = off).

    The address is only ever held as a keyed hash in this process's memory (the key is
    random per process), never stored or logged: residents send ideas without being
    recorded. Behind a reverse proxy, run uvicorn with ``--proxy-headers`` so that the
    client's address is the one counted."""

    def __init__(self, per_hour: int) -> None:
        self.limiter = RateLimiter(per_hour / 3600.0, max(per_hour, 1))
        self._key = secrets.token_bytes(32)

    def hit(self, request: Any) -> None:
        host = request.client.host if request.client else "unknown"
        digest = hmac.new(self._key, host.encode(), hashlib.sha256).hexdigest()
        self.limiter.hit(digest)


async def _answer(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    await classify(exc).json()(scope, receive, send)


class UrlHygiene:
    """Refuse URLs whose decoded path or query holds characters no text may hold."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self._problem(scope)
            if problem is not None:
                await _answer(scope, receive, send, problem)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _problem(scope: Scope) -> InvalidInput | None:
        _, why = clean_text(scope.get("path", ""), multiline=False)
        if why is not None:
            return InvalidInput.one("path", why)
        raw = scope.get("query_string", b"")
        if not raw:
            return None
        try:
            pairs = parse_qsl(raw.decode(), keep_blank_values=True, errors="strict")
        except (UnicodeError, ValueError):
            return InvalidInput.one("query", "is not valid UTF-8 once percent-decoded")
        for name, value in pairs:
            for text in (name, value):
                _, why = clean_text(text, multiline=False)
                if why is not None:
                    return InvalidInput.one(name if text is value else "query", why)
        return None


class AuthGate:
    """Authenticate ``/v1/`` requests before anything reads their body.

    The principal goes into the request's state (``request.state.principal``), where the
    ``Caller`` dependency finds it."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: the system and the rate limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith("/v1/")
            or path.startswith(PUBLIC_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._authenticate(scope)
        except Exception as exc:  # answered as the API answers it: 401, 429, 503…
            await _answer(scope, receive, send, exc)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> Any:
        token = _bearer(scope)
        if token is None:
            raise Unauthenticated("send an API key: Authorization: Bearer <token>")
        keys = self.state.runtime.keys
        principal = keys.cached(token)
        if principal is None:
            principal = await run_in_threadpool(keys.authenticate, token)
        if principal is None:
            raise Unauthenticated("unknown or revoked API key")
        self.state.rate_limiter.hit(principal.key_id)
        return principal


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                return token
            return None
    return None


class BodySizeLimit:
    """Read the body whole before the app sees it: ``413`` over ``max_bytes`` (by
    Content-Length up front, or while counting a stream), ``408`` when it takes longer
    than ``read_timeout`` seconds to arrive."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        read_timeout: float = 30.0,
        public_max_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout
        # What anyone may send without a key (an idea) is small: a tighter cap there.
        self.public_max_bytes = public_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.startswith(PUBLIC_PREFIXES) or path in PUBLIC_FORMS:
            await self._limited(scope, receive, send, self.public_max_bytes)
            return
        await self._limited(scope, receive, send, self.max_bytes)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if length is None and not chunked:
            await self.app(scope, receive, send)  # no body
            return
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = 0
            if declared > max_bytes:
                await _answer(scope, receive, send, BodyTooLarge(max_bytes))
                return
            if declared == 0 and not chunked:
                await self.app(scope, receive, send)
                return
        try:
            # A deadline on this task, not ``wait_for``'s extra task per request.
            async with asyncio.timeout(self.read_timeout):
                body, tail = await self._read(receive, max_bytes)
        except BodyTooLarge as exc:
            await _answer(scope, receive, send, exc)
            return
        except TimeoutError:
            await _answer(scope, receive, send, BodyTimeout(self.read_timeout))
            return
        if tail is not None:  # the client went away while sending
            await self.app(scope, _replay([tail], receive), send)
            return
        message: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([message], receive), send)

    async def _read(self, receive: Receive, max_bytes: int) -> tuple[bytes, Message | None]:
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"", message
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > max_bytes:
                raise BodyTooLarge(max_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then waits on the real one
    (which then only reports a disconnect)."""

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replay

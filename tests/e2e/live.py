"""A real ``trygg`` server in a subprocess, for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def trygg(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


@contextmanager
def running_server(env: dict[str, str], port: int | None = None) -> Iterator[str]:
    with server_process(env, port) as (base, _proc):
        yield base


@contextmanager
def server_process(
    env: dict[str, str], port: int | None = None, extra_args: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A ``trygg serve`` subprocess, ready to answer; yields its base URL and process."""
    port = port or free_port()
    # The server's output goes to a file, never an unread pipe: a full pipe blocks the
    # server's logging, and with it every request.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port), *extra_args],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"server did not start:\n{log.read()}")
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()

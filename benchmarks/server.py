"""A real ``uvicorn`` server (one worker) running ``api.app:create_app`` on a target database,
plus helpers to wait until its background work (projections, sealing) is idle, and to
profile a process with py-spy."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from benchmarks.env import Target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextmanager
def server(
    t: Target, workers: int = 1, app: str = "api.app:create_app", factory: bool = True, **env: str
) -> Iterator[Server]:
    """``uvicorn --factory api.app:create_app`` on 127.0.0.1, default settings unless
    ``env`` overrides them (e.g. ``TRYGG_EMBEDDED_PROJECTIONS="false"``).

    One exception: the per-key rate limit is off (``TRYGG_RATE_LIMIT_PER_SECOND=0``), since
    the benchmarks measure capacity with one key per role, not the limit's policy."""
    env = {"TRYGG_RATE_LIMIT_PER_SECOND": "0", **env}
    port = free_port()
    log_file = t.workdir / f"server-{port}.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                *(["--factory"] if factory else []),
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
                # For A/B runs of the HTTP stack, e.g. "--http h11 --loop asyncio".
                *os.environ.get("TRYGG_BENCH_UVICORN_ARGS", "").split(),
            ],
            env=t.env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"server did not start:\n{log_file.read_text(errors='replace')[-4000:]}"
                )
            time.sleep(0.1)
        yield Server(base, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def projector(t: Target) -> Iterator[subprocess.Popen[bytes]]:
    """``trygg project`` on ``t``: the projection runner and sealer in a process of their
    own, as in production beside API processes with ``TRYGG_EMBEDDED_PROJECTIONS=false``."""
    log_file = t.workdir / f"projector-{os.getpid()}-{time.monotonic_ns()}.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api", "project"],
            env=t.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def lag(engine: Engine, events_table: str, schema: str | None) -> tuple[int, int, int]:
    """(head, slowest live projection position, sealed position)."""
    table = f'"{schema}"."{events_table}"' if schema else events_table
    column = "rowid" if engine.dialect.name == "sqlite" else "notification_id"
    with engine.connect() as conn:
        head = conn.execute(text(f"SELECT max({column}) FROM {table}")).scalar() or 0
        projected = conn.execute(
            text(
                "SELECT min(t.position) FROM trygg_projection_tracking t "
                "JOIN trygg_projection_live l ON l.name = t.name AND l.generation = t.generation"
            )
        ).scalar()
        sealed = conn.execute(text("SELECT position FROM trygg_seal_state")).scalar()
    return int(head), int(projected or 0), int(sealed or 0)


def wait_idle(engine: Engine, events_table: str, schema: str | None, timeout: float = 900) -> float:
    """Wait until the server's projections and sealer have reached the head; returns seconds."""
    start = time.monotonic()
    while True:
        try:
            head, projected, sealed = lag(engine, events_table, schema)
        except Exception:  # tables not created yet
            head, projected, sealed = 1, 0, 0
        if projected >= head and sealed >= head:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"background work did not catch up: {head=} {projected=} {sealed=}")
        time.sleep(0.05)


# -- profiling -------------------------------------------------------------------------------


def have_py_spy() -> bool:
    return shutil.which("py-spy") is not None or (Path(sys.executable).parent / "py-spy").exists()


def py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else "py-spy"


@contextmanager
def profiling(pid: int, out: Path, rate: int = 200, *, gil: bool = True) -> Iterator[None]:
    """Record ``pid`` with py-spy (collapsed stacks, all threads, GIL-holding or not)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            py_spy(),
            "record",
            "-p",
            str(pid),
            "-r",
            str(rate),
            "-f",
            "raw",
            "--threads",
            "--nonblocking",
            *(["--gil"] if gil else []),
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    try:
        yield
    finally:
        proc.send_signal(2)  # SIGINT: py-spy writes the file and exits
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


IDLE_FRAMES = (
    "wait (threading.py",
    "select (selectors.py",
    "_worker (concurrent/futures/thread.py",
    "run_forever (asyncio/base_events.py",
)


def summarize_profile(path: Path, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    try:
        return _summarize(path, top)
    except Exception as e:  # a profile must never break a benchmark run
        print(f"warning: could not summarize {path}: {e!r}", flush=True)
        return {"self": [], "inclusive": [], "threads": []}


def _summarize(path: Path, top: int) -> dict[str, list[tuple[str, float]]]:
    """Top frames of a collapsed-stack profile: by self time and inclusive time, as shares
    of the busy samples (samples whose leaf is not an idle wait)."""
    empty: dict[str, list[tuple[str, float]]] = {"self": [], "inclusive": [], "threads": []}
    if not path.exists():
        return empty
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    busy = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if len(frames) < 2:
            continue
        leaf = frames[-1]
        if any(idle in leaf for idle in IDLE_FRAMES):
            continue
        busy += count
        self_counts[_short(leaf)] += count
        for name in {_short(f) for f in frames[1:] if not f.startswith("thread (")}:
            incl_counts[name] += count
        threads[_thread_of(frames)] += count
    if busy == 0:
        return empty

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, n / busy) for name, n in counter.most_common(top)]

    interesting = Counter({k: v for k, v in incl_counts.items() if _ours(k) and v / busy < 0.999})
    return {
        "self": share(self_counts),
        "inclusive": share(interesting),
        "threads": share(threads),
    }


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py:123)"; drop site-packages prefixes.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    where = re.sub(r":\d+$", "", where)  # one row per function, not per line
    return f"{name} ({where})" if where else name


def _ours(frame: str) -> bool:
    return any(f"({p}/" in frame for p in ("ledger", "projections", "api")) or any(
        f"({p}/" in frame for p in ("eventsourcing", "sqlalchemy", "pydantic", "fastapi")
    )


def _thread_of(frames: list[str]) -> str:
    head = frames[0]
    if head.startswith("thread ("):
        name = head.partition(":")[2].strip() or "unnamed thread"
        return {
            "MainThread": "main thread (in the server: the event loop)",
            "projections": "projection runner thread",
            "sealer": "sealer thread",
            "AnyIO worker thread": "request worker threads (endpoint bodies)",
        }.get(name, name)
    return "process"

"""Where a benchmark runs: a throw-away database, the machine, and small statistics helpers.

Every benchmark gets its own ``Target``: a fresh SQLite file in a temporary directory, or
a fresh PostgreSQL schema (``trygg_bench_<label>_<random>``) that is dropped afterwards.
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from ledger.settings import Settings
from ledger.storage import pg_conninfo

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


@dataclass
class Target:
    """One throw-away database: the ledger's settings, a raw DB-API connection, cleanup."""

    kind: str  # "sqlite" | "postgres"
    label: str
    workdir: Path
    url: str
    schema: str | None = None
    pg_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"

    @property
    def sqlite_path(self) -> Path:
        return Path(make_url(self.url).database or "")

    @property
    def signing_key_file(self) -> Path:
        return self.workdir / "signing-key.pem"

    @classmethod
    def from_env(cls) -> Target:
        """The target a child process was started on (see ``env``)."""
        url = os.environ["TRYGG_DATABASE_URL"]
        schema = os.environ.get("TRYGG_DATABASE_SCHEMA")
        workdir = Path(os.environ["TRYGG_SIGNING_KEY_FILE"]).parent
        if url.startswith("sqlite"):
            return cls("sqlite", "child", workdir, url)
        return cls("postgres", "child", workdir, url, schema=schema, pg_url=url)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": self.url,
            "database_schema": self.schema,
            "signing_key_file": self.signing_key_file,
        }
        values.update(overrides)
        return Settings(**values)

    def env(self, **overrides: str) -> dict[str, str]:
        """Environment for a server or child process on this database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGG_")}
        env.update(
            TRYGG_DATABASE_URL=self.url,
            TRYGG_SIGNING_KEY_FILE=str(self.signing_key_file),
            PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        )
        if self.schema:
            env["TRYGG_DATABASE_SCHEMA"] = self.schema
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def raw_connect(self) -> Any:
        """A plain DB-API connection in autocommit mode (transactions are explicit)."""
        if self.is_sqlite:
            # The same settings as the event store's own connections (eventsourcing.sqlite):
            # WAL journal, default (FULL) synchronous, autocommit with explicit BEGIN.
            conn = sqlite3.connect(self.sqlite_path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            return conn
        assert self.pg_url is not None
        conn = psycopg.connect(pg_conninfo(self.pg_url), autocommit=True)
        conn.execute(f'SET search_path TO "{self.schema}"')
        return conn

    def size_bytes(self) -> int:
        if self.is_sqlite:
            return sum(
                p.stat().st_size
                for p in self.workdir.glob(self.sqlite_path.name + "*")
                if p.is_file()
            )
        assert self.pg_url is not None
        with psycopg.connect(pg_conninfo(self.pg_url), autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                (self.schema,),
            ).fetchone()
        return int(row[0]) if row else 0


@contextmanager
def target(kind: str, label: str, *, pg_url: str = DEFAULT_PG_URL) -> Iterator[Target]:
    """A fresh database for one benchmark, removed afterwards whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix=f"trygg-bench-{label}-"))
    t: Target | None = None
    try:
        if kind == "sqlite":
            t = Target("sqlite", label, workdir, f"sqlite:///{workdir / 'bench.db'}")
        elif kind == "postgres":
            schema = f"trygg_bench_{label}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(pg_conninfo(pg_url), autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            t = Target("postgres", label, workdir, pg_url, schema=schema, pg_url=pg_url)
        else:
            raise ValueError(f"unknown database kind {kind!r}")
        yield t
    finally:
        if t is not None and t.schema:
            try:
                with psycopg.connect(pg_conninfo(pg_url), autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{t.schema}" CASCADE')
            except psycopg.Error as e:  # pragma: no cover - best effort
                log(f"warning: could not drop schema {t.schema}: {e}")
        shutil.rmtree(workdir, ignore_errors=True)


# -- statistics ------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


# -- the machine -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    commit = "unknown"
    dirty = ""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = " (work tree has uncommitted changes)" if changed else ""
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "unknown"
    pg = "-"
    return {
        "cpu": cpu,
        "cpu_probe": f"{cpu_probe():.2f} s",
        "cores": str(os.cpu_count() or "?"),
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": pg,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + dirty,
        "load": load,
    }


def cpu_probe() -> float:
    """CPU seconds for a fixed pure-Python loop (best of three): the same "2 cores" of this
    shared VM have measured 0.6 to 1.4 s on different days, and every absolute figure moves
    with it, which is why the report leans on ratios."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.process_time() - start)
    return best * 2  # per 10M iterations


def postgres_version(pg_url: str) -> str:
    try:
        with psycopg.connect(pg_conninfo(pg_url), autocommit=True, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"
    except psycopg.Error:
        return "unreachable"


@dataclass
class Config:
    """What to run and how long; ``quick`` shrinks everything to a smoke test."""

    quick: bool = False
    runs: int = 3
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    ingest_batches: int = 20
    single_seconds: float = 5.0
    single_clients: tuple[int, ...] = (1, 4, 16)
    read_requests: int = 300
    proofs: int = 200
    profile: bool = False
    profile_dir: Path = REPO / "benchmarks" / "profiles"
    pg_url: str = DEFAULT_PG_URL


def run_child(t: Target, command: str, profile_out: Path | None = None) -> dict[str, Any]:
    """Run ``python -m benchmarks.child COMMAND`` on ``t`` (optionally under py-spy)."""
    import json
    import sys

    argv = [sys.executable, "-m", "benchmarks.child", command]
    if profile_out is not None:
        from benchmarks.server import py_spy

        profile_out.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            py_spy(),
            "record",
            "-r",
            "200",
            "-f",
            "raw",
            "--threads",
            "--gil",
            "-o",
            str(profile_out),
            "--",
            *argv,
        ]
    done = subprocess.run(argv, env=t.env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {command} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    raise RuntimeError(f"child {command} printed no result:\n{done.stdout[-2000:]}")

"""The one composition root: every part of Trygg Ledger on one database, wired once.

The HTTP app, every CLI command, the tests and the benchmarks build a ``Runtime`` from
``Settings``; it owns the connections and closes them. Nothing else constructs the
parts. The background jobs (the projection runner and the sealer) run in
``run_jobs``, which ``trygg project`` runs in the foreground and ``trygg serve`` (in
embedded mode) in a thread of the API process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text

from ledger.access import Role
from ledger.application import Ledger, utc_now
from ledger.audit.service import AuditService
from ledger.audit.witnesses import parse_witnesses
from ledger.entry_service import EntryCommands
from ledger.finding_service import FindingCommands
from ledger.idea_service import IdeaCommands
from ledger.keys import ApiKey, KeyStore, create_key
from ledger.registry_service import RegistryCommands
from ledger.settings import Settings
from ledger.storage import Database
from ledger.survey_service import SurveyCommands
from ledger.texts import TextStore
from projections.residents_views import ResidentViews
from projections.runner import ProjectionRunner
from projections.views import Views

log = logging.getLogger("trygg.runtime")


class Runtime:
    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.database = Database.from_settings(settings)
        # Checked before touching the database: a setting that cannot work fails first.
        signing_key_file = settings.signing_key_file or self.database.default_signing_key_file()
        self.engine = self.database.create_engine()
        if self.database.schema and not self.database.is_sqlite:
            with self.engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.database.schema}"'))
        # Before the event store: its inserts write texts to this table.
        self.texts = TextStore(self.engine)
        self.ledger = Ledger(settings, texts=self.texts, clock=clock, database=self.database)
        self.registry = RegistryCommands(self.ledger)
        self.entries = EntryCommands(self.ledger, self.registry)
        self.ideas = IdeaCommands(self.ledger, self.registry)
        self.surveys = SurveyCommands(self.ledger, self.registry)
        self.findings = FindingCommands(self.ledger, self.registry)
        self.keys = KeyStore(self.engine)
        self.audit = AuditService(
            self.ledger.recorder,
            self.engine,
            signing_key_file=signing_key_file,
            origin=settings.log_origin,
            witnesses=parse_witnesses(settings.witnesses),
            witness_timeout=settings.witness_timeout_seconds,
        )
        self.runner = ProjectionRunner(
            self.ledger.recorder, self.engine, page_size=settings.projection_page_size
        )
        self.views = Views(
            self.ledger, self.registry, self.runner, wait_seconds=settings.read_wait_seconds
        )
        self.residents = ResidentViews(self.views, self.ideas, self.audit.latest_checkpoint)
        self.seal_wake = threading.Event()
        self.ledger.on_saved(self.runner.wake.set)
        self.ledger.on_saved(self.seal_wake.set)
        self._stopping = threading.Event()
        self._jobs: threading.Thread | None = None
        #: Set while this process holds the jobs lock and runs the background jobs.
        self.leading = threading.Event()

    # -- what the entry points ask of the whole -------------------------------------------

    def create_key(self, role: Role, actor: str | None, name: str | None) -> tuple[ApiKey, str]:
        return create_key(self.keys, self.registry, role, actor, name)

    def ping(self) -> int:
        """Touch both sides of the database; returns the log's last position."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return self.ledger.last_position()

    # -- background jobs ------------------------------------------------------------------

    def run_jobs(self, stopping: threading.Event, poll_seconds: float = 0.5) -> None:
        """Project and seal until ``stopping`` is set: the sealer in a thread of its own,
        the projection runner in this one. ``stopping`` also wakes both at once."""

        def wake_on_stop() -> None:
            stopping.wait()
            self.runner.wake.set()
            self.seal_wake.set()
            self.audit.checkpoint_issued.set()

        threading.Thread(target=wake_on_stop, name="stop-waker", daemon=True).start()
        sealer = threading.Thread(
            target=self.audit.run,
            args=(stopping, self.seal_wake, self.settings.checkpoint_interval_seconds),
            name="sealer",
            daemon=True,
        )
        sealer.start()
        witnesses = threading.Thread(
            target=self.audit.witnesses.run,
            args=(stopping, self.audit.checkpoint_issued, self.audit.latest_checkpoint),
            name="witnesses",
            daemon=True,
        )
        witnesses.start()
        try:
            self.runner.run(stopping, poll_seconds=poll_seconds)
        finally:
            sealer.join(timeout=10)
            witnesses.join(timeout=10)

    def lead_jobs(
        self,
        stopping: threading.Event,
        poll_seconds: float = 0.5,
        retry_seconds: float = 1.0,
        check_seconds: float = 5.0,
    ) -> None:
        """Campaign for the jobs lock (``ledger.leadership``) and run the jobs while holding
        it, until ``stopping`` is set. Every API process of one deployment campaigns; one
        leads, the others stand by and take over within ``retry_seconds`` of its exit. The
        leader checks its lock every ``check_seconds`` and steps down if it lost it."""
        lock = self.database.jobs_lock(self.engine)
        while not stopping.is_set():
            try:
                won = lock.acquire()
            except Exception:  # the database is away: campaign again shortly
                log.warning("could not campaign for the background jobs", exc_info=True)
                won = False
            if not won:
                stopping.wait(retry_seconds)
                continue
            leading = threading.Event()  # set to step down

            def watch(leading: threading.Event = leading) -> None:
                checked = time.monotonic()
                while not leading.wait(0.2):
                    if stopping.is_set():
                        leading.set()
                    elif time.monotonic() - checked >= check_seconds:
                        checked = time.monotonic()
                        if not lock.held():
                            log.warning("lost the jobs lock; stepping down")
                            leading.set()

            watcher = threading.Thread(target=watch, name="jobs-lock-watch", daemon=True)
            watcher.start()
            self.leading.set()
            try:
                self.run_jobs(leading, poll_seconds=poll_seconds)
            finally:
                self.leading.clear()
                leading.set()
                watcher.join()  # it shares the lock's connection: done before the release
                lock.release()

    def start(self) -> None:
        """Embedded mode: ``lead_jobs`` in a thread of this process, until ``stop``."""
        if self._jobs is None:
            self._stopping = threading.Event()
            self._jobs = threading.Thread(
                target=self.lead_jobs, args=(self._stopping,), name="jobs", daemon=True
            )
            self._jobs.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._jobs is not None:
            self._jobs.join(timeout=15)
            self._jobs = None

    def close(self) -> None:
        self.stop()
        self.entries.close()
        self.ledger.close()
        self.engine.dispose()

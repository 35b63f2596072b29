"""Wiring: the write side, the read side, and (embedded mode) the runner thread."""

from __future__ import annotations

import threading

from ledger.settings import Settings
from ledger.system import System
from projections.runner import ProjectionRunner
from projections.views import Views


class Runtime:
    def __init__(self, settings: Settings, system: System | None = None) -> None:
        self.settings = settings
        self.owns_system = system is None
        self.system = system or System(settings)
        self.runner = ProjectionRunner(
            self.system.ledger.recorder, self.system.engine, page_size=settings.projection_page_size
        )
        self.views = Views(self.system.ledger, self.runner, wait_seconds=settings.read_wait_seconds)
        self.system.ledger.on_saved(self.runner.wake.set)
        self.audit = self.system.audit
        self.seal_wake = threading.Event()
        self.system.ledger.on_saved(self.seal_wake.set)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Embedded mode: project and seal inside this process."""
        if self.settings.embedded_projections and not self._threads:
            self._threads = [
                threading.Thread(
                    target=self.runner.run, args=(self._stopping,), name="projections", daemon=True
                ),
                threading.Thread(
                    target=self.audit.run,
                    args=(
                        self._stopping,
                        self.seal_wake,
                        self.settings.checkpoint_interval_seconds,
                    ),
                    name="sealer",
                    daemon=True,
                ),
            ]
            for thread in self._threads:
                thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.runner.wake.set()
        self.seal_wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        if self.owns_system:
            self.system.close()

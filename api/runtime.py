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
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.embedded_projections and self._thread is None:
            self._thread = threading.Thread(
                target=self.runner.run, args=(self._stopping,), name="projections", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.runner.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.owns_system:
            self.system.close()

"""A real witness (``trygg witness serve``'s app under uvicorn) on a local port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from api.witness import create_witness_app
from ledger.audit.checkpoint import VerifierKey
from ledger.audit.cosignature import Cosigner
from ledger.audit.witness import Witness, WitnessState


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningWitness:
    """One witness: its key, its state file and its HTTP server; stop and start keep both."""

    def __init__(self, name: str, logs: Sequence[str], state: Path) -> None:
        self.cosigner = Cosigner.generate(name)
        self.logs = [VerifierKey.parse(k) for k in logs]
        self.state_path = state
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def vkey(self) -> str:
        return self.cosigner.verifier_key

    @property
    def config_entry(self) -> str:
        """This witness as one ``TRYGG_WITNESSES`` entry."""
        return f"{self.url} {self.vkey}"

    def start(self) -> RunningWitness:
        witness = Witness(self.cosigner, self.logs, WitnessState(self.state_path))
        config = uvicorn.Config(
            create_witness_app(witness), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"witness {self.cosigner.name} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

"""The ledger's side of witnessing: ask each configured witness to cosign the latest
checkpoint, remember what each one cosigned, and keep the cosignature lines.

``TRYGG_WITNESSES`` lists witnesses as ``URL VKEY`` pairs, separated by commas. For each
one the ledger remembers the size it last cosigned and sends the consistency proof from
there; a ``409`` tells it the size the witness really holds (after a restore, say), and it
tries once more from that size. A witness that holds a size larger than this log, or a
different root, is reporting a fork or a rollback: that is kept as its last error and
never retried blindly.

Gathering runs in a thread of its own with short timeouts: a slow or unreachable witness
delays nothing but its own cosignature, and is asked again on the next checkpoint or
after ``RETRY_SECONDS``.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, delete, insert, select, update

from ledger.audit.checkpoint import CheckpointError, VerifierKey
from ledger.audit.cosignature import (
    check_cosignatures,
    cosignature_key_id,
    cosignature_timestamp,
    parse_witness_key,
    signature_lines,
    with_cosignatures,
)
from ledger.audit.store import cosignatures, metadata, witness_status
from ledger.audit.witness import SIZE_CONTENT_TYPE
from ledger.settings import ConfigurationError

log = logging.getLogger("trygg.witness")

RETRY_SECONDS = 30.0
TIMEOUT_SECONDS = 5.0


class WitnessConfigError(ConfigurationError):
    """``TRYGG_WITNESSES`` is not a list of ``URL VKEY`` pairs."""


@dataclass(frozen=True)
class WitnessConfig:
    url: str
    key: VerifierKey

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def add_checkpoint_url(self) -> str:
        return self.url.rstrip("/") + "/add-checkpoint"


def parse_witnesses(text: str | None) -> list[WitnessConfig]:
    """``"https://w1.example/ vkey1, https://w2.example/ vkey2"`` → two witnesses."""
    found: list[WitnessConfig] = []
    for n, item in enumerate((text or "").split(","), start=1):
        if not item.strip():
            continue
        parts = item.split()
        if len(parts) != 2:
            raise WitnessConfigError(
                f"TRYGG_WITNESSES entry {n} must be 'URL VKEY' (two words), got {item.strip()!r}"
            )
        url, vkey = parts
        if not url.startswith(("http://", "https://")):
            raise WitnessConfigError(f"TRYGG_WITNESSES entry {n}: {url!r} is not an http(s) URL")
        try:
            key = parse_witness_key(vkey)
        except CheckpointError as exc:
            raise WitnessConfigError(f"TRYGG_WITNESSES entry {n}: {exc}") from None
        if any(w.name == key.name for w in found):
            raise WitnessConfigError(f"TRYGG_WITNESSES names witness {key.name!r} twice")
        if any(w.key.public_key == key.public_key for w in found):
            # A cosignature does not sign the witness's name: one key under two names
            # would count twice towards a quorum.
            raise WitnessConfigError(
                f"TRYGG_WITNESSES entry {n} reuses the public key of another witness"
            )
        found.append(WitnessConfig(url, key))
    return found


@dataclass(frozen=True)
class Outcome:
    witness: str
    ok: bool
    detail: str


class _Refused(Exception):
    def __init__(self, detail: str, known_size: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.known_size = known_size


class WitnessPool:
    """Asks every configured witness to cosign a checkpoint; stores what they answer."""

    def __init__(
        self,
        witnesses: Sequence[WitnessConfig],
        engine: Engine,
        proof: Callable[[int, int], list[bytes]],
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.witnesses = list(witnesses)
        self.engine = engine
        self.proof = proof
        self.timeout = timeout
        self._transport = transport
        self._lock = threading.Lock()
        metadata.create_all(engine)
        with engine.begin() as conn:
            known = {r.name: r for r in conn.execute(select(witness_status)).all()}
            for w in self.witnesses:
                row = known.get(w.name)
                if row is None:
                    conn.execute(
                        insert(witness_status).values(
                            name=w.name, url=w.url, verifier_key=str(w.key)
                        )
                    )
                elif row.verifier_key != str(w.key) or row.url != w.url:
                    # A new key for the same name is a new witness: forget the old size.
                    conn.execute(
                        update(witness_status)
                        .where(witness_status.c.name == w.name)
                        .values(
                            url=w.url,
                            verifier_key=str(w.key),
                            **(
                                {"cosigned_size": None, "cosigned_at": None}
                                if row.verifier_key != str(w.key)
                                else {}
                            ),
                        )
                    )

    @property
    def configured(self) -> int:
        return len(self.witnesses)

    # -- asking ---------------------------------------------------------------------------

    def gather(self, checkpoint: dict[str, Any]) -> list[Outcome]:
        """Ask every witness that has not cosigned ``checkpoint`` yet, in parallel."""
        if not self.witnesses:
            return []
        with self._lock:
            have = self._cosigned_by(checkpoint["id"])
            todo = [w for w in self.witnesses if w.name not in have]
            if not todo:
                return [Outcome(w.name, True, "already cosigned") for w in self.witnesses]
            with ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="witness") as pool:
                return list(pool.map(lambda w: self._ask(w, checkpoint), todo))

    def _ask(self, witness: WitnessConfig, checkpoint: dict[str, Any]) -> Outcome:
        try:
            return self._ask_once(witness, checkpoint)
        except Exception as exc:  # one witness's odd answer must not stop the others
            log.exception("asking witness %s failed", witness.name)
            return self._failed(witness, f"{type(exc).__name__}: {exc}")

    def _ask_once(self, witness: WitnessConfig, checkpoint: dict[str, Any]) -> Outcome:
        size = int(checkpoint["tree_size"])
        old = self._known_size(witness.name)
        if old > size:
            # A newer checkpoint was cosigned meanwhile (this request was stale).
            return Outcome(witness.name, True, f"already cosigned size {old}")
        try:
            with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
                try:
                    lines = self._post(client, witness, checkpoint, old)
                except _Refused as refusal:
                    learned = refusal.known_size
                    if learned is None or learned == old:
                        raise
                    if learned > size:
                        raise _Refused(
                            f"the witness has cosigned size {learned}, larger than this log's "
                            f"{size}: the log was rolled back or forked"
                        ) from None
                    lines = self._post(client, witness, checkpoint, learned)
        except _Refused as refusal:
            return self._failed(witness, refusal.detail)
        except httpx.HTTPError as exc:
            return self._failed(witness, f"unreachable: {type(exc).__name__}: {exc}")
        self._store(witness, checkpoint, lines)
        return Outcome(witness.name, True, f"cosigned size {size}")

    def _post(
        self, client: httpx.Client, witness: WitnessConfig, checkpoint: dict[str, Any], old: int
    ) -> str:
        size = int(checkpoint["tree_size"])
        if old > size:
            raise _Refused(f"the witness holds size {old}, larger than this log's {size}", old)
        proof = self.proof(old, size) if 0 < old < size else []
        body = (
            f"old {old}\n"
            + "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof)
            + "\n"
            + checkpoint["note"]
        )
        response = client.post(
            witness.add_checkpoint_url,
            content=body.encode("utf-8"),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        if response.status_code == 200:
            return self._valid_lines(witness, checkpoint["note"], response.text)
        reason = response.text.strip()[:200]
        content_type = response.headers.get("content-type", "")
        if response.status_code == 409 and content_type.startswith(SIZE_CONTENT_TYPE):
            known = int(reason) if re.fullmatch(r"0|[1-9][0-9]{0,19}", reason) else None
            if known is not None and known == old == size:
                raise _Refused(f"the witness holds a different root for size {size}: a fork", known)
            raise _Refused(f"409: the witness holds size {reason}", known)
        raise _Refused(f"HTTP {response.status_code}: {reason or response.reason_phrase}")

    @staticmethod
    def _valid_lines(witness: WitnessConfig, note: str, answer: str) -> str:
        """The one line of the answer that is a valid cosignature by this witness's key;
        lines by other keys are ignored, as the spec says."""
        try:
            lines = signature_lines(answer)
        except CheckpointError as exc:
            raise _Refused(f"the witness answered with malformed signature lines: {exc}") from None
        why = "no line signed by its key"
        for line in lines:
            try:
                check = check_cosignatures(with_cosignatures(note, [line]), [witness.key])
            except CheckpointError:
                continue
            if witness.name in check.valid:
                return line
            why = check.invalid.get(witness.name, why)
        raise _Refused(f"the witness answered without a valid cosignature: {why}")

    # -- remembering ----------------------------------------------------------------------

    def _known_size(self, name: str) -> int:
        with self.engine.connect() as conn:
            size = conn.execute(
                select(witness_status.c.cosigned_size).where(witness_status.c.name == name)
            ).scalar_one_or_none()
        return int(size or 0)

    def _cosigned_by(self, checkpoint_id: int) -> set[str]:
        """Witnesses whose *current* key cosigned the checkpoint (a key change asks again)."""
        current = {w.name: w.key.key_id for w in self.witnesses}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(cosignatures.c.witness, cosignatures.c.line).where(
                    cosignatures.c.checkpoint_id == checkpoint_id
                )
            ).all()
        return {name for name, line in rows if cosignature_key_id(line) == current.get(name)}

    def _store(self, witness: WitnessConfig, checkpoint: dict[str, Any], line: str) -> None:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(
                delete(cosignatures).where(
                    cosignatures.c.checkpoint_id == checkpoint["id"],
                    cosignatures.c.witness == witness.name,
                )
            )
            conn.execute(
                insert(cosignatures).values(
                    checkpoint_id=checkpoint["id"],
                    witness=witness.name,
                    timestamp=cosignature_timestamp(line),
                    line=line,
                )
            )
            conn.execute(
                update(witness_status)
                .where(witness_status.c.name == witness.name)
                .values(
                    cosigned_size=int(checkpoint["tree_size"]),
                    cosigned_at=now,
                    attempted_at=now,
                    last_error=None,
                )
            )

    def _failed(self, witness: WitnessConfig, detail: str) -> Outcome:
        log.warning("witness %s did not cosign: %s", witness.name, detail)
        with self.engine.begin() as conn:
            conn.execute(
                update(witness_status)
                .where(witness_status.c.name == witness.name)
                .values(attempted_at=datetime.now(UTC), last_error=detail)
            )
        return Outcome(witness.name, False, detail)

    # -- reading --------------------------------------------------------------------------

    def status(self, latest: dict[str, Any] | None) -> dict[str, Any]:
        """Each configured witness: last cosigned size and time, last error; and how many
        cosigned the latest checkpoint."""
        names = {w.name: w for w in self.witnesses}
        with self.engine.connect() as conn:
            rows = {
                r.name: r for r in conn.execute(select(witness_status)).all() if r.name in names
            }
        on_latest = self._cosigned_by(latest["id"]) if latest else set()
        items = []
        for w in self.witnesses:
            row = rows.get(w.name)
            items.append(
                {
                    "name": w.name,
                    "url": w.url,
                    "verifier_key": str(w.key),
                    "cosigned_size": row.cosigned_size if row else None,
                    "cosigned_at": _iso(row.cosigned_at) if row else None,
                    "attempted_at": _iso(row.attempted_at) if row else None,
                    "last_error": row.last_error if row else None,
                    "cosigned_latest": w.name in on_latest,
                }
            )
        return {
            "configured": len(self.witnesses),
            "witnessed": sum(1 for i in items if i["cosigned_latest"]),
            "latest_tree_size": latest["tree_size"] if latest else None,
            "witnesses": items,
        }

    # -- the background job ---------------------------------------------------------------

    def run(
        self,
        stopping: threading.Event,
        wake: threading.Event,
        latest: Callable[[], dict[str, Any] | None],
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        """Gather for the latest checkpoint whenever one is issued; retry failures."""
        if not self.witnesses:
            return
        while not stopping.is_set():
            try:
                checkpoint = latest()
                if checkpoint is not None:
                    self.gather(checkpoint)
            except Exception:
                log.exception("gathering cosignatures failed; retrying")
            wake.wait(retry_seconds)
            wake.clear()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat()

"""Witness cosignatures: C2SP ``tlog-cosignature`` v1 (Ed25519) on checkpoint notes.

A witness that has checked a checkpoint is consistent with everything it saw of that
log before adds one signature line to the note::

    — <witness name> base64(key id (4) || timestamp (8, big-endian) || Ed25519 signature (64))

over the message ``"cosignature/v1\\n" + "time <timestamp>\\n" + <checkpoint body>``. The
key id is ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``, and a witness's verifier
key is the signed-note vkey ``name+keyid+base64(0x04 || public key)``. Verifiers are
configured with the witness keys they trust and ignore every other line.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.checkpoint import (
    CheckpointError,
    VerifierKey,
    is_valid_key_name,
    key_id,
    parse_note,
)

ALG_COSIGNATURE_V1 = 0x04
"""signed-note signature type byte of an Ed25519 cosignature/v1 key."""

MAX_TIMESTAMP = 2**63 - 1
FUTURE_SKEW_SECONDS = 300
"""A cosignature dated further ahead than this is refused (the spec allows refusing any)."""

_HEADER = b"cosignature/v1\n"
_SIG_PREFIX = "— "
_PRIVATE_PREFIX = "PRIVATE+KEY+"


def cosignature_message(body: str, timestamp: int) -> bytes:
    """What a cosignature signs: the header line, the time line, then the whole note body."""
    if isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"invalid cosignature timestamp {timestamp!r}")
    return _HEADER + f"time {timestamp}\n".encode() + body.encode("utf-8")


def parse_witness_key(text: str) -> VerifierKey:
    """Parse a witness verifier key ``name+keyid+base64(0x04 || key)``."""
    return VerifierKey.parse(text.strip(), alg=ALG_COSIGNATURE_V1)


class Cosigner:
    """A witness's named Ed25519 key, used only for cosignature/v1."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise ValueError(f"invalid witness name {name!r}: no spaces, '+' or control chars")
        if len(seed) != 32:
            raise ValueError("an Ed25519 private seed is 32 bytes")
        self._name = name
        self._seed = seed
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes_raw()
        self._verifier = VerifierKey(
            name, key_id(name, public, ALG_COSIGNATURE_V1), public, ALG_COSIGNATURE_V1
        )

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_key_text(cls, text: str) -> Cosigner:
        """Load ``PRIVATE+KEY+<name>+<keyid>+<base64(0x04 || seed)>`` (the signed-note
        private key form, with the cosignature type byte)."""
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise ValueError("not a witness key: it must start with PRIVATE+KEY+")
        parts = text[len(_PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise ValueError("not a witness key: expected PRIVATE+KEY+name+keyid+key")
        name, hex_id, key_b64 = parts
        try:
            raw = base64.b64decode(key_b64, validate=True)
        except ValueError as exc:
            raise ValueError("not a witness key: the key is not base64") from exc
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise ValueError("not a witness key: expected a type 0x04 Ed25519 seed")
        cosigner = cls(name, raw[1:])
        if f"{cosigner.verifier.key_id:08x}" != hex_id.lower():
            raise ValueError("witness key id does not match its name and key")
        return cosigner

    @classmethod
    def from_key_file(cls, path: str | PathLike[str]) -> Cosigner:
        with open(path, encoding="ascii") as f:
            return cls.from_key_text(f.read())

    def key_text(self) -> str:
        """The private key in its file form; store it as a secret."""
        key = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self._seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self._name}+{self._verifier.key_id:08x}+{key}\n"

    def write_key_file(self, path: str | PathLike[str]) -> None:
        """Write the private key, readable by its owner only; never overwrites a file."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(self.key_text())

    @property
    def name(self) -> str:
        return self._name

    @property
    def verifier(self) -> VerifierKey:
        return self._verifier

    @property
    def verifier_key(self) -> str:
        return str(self._verifier)

    def cosign(self, body: str, timestamp: int | None = None) -> str:
        """One signature line (with its newline) cosigning the checkpoint ``body``."""
        stamp = int(time.time()) if timestamp is None else timestamp
        signature = self._key.sign(cosignature_message(body, stamp))
        blob = self._verifier.key_id.to_bytes(4, "big") + stamp.to_bytes(8, "big") + signature
        return f"{_SIG_PREFIX}{self._name} {base64.b64encode(blob).decode('ascii')}\n"

    def __repr__(self) -> str:  # never show key material
        return f"Cosigner({self.verifier_key!r})"


@dataclass(frozen=True)
class CosignatureCheck:
    """Which of the trusted witnesses validly cosigned a note, and when."""

    valid: dict[str, int] = field(default_factory=dict)  # witness name -> timestamp
    invalid: dict[str, str] = field(default_factory=dict)  # witness name -> why
    missing: tuple[str, ...] = ()

    def met(self, quorum: int) -> bool:
        return len(self.valid) >= quorum

    def describe(self) -> str:
        parts = [f"{name}: cosigned" for name in sorted(self.valid)]
        parts += [f"{name}: {why}" for name, why in sorted(self.invalid.items())]
        parts += [f"{name}: no cosignature" for name in self.missing]
        return "; ".join(parts)


def check_cosignatures(
    note: str | bytes, witnesses: Iterable[VerifierKey], *, now: float | None = None
) -> CosignatureCheck:
    """Check the cosignature lines of ``note`` by each trusted witness key.

    Lines by other keys are ignored, as the spec requires. A trusted key with a line
    that does not verify (or is dated in the future) counts as invalid even if another
    of its lines verifies: a witness never signs garbage, so someone else wrote it.
    """
    parsed = parse_note(note)
    trusted = {(k.name, k.key_id): k for k in witnesses if k.alg == ALG_COSIGNATURE_V1}
    latest = (time.time() if now is None else now) + FUTURE_SKEW_SECONDS
    valid: dict[str, int] = {}
    invalid: dict[str, str] = {}
    counted: set[bytes] = set()  # one public key counts once, under whatever name
    for sig in parsed.signatures:
        key = trusted.get((sig.name, sig.key_id))
        if key is None:
            continue
        why = _check_one(key, parsed.text, sig.signature, latest)
        if isinstance(why, str):
            invalid[key.name] = why
        elif key.name not in invalid and (key.name in valid or key.public_key not in counted):
            valid[key.name] = why
            counted.add(key.public_key)
    for name in invalid:
        valid.pop(name, None)
    seen = set(valid) | set(invalid)
    missing = tuple(sorted({k.name for k in trusted.values()} - seen))
    return CosignatureCheck(valid, invalid, missing)


def _check_one(key: VerifierKey, body: str, blob: bytes, latest: float) -> int | str:
    """The timestamp of a valid cosignature, or why it is not one."""
    if len(blob) != 8 + 64:
        return "malformed cosignature (not a timestamp and an Ed25519 signature)"
    stamp = int.from_bytes(blob[:8], "big")
    if stamp > MAX_TIMESTAMP:
        return "cosignature timestamp out of range"
    if stamp > latest:
        return f"cosignature dated in the future ({stamp})"
    if not key.verify(cosignature_message(body, stamp), blob[8:]):
        return "cosignature does not verify"
    return stamp


def cosignature_timestamp(line: str) -> int:
    """The timestamp in one cosignature line (unverified)."""
    blob = _line_blob(line)
    if len(blob) != 4 + 8 + 64:
        raise CheckpointError("not an Ed25519 cosignature line")
    return int.from_bytes(blob[4:12], "big")


def cosignature_key_id(line: str) -> int | None:
    """The key id a signature line names (None if it is not a signature line)."""
    try:
        blob = _line_blob(line)
    except CheckpointError:
        return None
    return int.from_bytes(blob[:4], "big") if len(blob) >= 4 else None


def _line_blob(line: str) -> bytes:
    if not line.startswith(_SIG_PREFIX):
        raise CheckpointError(f"not a signature line: {line!r}")
    _, _, b64 = line[len(_SIG_PREFIX) :].rstrip("\n").partition(" ")
    try:
        return base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise CheckpointError("signature line is not base64") from exc


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """The note with extra signature lines appended (each ending in a newline)."""
    if not note.endswith("\n"):
        raise ValueError("a signed note ends with a newline")
    return note + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def signature_lines(text: str) -> list[str]:
    """Split a witness's response body into its signature lines, checking their form."""
    if not text.endswith("\n"):
        raise CheckpointError("a cosignature response must end with a newline")
    lines = [line + "\n" for line in text[:-1].split("\n")]
    for line in lines:
        _line_blob(line)
    return lines

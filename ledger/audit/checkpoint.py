"""Signed tree heads: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note`` envelopes.

A checkpoint note looks like::

    <origin>
    <tree size, decimal>
    <base64 root hash>
    time 2024-05-01T12:00:00Z

    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>

The signature covers the *body*: the note text up to and including its last
body newline (the four lines above, not the blank separator line). So it
commits to the log identity, the size, the RFC 6962 root of that many leaves
and the signing time, and nothing else.

Keys follow golang.org/x/mod/sumdb/note: the key id is the first 4 bytes
(big-endian) of ``SHA-256(name || "\\n" || 0x01 || public key)``, and a
verifier key is written ``<name>+<8 hex key id>+<base64(0x01 || public key)>``.
A signature line only names its key; it is accepted only if both the name
and the key id match the verifier key and the Ed25519 signature verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from os import PathLike

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALG_ED25519 = 0x01
"""signed-note signature type byte for Ed25519."""

ROOT_SIZE = 32
MAX_SIGNATURES = 100  # as in x/mod/sumdb/note: bounds the work a hostile note can cause
MAX_TREE_SIZE = 2**64 - 1  # tree sizes are uint64 in every other implementation
_SIG_PREFIX = "— "  # U+2014 EM DASH, then a space
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_HEX8_RE = re.compile(r"[0-9a-fA-F]{8}")


class CheckpointError(ValueError):
    """A malformed note, key or checkpoint, or a signature that does not verify."""


def _b64decode(text: str, what: str) -> bytes:
    """Strict, canonical standard base64 (one byte string, one spelling)."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what} is not valid base64") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return data


def is_valid_key_name(name: str) -> bool:
    """A key name is non-empty, with no whitespace, no ``+`` and no control characters."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name)
    )


def key_id(name: str, public_key: bytes, alg: int = ALG_ED25519) -> int:
    """The 32-bit key id of a named key of signature type ``alg``, as in C2SP signed-note:
    the first 4 bytes of ``SHA-256(name || "\\n" || alg || public key)``."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key; ``str()`` gives the ``name+keyid+base64`` form.

    ``alg`` is the signed-note signature type: 0x01 for a log's note signatures, 0x04
    for a witness's cosignature/v1 key (``ledger.audit.cosignature``).
    """

    name: str
    key_id: int
    public_key: bytes
    alg: int = ALG_ED25519

    @classmethod
    def parse(cls, text: str, alg: int = ALG_ED25519) -> VerifierKey:
        """Parse ``<name>+<8 hex key id>+<base64(alg || 32-byte key)>``, checking the key id."""
        # The name cannot contain '+', but the base64 part can: split twice only.
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise CheckpointError("verifier key must look like name+keyid+base64key")
        name, hex_id, key_b64 = parts
        if not is_valid_key_name(name):
            raise CheckpointError(f"invalid key name {name!r}")
        if not _HEX8_RE.fullmatch(hex_id):
            raise CheckpointError("verifier key id must be 8 hex digits")
        key = _b64decode(key_b64, "verifier key")
        if len(key) != 1 + 32 or key[0] != alg:
            found = f"type 0x{key[0]:02x}" if key else "empty"
            raise CheckpointError(
                f"verifier key is not a 32-byte Ed25519 key of type 0x{alg:02x} ({found}, "
                f"{len(key) - 1 if key else 0} bytes)"
            )
        public_key = key[1:]
        if key_id(name, public_key, alg) != int(hex_id, 16):
            raise CheckpointError("verifier key id does not match its name and key")
        return cls(name, int(hex_id, 16), public_key, alg)

    def __str__(self) -> str:
        key = base64.b64encode(bytes([self.alg]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{key}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Ed25519 verification; ``False`` for any bad key or signature."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse a verifier key string (see :meth:`VerifierKey.parse`)."""
    return VerifierKey.parse(text)


class Signer:
    """A named Ed25519 signing key.

    The private key never leaves this object except through :meth:`to_pem`.
    """

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise ValueError(f"invalid key name {name!r}")
        if len(seed) != 32:
            raise ValueError("an Ed25519 private seed is 32 bytes")
        self._name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._public = self._key.public_key().public_bytes_raw()
        self._key_id = key_id(name, self._public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A fresh random key (from the OS CSPRNG, via OpenSSL)."""
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_pem(cls, name: str, pem: bytes, password: bytes | None = None) -> Signer:
        """Load a PKCS#8 PEM Ed25519 private key."""
        key = serialization.load_pem_private_key(pem, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 private key")
        return cls(name, key.private_bytes_raw())

    @classmethod
    def from_pem_file(
        cls, name: str, path: str | PathLike[str], password: bytes | None = None
    ) -> Signer:
        with open(path, "rb") as f:
            return cls.from_pem(name, f.read(), password)

    @classmethod
    def from_note_private_key(cls, text: str) -> Signer:
        """Load an x/mod/sumdb/note signer key ``PRIVATE+KEY+<name>+<keyid>+<base64(0x01||seed)>``."""
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise ValueError("not a PRIVATE+KEY+name+keyid+key string")
        name, hex_id, key_b64 = parts[2:]
        key = _b64decode(key_b64, "private key")
        if len(key) != 33 or key[0] != ALG_ED25519 or not _HEX8_RE.fullmatch(hex_id):
            raise ValueError("not an Ed25519 note private key")
        signer = cls(name, key[1:])
        if signer.key_id != int(hex_id, 16):
            raise ValueError("private key id does not match its name and key")
        return signer

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self._name, self._key_id, self._public)

    @property
    def verifier_key(self) -> str:
        """The public ``name+keyid+base64`` string to hand to verifiers."""
        return str(self.verifier)

    def sign(self, message: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature (deterministic, RFC 8032)."""
        return self._key.sign(message)

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM of the private key; store it as a secret."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def __repr__(self) -> str:  # never show key material
        return f"Signer({self.verifier_key!r})"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: who claims to have signed, and the raw signature bytes."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True)
class Note:
    """A parsed signed note; ``text`` is exactly the signed body."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _check_text(text: str) -> bytes:
    """Valid UTF-8 with no control characters but newline, as x/mod/sumdb/note requires."""
    for c in text:
        if ord(c) < 0x20 and c != "\n":
            raise CheckpointError("note contains a control character")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise CheckpointError("note is not valid UTF-8") from exc


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            return note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError("note is not valid UTF-8") from exc
    return note


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into body and signature lines, without verifying anything."""
    text = _as_text(note)
    _check_text(text)
    split = text.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed note: no blank line before the signatures")
    body, sig_block = text[: split + 1], text[split + 2 :]
    if not sig_block.endswith("\n"):
        raise CheckpointError("malformed note: no signature lines, or no final newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError("malformed note: too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise CheckpointError(f"malformed signature line {line!r}")
        name, _, sig_b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not is_valid_key_name(name) or not sig_b64:
            raise CheckpointError(f"malformed signature line {line!r}")
        raw = _b64decode(sig_b64, "signature")
        if len(raw) < 5:
            raise CheckpointError(f"malformed signature line {line!r}")
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(body, tuple(signatures))


def sign_note(text: str, *signers: Signer) -> str:
    """Sign a note body (non-empty lines, each ending in ``"\\n"``) with each signer."""
    if not signers:
        raise ValueError("at least one signer is needed")
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise ValueError("note text must be non-empty lines, each ending in a newline")
    message = _check_text(text)
    lines = []
    for signer in signers:
        blob = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{_SIG_PREFIX}{signer.name} {base64.b64encode(blob).decode('ascii')}\n")
    return text + "\n" + "".join(lines)


def verify_note(note: str | bytes, key: VerifierKey | str) -> Note:
    """Parse ``note`` and check it carries a valid signature by ``key``.

    Raises :class:`CheckpointError` if no signature line names the key, if one
    names it with another key id, or if any signature line by this key does
    not verify. Signatures by other keys (e.g. witnesses) are left unchecked.
    """
    if isinstance(key, str):
        key = VerifierKey.parse(key)
    parsed = parse_note(note)
    named = [s for s in parsed.signatures if s.name == key.name]
    if not named:
        signers = ", ".join(sorted({s.name for s in parsed.signatures}))
        raise CheckpointError(f"note is not signed by {key.name!r} (signed by: {signers})")
    ours = [s for s in named if s.key_id == key.key_id]
    if not ours:
        ids = ", ".join(sorted({f"{s.key_id:08x}" for s in named}))
        raise CheckpointError(
            f"note is signed by a different key named {key.name!r}: "
            f"key id {ids}, expected {key.key_id:08x}"
        )
    message = parsed.text.encode("utf-8")
    for sig in ours:
        if not key.verify(message, sig.signature):
            raise CheckpointError(f"invalid signature for key {key.name}+{key.key_id:08x}")
    return parsed


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the ``size`` first leaves of log ``origin`` have RFC 6962 root ``root``.

    ``signatures`` lists every signature line of the note; after
    :func:`verify_checkpoint` only those by the given key have been checked.
    """

    origin: str
    size: int
    root: bytes
    time: datetime
    signatures: tuple[NoteSignature, ...] = ()

    @property
    def body(self) -> str:
        return checkpoint_body(self.origin, self.size, self.root, self.time)


def format_time(time: datetime) -> str:
    """RFC 3339 in UTC at whole seconds with a ``Z`` suffix; sub-seconds are dropped."""
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError("checkpoint time must be timezone-aware")
    t = time.astimezone(UTC)
    # Not strftime: %Y does not zero-pad years below 1000 on every platform.
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def checkpoint_body(origin: str, size: int, root: bytes, time: datetime) -> str:
    """The signed text of a checkpoint: four lines, each ending in ``"\\n"``."""
    if not origin or "\n" in origin or any(ord(c) < 0x20 for c in origin):
        raise ValueError("origin must be one non-empty line")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError(f"invalid tree size {size!r}")
    if len(root) != ROOT_SIZE:
        raise ValueError("root must be a 32-byte hash")
    root_b64 = base64.b64encode(root).decode("ascii")
    return f"{origin}\n{size}\n{root_b64}\ntime {format_time(time)}\n"


def sign_checkpoint(origin: str, size: int, root: bytes, time: datetime, signer: Signer) -> str:
    """A signed checkpoint note for tree ``(size, root)`` of log ``origin`` at ``time``."""
    return sign_note(checkpoint_body(origin, size, root, time), signer)


def _parse_body(text: str, signatures: tuple[NoteSignature, ...]) -> Checkpoint:
    lines = text.split("\n")
    # A body "a\nb\nc\nd\n" splits into 4 lines plus a trailing "".
    if len(lines) != 5 or lines[-1] != "":
        raise CheckpointError(
            "checkpoint body must be exactly 4 lines: origin, size, root, time extension"
        )
    origin, size_text, root_text, time_line = lines[:4]
    if not origin:
        raise CheckpointError("checkpoint origin is empty")
    if not _SIZE_RE.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError(f"checkpoint tree size {size_text!r} is not a decimal uint64")
    root = _b64decode(root_text, "checkpoint root hash")
    if len(root) != ROOT_SIZE:
        raise CheckpointError("checkpoint root hash is not 32 bytes")
    kind, _, time_text = time_line.partition(" ")
    if kind != "time" or not _TIME_RE.fullmatch(time_text):
        raise CheckpointError(f"checkpoint time line {time_line!r} is not 'time <RFC 3339 UTC>'")
    try:
        time = datetime.strptime(time_text, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint time {time_text!r} is not a valid date") from exc
    return Checkpoint(origin, int(size_text), root, time, signatures)


def parse_checkpoint(note_text: str | bytes) -> Checkpoint:
    """Parse a checkpoint note *without* checking its signatures."""
    note = parse_note(note_text)
    return _parse_body(note.text, note.signatures)


def verify_checkpoint(note_text: str | bytes, verifier_key: VerifierKey | str) -> Checkpoint:
    """Parse a checkpoint note and check it is signed by ``verifier_key``.

    Raises :class:`CheckpointError` with a specific message for a malformed
    note or body, a missing signature, a key name or key id mismatch, or an
    invalid signature.
    """
    note = verify_note(note_text, verifier_key)
    return _parse_body(note.text, note.signatures)

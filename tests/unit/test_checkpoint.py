"""Signed-note checkpoints, checked against golang.org/x/mod/sumdb/note's published vectors.

The PeterNeumann / EnochRoot keys, the text and the signature lines below are
copied from ``sumdb/note/note_test.go`` (TestNewVerifier, TestNewSigner,
TestSign, TestOpen) in github.com/golang/mod. Ed25519 is deterministic, so our
signer must reproduce the published note byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledger.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    Signer,
    VerifierKey,
    checkpoint_body,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
PETER_NOTE = TEXT + "\n" + PETER_SIG

ORIGIN = "trygg.example/ledger"
ROOT = hashlib.sha256(b"some root").digest()
WHEN = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
ROOT_B64 = base64.b64encode(ROOT).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Same 32 bytes, but with the two unused trailing bits set: not canonical.
NON_CANONICAL_ROOT = ROOT_B64[:-2] + _ALPHABET[_ALPHABET.index(ROOT_B64[-2]) ^ 1] + "="
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()
T = "time 2024-05-01T12:30:15Z"


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer(ORIGIN, bytes(range(32)))


# --- x/mod/sumdb/note compatibility ----------------------------------------------


def test_sign_reproduces_the_published_note_byte_for_byte():
    peter = Signer.from_note_private_key(PETER_SKEY)
    assert peter.name == "PeterNeumann"
    assert peter.key_id == 0xC74F20A3
    assert peter.verifier_key == PETER_VKEY
    assert sign_note(TEXT, peter) == PETER_NOTE


def test_published_note_verifies():
    note = verify_note(PETER_NOTE, PETER_VKEY)
    assert note.text == TEXT
    assert [(s.name, s.key_id) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]


def test_note_with_two_signers_verifies_for_each_key():
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(note, PETER_VKEY).text == TEXT
    assert verify_note(note, ENOCH_VKEY).text == TEXT


def test_published_verifier_key_parses_and_round_trips():
    key = parse_verifier_key(PETER_VKEY)
    assert key.name == "PeterNeumann"
    assert key.key_id == key_id("PeterNeumann", key.public_key) == 0xC74F20A3
    assert str(key) == PETER_VKEY


def test_every_mangling_of_the_published_verifier_key_is_rejected():
    # As TestNewVerifier: every proper substring and every single-byte bump.
    b = PETER_VKEY.encode()
    for i in range(len(b) + 1):
        for j in range(i + 1, len(b) + 1):
            if (i, j) != (0, len(b)):
                with pytest.raises(CheckpointError):
                    parse_verifier_key(b[i:j].decode())
    for i in range(len(b)):
        bumped = b[:i] + bytes([b[i] + 1]) + b[i + 1 :]
        with pytest.raises(CheckpointError):
            parse_verifier_key(bumped.decode())
    # Wrong key length and unknown algorithm, each with an adjusted key hash.
    for bad in (
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(CheckpointError):
            parse_verifier_key(bad)


def test_tampered_published_note_is_rejected():
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_note(PETER_NOTE.replace("cryptography", "cryptographY"), PETER_VKEY)
    # As TestOpen: bytes inserted into the signature.
    bad_sig = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_note(TEXT + "\n" + bad_sig, PETER_VKEY)


def test_key_name_and_key_id_mismatch_are_reported():
    misnamed = TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    with pytest.raises(
        CheckpointError, match=r"not signed by 'PeterNeumann' \(signed by: CarmenSandiego\)"
    ):
        verify_note(misnamed, PETER_VKEY)
    wrong_id = TEXT + "\n" + PETER_SIG.replace("x08g", "xxxx")
    with pytest.raises(CheckpointError, match="different key named 'PeterNeumann'"):
        verify_note(wrong_id, PETER_VKEY)
    with pytest.raises(CheckpointError, match="not signed by 'EnochRoot'"):
        verify_note(PETER_NOTE, ENOCH_VKEY)


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
        TEXT + "\n" + "— PeterNeumann\n",
        TEXT + "\n" + "— PeterNeumann AAAA\n",  # shorter than a key id + signature
        TEXT + "\n" + "— PeterNeumann not*base64\n",
    ],
)
def test_malformed_notes_from_x_mod_are_rejected(note):
    with pytest.raises(CheckpointError):
        parse_note(note)
    with pytest.raises(CheckpointError):
        verify_note(note, PETER_VKEY)


def test_invalid_utf8_note_is_rejected():
    with pytest.raises(CheckpointError, match="UTF-8"):
        parse_note(b"\xff" + PETER_NOTE.encode())


# --- Checkpoints -----------------------------------------------------------------


def test_checkpoint_round_trip(signer):
    note = sign_checkpoint(ORIGIN, 12345, ROOT, WHEN, signer)
    body = f"{ORIGIN}\n12345\n{ROOT_B64}\n{T}\n"
    assert note.startswith(body + "\n— " + ORIGIN + " ")
    assert note.endswith("\n")
    cp = verify_checkpoint(note, signer.verifier_key)
    assert (cp.origin, cp.size, cp.root, cp.time) == (ORIGIN, 12345, ROOT, WHEN)
    assert cp.body == body
    assert [(s.name, s.key_id) for s in cp.signatures] == [(ORIGIN, signer.key_id)]
    assert parse_checkpoint(note) == cp
    assert verify_checkpoint(note.encode(), VerifierKey.parse(signer.verifier_key)) == cp


def test_signature_covers_exactly_the_body(signer):
    note = sign_checkpoint(ORIGIN, 7, ROOT, WHEN, signer)
    sig = parse_note(note).signatures[0]
    assert sig.key_id == signer.key_id
    assert signer.verifier.verify(checkpoint_body(ORIGIN, 7, ROOT, WHEN).encode(), sig.signature)


def test_checkpoint_time_is_utc_seconds(signer):
    local = datetime(2024, 5, 1, 14, 30, 15, 999_999, tzinfo=timezone(timedelta(hours=2)))
    cp = verify_checkpoint(sign_checkpoint(ORIGIN, 0, ROOT, local, signer), signer.verifier_key)
    assert cp.time == WHEN
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_checkpoint(ORIGIN, 0, ROOT, datetime(2024, 5, 1), signer)


def test_checkpoint_signed_by_another_key_is_rejected(signer):
    impostor = Signer.generate(ORIGIN)  # same name, different key
    note = sign_checkpoint(ORIGIN, 3, ROOT, WHEN, impostor)
    with pytest.raises(CheckpointError, match="different key named"):
        verify_checkpoint(note, signer.verifier_key)
    other = Signer.generate("someone.else/log")
    with pytest.raises(CheckpointError, match="not signed by"):
        verify_checkpoint(sign_checkpoint(ORIGIN, 3, ROOT, WHEN, other), signer.verifier_key)


def test_a_forged_signature_under_the_right_key_id_is_rejected(signer):
    note = sign_checkpoint(ORIGIN, 3, ROOT, WHEN, signer)
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(note.replace("\n3\n", "\n4\n"), signer.verifier_key)
    # The impostor's signature relabelled with the genuine key id.
    forged = sign_checkpoint(ORIGIN, 4, ROOT, WHEN, Signer.generate(ORIGIN))
    body, sig_line = forged.split("\n\n")
    blob = base64.b64decode(sig_line.split(" ")[2])
    relabelled = signer.key_id.to_bytes(4, "big") + blob[4:]
    forged = f"{body}\n\n— {ORIGIN} {base64.b64encode(relabelled).decode()}\n"
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(forged, signer.verifier_key)


def _resign(body: str, signer: Signer) -> str:
    """Sign an arbitrary body, bypassing the checkpoint formatter."""
    return sign_note(body, signer)


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n12\n{ROOT_B64}\n",  # no time line
        f"{ORIGIN}\n012\n{ROOT_B64}\n{T}\n",
        f"{ORIGIN}\n+12\n{ROOT_B64}\n{T}\n",
        f"{ORIGIN}\n1_2\n{ROOT_B64}\n{T}\n",
        f"{ORIGIN}\n١٢\n{ROOT_B64}\n{T}\n",  # non-ASCII digits
        f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n{T}\n",
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT[:31]).decode()}\n{T}\n",
        f"{ORIGIN}\n12\n{URLSAFE_ROOT}\n{T}\n",
        f"{ORIGIN}\n12\n{NON_CANONICAL_ROOT}\n{T}\n",
        f"{ORIGIN}\n12\n{ROOT_B64}\ntime 2024-05-01 12:30:15Z\n",
        f"{ORIGIN}\n12\n{ROOT_B64}\ntime 2024-05-01T12:30:15+00:00\n",
        f"{ORIGIN}\n12\n{ROOT_B64}\ntime 2024-02-30T12:30:15Z\n",
        f"{ORIGIN}\n12\n{ROOT_B64}\nwhen 2024-05-01T12:30:15Z\n",
        f"{ORIGIN}\n12\n{ROOT_B64}\n{T}\nextra\n",
    ],
)
def test_malformed_checkpoint_bodies_are_rejected_even_when_signed(body, signer):
    note = _resign(body, signer)
    verify_note(note, signer.verifier_key)  # the envelope is fine ...
    with pytest.raises(CheckpointError, match="checkpoint"):
        verify_checkpoint(note, signer.verifier_key)  # ... the body is not
    with pytest.raises(CheckpointError):
        parse_checkpoint(note)


def test_empty_origin_is_rejected(signer):
    with pytest.raises(CheckpointError):
        parse_checkpoint(f"\n1\n{ROOT_B64}\ntime 2024-05-01T12:30:15Z\n\n" + PETER_SIG)
    with pytest.raises(ValueError, match="origin"):
        sign_checkpoint("", 1, ROOT, WHEN, signer)
    with pytest.raises(ValueError, match="origin"):
        sign_checkpoint("a\nb", 1, ROOT, WHEN, signer)


def test_signer_pem_round_trip(tmp_path, signer):
    path = tmp_path / "key.pem"
    path.write_bytes(signer.to_pem())
    loaded = Signer.from_pem_file(ORIGIN, path)
    assert loaded.verifier_key == signer.verifier_key
    assert "PRIVATE" not in repr(loaded)
    with pytest.raises(ValueError, match="key name"):
        Signer("bad name", bytes(32))
    with pytest.raises(ValueError, match="32 bytes"):
        Signer(ORIGIN, bytes(31))


def test_checkpoint_dataclass_body_matches_signed_text(signer):
    cp = Checkpoint(ORIGIN, 1, ROOT, WHEN)
    note = sign_checkpoint(ORIGIN, 1, ROOT, WHEN, signer)
    assert parse_note(note).text == cp.body

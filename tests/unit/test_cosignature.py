"""Witness cosignatures, checked against the C2SP tlog-cosignature text itself.

The expected bytes are built here from the specification with nothing but hashlib and
the Ed25519 primitive, so the module under test cannot agree with itself by accident.
"""

import base64
import hashlib
import os
import stat
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.checkpoint import (
    CheckpointError,
    Signer,
    VerifierKey,
    sign_checkpoint,
    verify_checkpoint,
)
from ledger.audit.cosignature import (
    Cosigner,
    check_cosignatures,
    parse_witness_key,
    signature_lines,
    with_cosignatures,
)

SEED = bytes(range(32))
NAME = "witness.example/w1"
BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def spec_key_id(name: str, public: bytes) -> bytes:
    # "SHA-256(<name> || "\n" || 0x04 || 32-byte Ed25519 cosigner public key)[:4]"
    return hashlib.sha256(name.encode() + b"\n" + b"\x04" + public).digest()[:4]


def spec_line(seed: bytes, name: str, body: str, timestamp: int) -> str:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes_raw()
    message = b"cosignature/v1\n" + f"time {timestamp}\n".encode() + body.encode()
    blob = spec_key_id(name, public) + timestamp.to_bytes(8, "big") + key.sign(message)
    return f"— {name} {base64.b64encode(blob).decode()}\n"


def test_a_cosignature_line_is_byte_for_byte_the_c2sp_format():
    cosigner = Cosigner(NAME, SEED)
    assert cosigner.cosign(BODY, 1679315147) == spec_line(SEED, NAME, BODY, 1679315147)


def test_the_verifier_key_is_a_type_0x04_vkey_with_the_spec_key_id():
    cosigner = Cosigner(NAME, SEED)
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    name, hex_id, key = cosigner.verifier_key.split("+", 2)
    assert name == NAME
    assert bytes.fromhex(hex_id) == spec_key_id(NAME, public)
    assert base64.b64decode(key) == b"\x04" + public
    assert parse_witness_key(cosigner.verifier_key) == cosigner.verifier


def test_a_log_key_is_not_a_witness_key_and_back():
    log_key = Signer("example.com/log", SEED).verifier_key
    with pytest.raises(CheckpointError, match="type 0x04"):
        parse_witness_key(log_key)
    with pytest.raises(CheckpointError, match="type 0x01"):
        VerifierKey.parse(Cosigner(NAME, SEED).verifier_key)


def test_a_valid_cosignature_counts_and_others_keys_are_ignored():
    w1, w2, stranger = Cosigner(NAME, SEED), Cosigner.generate("w2"), Cosigner.generate("w3")
    log = Signer.generate("example.com/log")
    signed = sign_checkpoint("example.com/log", 5, b"\1" * 32, datetime.now(UTC), log)
    body = signed.split("\n\n")[0] + "\n"
    note = with_cosignatures(signed, [w1.cosign(body), stranger.cosign(body)])
    check = check_cosignatures(note, [w1.verifier, w2.verifier])
    assert set(check.valid) == {NAME}
    assert check.missing == ("w2",)
    assert check.met(1)
    assert not check.met(2)
    # The log's own signature still verifies with witness lines appended.
    assert verify_checkpoint(note, log.verifier).size == 5


def test_a_cosignature_over_another_body_or_time_does_not_verify():
    w1 = Cosigner(NAME, SEED)
    log = Signer.generate("example.com/log")
    signed = sign_checkpoint("example.com/log", 5, b"\1" * 32, datetime.now(UTC), log)
    other = sign_checkpoint("example.com/log", 6, b"\2" * 32, datetime.now(UTC), log)
    other_body = other.split("\n\n")[0] + "\n"
    forged = with_cosignatures(signed, [w1.cosign(other_body)])
    check = check_cosignatures(forged, [w1.verifier])
    assert not check.valid
    assert "does not verify" in check.invalid[NAME]

    # Re-dating a real cosignature breaks it: the time is part of what was signed.
    body = signed.split("\n\n")[0] + "\n"
    line = w1.cosign(body, 1_700_000_000)
    blob = bytearray(base64.b64decode(line.split()[-1]))
    blob[4:12] = (1_700_000_001).to_bytes(8, "big")
    redated = f"— {NAME} {base64.b64encode(bytes(blob)).decode()}\n"
    assert NAME in check_cosignatures(with_cosignatures(signed, [redated]), [w1.verifier]).invalid


def test_a_cosignature_dated_in_the_future_or_out_of_range_is_refused():
    w1 = Cosigner(NAME, SEED)
    log = Signer.generate("example.com/log")
    signed = sign_checkpoint("example.com/log", 5, b"\1" * 32, datetime.now(UTC), log)
    body = signed.split("\n\n")[0] + "\n"
    now = 1_800_000_000
    future = with_cosignatures(signed, [w1.cosign(body, now + 3600)])
    assert "future" in check_cosignatures(future, [w1.verifier], now=now).invalid[NAME]
    with pytest.raises(ValueError, match="timestamp"):
        w1.cosign(body, 2**63)


def test_one_bad_line_taints_a_witness_even_beside_a_good_one():
    w1 = Cosigner(NAME, SEED)
    log = Signer.generate("example.com/log")
    signed = sign_checkpoint("example.com/log", 5, b"\1" * 32, datetime.now(UTC), log)
    body = signed.split("\n\n")[0] + "\n"
    good = w1.cosign(body)
    blob = bytearray(base64.b64decode(good.split()[-1]))
    blob[-1] ^= 1
    bad = f"— {NAME} {base64.b64encode(bytes(blob)).decode()}\n"
    check = check_cosignatures(with_cosignatures(signed, [good, bad]), [w1.verifier])
    assert not check.valid
    assert NAME in check.invalid


def test_the_key_file_round_trips_is_private_and_never_overwritten(tmp_path):
    cosigner = Cosigner(NAME, SEED)
    path = tmp_path / "w.key"
    cosigner.write_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().startswith(f"PRIVATE+KEY+{NAME}+")
    assert Cosigner.from_key_file(path).verifier_key == cosigner.verifier_key
    with pytest.raises(FileExistsError):
        Cosigner.generate("other").write_key_file(path)
    assert "PRIVATE" not in repr(cosigner)


@pytest.mark.parametrize(
    "text",
    [
        "PRIVATE+KEY+w+00000000+AAAA",
        "PUBLIC+KEY+w",
        "PRIVATE+KEY+w1+deadbeef+" + base64.b64encode(b"\x04" + SEED).decode(),  # wrong id
        "PRIVATE+KEY+w1+" + base64.b64encode(b"\x01" + SEED).decode(),
    ],
)
def test_a_malformed_key_file_is_refused(text):
    with pytest.raises(ValueError, match="key"):
        Cosigner.from_key_text(text)


def test_a_witness_response_splits_into_signature_lines():
    w1 = Cosigner(NAME, SEED)
    lines = w1.cosign(BODY) + Cosigner.generate("w2").cosign(BODY)
    assert len(signature_lines(lines)) == 2
    for bad in ["no newline", "not a signature line\n", "— w !!!\n"]:
        with pytest.raises(CheckpointError):
            signature_lines(bad)


def test_one_key_under_two_names_counts_once_towards_a_quorum():
    """The Ed25519 message does not sign the witness's name: a line can be relabelled."""
    log = Signer.generate("example.com/log")
    signed = sign_checkpoint("example.com/log", 5, b"\1" * 32, datetime.now(UTC), log)
    body = signed.split("\n\n")[0] + "\n"
    real, alias = Cosigner("w1", SEED), Cosigner("w1-alias", SEED)
    note = with_cosignatures(
        signed, [real.cosign(body, 1_700_000_000), alias.cosign(body, 1_700_000_000)]
    )
    check = check_cosignatures(note, [real.verifier, alias.verifier])
    assert len(check.valid) == 1
    assert not check.met(2)

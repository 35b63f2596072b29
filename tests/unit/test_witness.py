"""The witness speaks C2SP tlog-witness: every status the spec names, for the reason it
names, through the HTTP app, with its state in a real SQLite file."""

import base64
import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.witness import create_witness_app
from ledger.audit.checkpoint import Signer, sign_checkpoint, sign_note
from ledger.audit.cosignature import Cosigner, check_cosignatures, with_cosignatures
from ledger.audit.merkle import MemoryNodeStore, consistency_proof, leaf_hash, root_at
from ledger.audit.witness import Witness, WitnessState

ORIGIN = "trygg-ledger/0123456789abcdef"


class Log:
    """A log's side: leaves, signed checkpoints, consistency proofs."""

    def __init__(self, signer: Signer, tag: bytes = b"") -> None:
        self.signer = signer
        self.tag = tag
        self.hashes: list[bytes] = []

    def grow(self, n: int) -> None:
        start = len(self.hashes)
        self.hashes += [leaf_hash(self.tag + b"event %d" % i) for i in range(start, start + n)]

    def root(self, size: int) -> bytes:
        return root_at(size, MemoryNodeStore.from_leaf_hashes(self.hashes[:size]))

    def checkpoint(self, size: int | None = None) -> str:
        size = len(self.hashes) if size is None else size
        return sign_checkpoint(ORIGIN, size, self.root(size), datetime.now(UTC), self.signer)

    def proof(self, old: int, new: int) -> list[bytes]:
        if old == 0 or old == new:
            return []
        return consistency_proof(old, new, MemoryNodeStore.from_leaf_hashes(self.hashes[:new]))

    def request(self, old: int, size: int | None = None, proof: list[bytes] | None = None) -> bytes:
        size = len(self.hashes) if size is None else size
        proof = self.proof(old, size) if proof is None else proof
        lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        return f"old {old}\n{lines}\n{self.checkpoint(size)}".encode()


@pytest.fixture
def log_signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def witness(tmp_path, log_signer) -> Witness:
    return Witness(
        Cosigner.generate("w1.example"), [log_signer.verifier], WitnessState(tmp_path / "w.db")
    )


@pytest.fixture
def http(witness) -> TestClient:
    return TestClient(create_witness_app(witness))


def post(http: TestClient, body: bytes):
    return http.post("/add-checkpoint", content=body)


def test_a_first_checkpoint_is_cosigned_with_a_line_that_verifies(http, witness, log_signer):
    log = Log(log_signer)
    log.grow(5)
    body = log.request(0)
    r = post(http, body)
    assert r.status_code == 200, r.text
    sent = body.decode().split("\n\n", 1)[1]
    check = check_cosignatures(with_cosignatures(sent, [r.text]), [witness.cosigner.verifier])
    assert set(check.valid) == {"w1.example"}


def test_growth_with_a_valid_consistency_proof_is_cosigned(http, log_signer):
    log = Log(log_signer)
    log.grow(5)
    assert post(http, log.request(0)).status_code == 200
    for more in (1, 7, 50):
        old = len(log.hashes)
        log.grow(more)
        r = post(http, log.request(old))
        assert r.status_code == 200, r.text


def test_an_unknown_origin_is_404(http):
    stranger = Signer.generate("example.com/another-log")
    cp = sign_checkpoint("example.com/another-log", 1, leaf_hash(b"x"), datetime.now(UTC), stranger)
    assert post(http, f"old 0\n\n{cp}".encode()).status_code == 404


def test_a_checkpoint_not_signed_by_the_logs_key_is_403(http):
    impostor = Log(Signer.generate(ORIGIN))  # same origin, another key
    impostor.grow(3)
    assert post(http, impostor.request(0)).status_code == 403


def test_an_old_size_beyond_the_checkpoint_is_400(http, log_signer):
    log = Log(log_signer)
    log.grow(3)
    assert post(http, log.request(4, size=3, proof=[])).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 0\n",
        b"new 0\n\n",
        b"old 01\n\nx\n",
        b"old -1\n\nx\n",
        b"old 0\nnot base64!\n\nx\n",
        b"old 0\n" + base64.b64encode(b"short") + b"\n\nx\n",
        b"old 0\n\nnot a note\n",
        b"\xff\xfe",
    ],
)
def test_a_malformed_request_is_400(http, body):
    assert post(http, body).status_code == 400


def test_more_than_63_proof_lines_is_400(http, log_signer):
    log = Log(log_signer)
    log.grow(3)
    lines = (base64.b64encode(b"\0" * 32).decode() + "\n") * 64
    assert post(http, f"old 0\n{lines}\n{log.checkpoint()}".encode()).status_code == 400


def test_a_wrong_old_size_is_409_with_the_known_size(http, log_signer):
    log = Log(log_signer)
    log.grow(8)
    assert post(http, log.request(0)).status_code == 200
    log.grow(2)
    r = post(http, log.request(5))
    assert r.status_code == 409
    assert r.text == "8\n"
    assert r.headers["content-type"] == "text/x.tlog.size"


def test_a_bad_consistency_proof_is_422_and_not_kept(http, witness, log_signer):
    """Anyone can attach a junk proof to a public checkpoint: that proves nothing."""
    log = Log(log_signer)
    log.grow(8)
    assert post(http, log.request(0)).status_code == 200
    log.grow(3)
    proof = log.proof(8, 11)
    proof[0] = bytes(32)
    assert post(http, log.request(8, proof=proof)).status_code == 422
    assert witness.state.evidence() == []


def test_a_proof_from_zero_must_be_empty(http, log_signer):
    log = Log(log_signer)
    log.grow(4)
    assert post(http, log.request(0, proof=[leaf_hash(b"x")])).status_code == 422


def test_same_size_same_root_is_cosigned_again_different_root_is_409(http, witness, log_signer):
    log = Log(log_signer)
    log.grow(6)
    assert post(http, log.request(0)).status_code == 200
    assert post(http, log.request(6)).status_code == 200  # a fresh cosignature, newer time
    fork = Log(log_signer, tag=b"fork ")
    fork.grow(6)
    # One request sent twice: a new request a second later carries a new time line.
    forked = fork.request(6)
    r = post(http, forked)
    assert r.status_code == 409
    assert r.text == "6\n"
    # Two log-signed roots for one size prove a fork: kept, once, as signed by the log.
    post(http, forked)
    (kept,) = witness.state.evidence()
    assert kept["reason"] == "same size, different root: a fork"
    assert kept["request"].startswith(ORIGIN + "\n6\n")


def test_a_split_view_gets_no_cosignature(http, witness, log_signer):
    """The log signs a second history of another size: not an extension of what the
    witness saw, so no proof can make it one."""
    log = Log(log_signer)
    log.grow(10)
    assert post(http, log.request(0)).status_code == 200
    fork = Log(log_signer, tag=b"fork ")
    fork.grow(12)
    r = post(http, fork.request(10))  # a proof from the fork's own size 10
    assert r.status_code == 422
    assert witness.state.logs()[0].size == 10


def test_a_restarted_witness_remembers_what_it_cosigned(tmp_path, log_signer):
    cosigner = Cosigner.generate("w1.example")
    log = Log(log_signer)
    log.grow(9)
    first = TestClient(
        create_witness_app(
            Witness(cosigner, [log_signer.verifier], WitnessState(tmp_path / "w.db"))
        )
    )
    assert post(first, log.request(0)).status_code == 200
    again = TestClient(
        create_witness_app(
            Witness(cosigner, [log_signer.verifier], WitnessState(tmp_path / "w.db"))
        )
    )
    r = post(again, log.request(0))
    assert (r.status_code, r.text) == (409, "9\n")
    about = again.get("/").json()
    assert about["logs"][0]["origin"] == ORIGIN
    assert about["logs"][0]["size"] == 9


def test_concurrent_requests_never_roll_the_state_back(tmp_path, log_signer):
    """Many requests from the same old size race: exactly one wins, and the stored size
    is the one that won (the check and the write are one transaction)."""
    cosigner = Cosigner.generate("w1.example")
    log = Log(log_signer)
    log.grow(4)
    state = WitnessState(tmp_path / "w.db")
    witnesses = [Witness(cosigner, [log_signer.verifier], state) for _ in range(2)]
    assert witnesses[0].add_checkpoint(log.request(0))
    log.grow(40)
    bodies = [log.request(4, size=5 + n) for n in range(20)]
    wins: list[int] = []
    refusals: list[int] = []

    def submit(n: int) -> None:
        try:
            witnesses[n % 2].add_checkpoint(bodies[n])
            wins.append(5 + n)
        except Exception as exc:
            refusals.append(getattr(exc, "status", 0))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert set(refusals) == {409}
    assert state.logs()[0].size == wins[0]


def test_a_checkpoint_with_extension_lines_from_another_log_is_cosigned(tmp_path):
    """Any C2SP log, not only this ledger: extension lines are part of what is cosigned."""
    signer = Signer.generate("example.com/other")
    witness = Witness(Cosigner.generate("w"), [signer.verifier], WitnessState(tmp_path / "w.db"))
    root = base64.b64encode(leaf_hash(b"a")).decode()
    note = sign_note(f"example.com/other\n1\n{root}\nextension one\nextension two\n", signer)
    line = witness.add_checkpoint(f"old 0\n\n{note}".encode())
    check = check_cosignatures(with_cosignatures(note, [line]), [witness.cosigner.verifier])
    assert "w" in check.valid


def test_a_first_checkpoint_of_size_zero_must_have_the_empty_root(http, log_signer):
    bogus = sign_checkpoint(ORIGIN, 0, leaf_hash(b"x"), datetime.now(UTC), log_signer)
    r = post(http, f"old 0\n\n{bogus}".encode())
    assert r.status_code == 409
    assert r.text == "0\n"


def test_a_failing_signature_by_the_logs_key_rejects_the_note(http, log_signer):
    log = Log(log_signer)
    log.grow(3)
    note = log.checkpoint()
    good = note.rsplit("\n", 2)[-2]
    blob = bytearray(base64.b64decode(good.split()[-1]))
    blob[-1] ^= 1
    bad = f"— {ORIGIN} {base64.b64encode(bytes(blob)).decode()}\n"
    assert post(http, f"old 0\n\n{note}{bad}".encode()).status_code == 403


def test_the_witness_keeps_only_the_logs_verified_signatures(http, witness, log_signer):
    log = Log(log_signer)
    log.grow(3)
    stranger = Cosigner.generate("someone.else")
    note = log.checkpoint()
    body = note.split("\n\n")[0] + "\n"
    padded = with_cosignatures(note, [stranger.cosign(body)])
    assert post(http, f"old 0\n\n{padded}".encode()).status_code == 200
    (state,) = witness.state.logs()
    assert state.note == note
    assert "someone.else" not in http.get("/").text


def test_a_tree_larger_than_the_state_can_hold_is_400(http, log_signer):
    cp = sign_checkpoint(ORIGIN, 2**63, leaf_hash(b"x"), datetime.now(UTC), log_signer)
    assert post(http, f"old 0\n\n{cp}".encode()).status_code == 400

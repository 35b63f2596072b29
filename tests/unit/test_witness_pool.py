"""The ledger's side of witnessing, against scripted witness answers: it keeps only a
valid cosignature by the witness's own key, and one odd answer never stops the others."""

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import create_engine, insert

from ledger.audit.checkpoint import Signer, sign_checkpoint
from ledger.audit.cosignature import Cosigner
from ledger.audit.store import checkpoints
from ledger.audit.witnesses import (
    WitnessConfig,
    WitnessConfigError,
    WitnessPool,
    parse_witnesses,
)

LOG = Signer.generate("trygg-ledger/0011223344556677")


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    yield engine
    engine.dispose()


def a_checkpoint(engine, size: int = 5) -> dict:
    issued = datetime.now(UTC).replace(microsecond=0)
    note = sign_checkpoint(LOG.name, size, b"\1" * 32, issued, LOG)
    with engine.begin() as conn:
        row = conn.execute(
            insert(checkpoints).values(
                tree_size=size, root_hash=b"\1" * 32, issued_at=issued, note=note
            )
        ).inserted_primary_key
    return {"id": row[0], "tree_size": size, "note": note}


def pool_answering(engine, witnesses, answer) -> WitnessPool:
    configs = [WitnessConfig(f"http://{w.name}", w.verifier) for w in witnesses]
    return WitnessPool(
        configs,
        engine,
        proof=lambda old, new: [],
        transport=httpx.MockTransport(answer),
    )


def body_of(request: httpx.Request) -> str:
    note = request.content.decode().split("\n\n", 1)[1]
    return note.split("\n\n")[0] + "\n"


def test_a_foreign_line_before_the_witness_own_is_ignored(engine):
    witness, other = Cosigner.generate("w1"), Cosigner.generate("w1")  # same name, other key
    pool = pool_answering(
        engine,
        [witness],
        lambda r: httpx.Response(200, text=other.cosign(body_of(r)) + witness.cosign(body_of(r))),
    )
    cp = a_checkpoint(engine)
    (outcome,) = pool.gather(cp)
    assert outcome.ok, outcome.detail
    assert pool.status(cp)["witnessed"] == 1


def test_an_answer_without_a_valid_line_is_an_error_not_a_cosignature(engine):
    witness, other = Cosigner.generate("w1"), Cosigner.generate("w1")
    pool = pool_answering(
        engine, [witness], lambda r: httpx.Response(200, text=other.cosign(body_of(r)))
    )
    cp = a_checkpoint(engine)
    (outcome,) = pool.gather(cp)
    assert not outcome.ok
    assert "without a valid cosignature" in pool.status(cp)["witnesses"][0]["last_error"]


def test_one_witness_odd_answer_never_stops_the_others(engine):
    good, odd = Cosigner.generate("good"), Cosigner.generate("odd")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "odd":
            return httpx.Response(200, text="— odd " + "A" * 4000 + "\n")  # not ours, too long
        return httpx.Response(200, text=good.cosign(body_of(request)))

    pool = pool_answering(engine, [good, odd], answer)
    cp = a_checkpoint(engine)
    outcomes = {o.witness: o.ok for o in pool.gather(cp)}
    assert outcomes == {"good": True, "odd": False}


def test_a_refusal_and_an_unreachable_witness_are_recorded_with_their_reason(engine):
    refusing, down = Cosigner.generate("refusing"), Cosigner.generate("down")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down":
            raise httpx.ConnectError("connection refused")
        return httpx.Response(422, text="the consistency proof from size 3 does not verify\n")

    pool = pool_answering(engine, [refusing, down], answer)
    cp = a_checkpoint(engine)
    pool.gather(cp)
    errors = {w["name"]: w["last_error"] for w in pool.status(cp)["witnesses"]}
    assert errors["refusing"].startswith("HTTP 422")
    assert errors["down"].startswith("unreachable")


def test_witnesses_config_is_checked_with_clear_errors():
    w1, w2 = Cosigner.generate("w1"), Cosigner.generate("w2")
    assert [
        w.name
        for w in parse_witnesses(f"https://a/ {w1.verifier_key}, https://b {w2.verifier_key}")
    ] == ["w1", "w2"]
    assert parse_witnesses("") == []
    for bad, why in [
        (f"https://a/ {w1.verifier_key} extra", "two words"),
        (f"ftp://a/ {w1.verifier_key}", "http"),
        ("https://a/ not-a-key", "entry 1"),
        (f"https://a/ {LOG.verifier_key}", "type 0x04"),
        (f"https://a/ {w1.verifier_key}, https://b/ {w1.verifier_key}", "twice"),
    ]:
        with pytest.raises(WitnessConfigError, match=why):
            parse_witnesses(bad)
    relabelled = Cosigner(  # the same key under another name would count twice
        "w1-again", bytes(32)
    )
    same = Cosigner("w1", bytes(32))
    with pytest.raises(WitnessConfigError, match="reuses the public key"):
        parse_witnesses(f"https://a/ {same.verifier_key}, https://b/ {relabelled.verifier_key}")

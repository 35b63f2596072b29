"""The vocabulary: what a commitment can promise."""

from ledger.taxonomy import SITUATION_REPORT, ActivityKind, CommitmentKind


def test_a_commitment_can_promise_every_activity_kind_and_reports_to_the_lagesbild():
    assert {k.value for k in CommitmentKind} == {k.value for k in ActivityKind} | {SITUATION_REPORT}

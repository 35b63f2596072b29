"""Does the ledger's history still contain a checkpoint someone saved?

What a resident, a journalist or an auditor can check with no account and no database:
the saved checkpoint and the latest are both signed by the log's key, share its origin,
and the consistency proof between them holds (RFC 9162 §2.1.4.2). Pure: the caller
fetches the latest note and the proof (``trygg check-saved`` does it over HTTP from the
public endpoints).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.audit.checkpoint import CheckpointError, verify_checkpoint
from ledger.audit.merkle import verify_consistency


@dataclass(frozen=True)
class SavedCheck:
    ok: bool
    message: str
    saved_size: int = 0
    latest_size: int = 0


def check_saved(saved_note: str, latest_note: str, key: str, proof: Sequence[bytes]) -> SavedCheck:
    """Whether ``latest_note`` extends ``saved_note`` by ``proof``, both signed by ``key``."""
    try:
        saved = verify_checkpoint(saved_note, key)
    except CheckpointError as e:
        return SavedCheck(False, f"the saved checkpoint is not signed by that key: {e}")
    try:
        latest = verify_checkpoint(latest_note, key)
    except CheckpointError as e:
        return SavedCheck(False, f"the latest checkpoint is not signed by that key: {e}")
    if saved.origin != latest.origin:
        return SavedCheck(
            False, f"different logs: {saved.origin!r} was saved, {latest.origin!r} is served"
        )
    if latest.size < saved.size:
        return SavedCheck(
            False,
            f"the log shrank: {saved.size} events were signed before, {latest.size} now",
            saved.size,
            latest.size,
        )
    if not verify_consistency(saved.size, latest.size, saved.root, latest.root, proof):
        return SavedCheck(
            False,
            f"the history was rewritten: the log of {latest.size} events does not extend the "
            f"saved one of {saved.size}",
            saved.size,
            latest.size,
        )
    return SavedCheck(
        True,
        f"the log of {latest.size} events extends the saved checkpoint of {saved.size}: "
        "nothing signed then has changed",
        saved.size,
        latest.size,
    )

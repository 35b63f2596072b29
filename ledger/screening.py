"""Screening of free text for personal data (DESIGN.md, "Data protection").

The ledger records what was done where and when, never who. Free text is short
and about places; anything that *looks like* a personal identity number, an
e-mail address, a phone number or a Swedish vehicle plate is refused with a
reason the partner can act on. False positives are acceptable (rephrase the
note); storing personal data in an append-only public record is not.
"""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

PERSONAL_DATA = "personal_data"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "looks like a personal identity number (personnummer/samordningsnummer)",
        # YYMMDD-NNNN or YYYYMMDDNNNN; day 61–91 is a samordningsnummer.
        re.compile(
            r"(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
            r"\s?[-+]?\s?\d{4}(?!\d)"
        ),
    ),
    ("looks like an e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (
        "looks like a phone number",
        re.compile(r"(?<![\w-])(?:\+|00)\d[\d\s-]{6,}\d|(?<![\w-])0\d{1,3}[\s-]?\d[\d\s-]{4,}\d"),
    ),
    (
        "looks like a vehicle registration plate",
        re.compile(r"(?<![A-Za-zÅÄÖåäö])[A-HJ-PR-UW-Z]{3}\s?\d{2}[\dA-HJ-PR-UW-Z](?![\w])"),
    ),
)


def personal_data_reason(text: str) -> str | None:
    """Why ``text`` looks like personal data, or ``None`` when it does not."""
    for reason, pattern in _PATTERNS:
        if pattern.search(text):
            return reason + "; describe places and counts, never people"
    return None


def screened(text: str) -> str:
    """A pydantic after-validator: ``text`` unchanged, or a ``personal_data`` error."""
    reason = personal_data_reason(text)
    if reason:
        raise PydanticCustomError(PERSONAL_DATA, reason)
    return text

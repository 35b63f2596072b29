"""Text at the door: every string a command carries is cleaned before anything reads it.

One walk over the raw request data (``clean_tree``) runs before any model validation
(``ledger.inputs.Command``), so no field can be forgotten, however deeply it is nested
(batch items, ``details`` values and keys, correction changes, CSV cells):

* every string is NFC-normalised (the same word typed on two keyboards is the same
  bytes, so hashes, comparisons and screening agree);
* characters that break storage, exports or display are refused with the field named:
  NUL and every other C0/C1 control (PostgreSQL refuses NUL in text, XLSX refuses most
  C0 controls, and a stored event can never be changed), unpaired surrogates (not
  encodable as UTF-8), the non-characters U+FFFE/U+FFFF, and the bidirectional
  overrides and isolates (U+202A–U+202E, U+2066–U+2069) that make text read
  differently from what it is. Tab and newline are allowed only in multi-line fields
  (notes, reasons, descriptions), where CR LF is first folded to LF;
* every free-text value is screened for personal data (``ledger.screening``); a
  partner's identifiers (``external_id``) for identity numbers, phone numbers and e-mail
  addresses; values of structured fields (codes, enums, timestamps), which their own
  types constrain, are not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ledger.screening import IDENTIFIER_CHECKS, personal_data_reason

INVALID_TEXT = "invalid_text"
PERSONAL_DATA = "personal_data"

#: Fields whose text may span lines (tab and newline allowed).
MULTILINE_FIELDS = frozenset(
    {"note", "reason", "description", "text", "reply", "problem", "rationale", "finding"}
)
#: Partner-chosen identifiers: keys, not prose (see ``IDENTIFIER_CHECKS``).
IDENTIFIER_FIELDS = frozenset({"external_id"})
#: Fields whose values are codes, enums or timestamps: constrained by their own types,
#: so screening them for personal data would only cost time and false alarms.
STRUCTURED_FIELDS = frozenset(
    {
        "kind",
        "category",
        "station",
        "stations",
        "actor",
        "parties",
        "owner",
        "zone",
        "zones",
        "place",
        "severity",
        "status",
        "per",
        "metric",
        "mode",
        "focus",
        "measure",
        "responsible",
        "finding",
        "code",
        "started_at",
        "ended_at",
        "observed_at",
        "due",
        "period_start",
        "period_end",
        "promise",
        "plan",
        "fields",
        "municipality_code",
    }
)

#: Longer than any field allows (the longest take 1,000): refused before it is screened,
#: so one request cannot make the screening work for long.
MAX_TEXT = 10_000
#: Deeper than any command nests (a batch item's details: 3 levels).
MAX_DEPTH = 16

_FORBIDDEN_SINGLE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_FORBIDDEN_MULTILINE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


@dataclass(frozen=True)
class TextProblem:
    """One refused string: where (a path of keys and indexes), why, and the error type."""

    loc: tuple[str | int, ...]
    reason: str
    type: str = INVALID_TEXT


def describe(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate (U+{code:04X})"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return f"a bidirectional control character (U+{code:04X})"
    if char in "\t\n\r":
        return f"a line break or tab (U+{code:04X}), which this single-line field cannot hold"
    if code in (0xFFFE, 0xFFFF):
        return f"a non-character (U+{code:04X})"
    return f"a control character (U+{code:04X})"


def clean_text(value: str, *, multiline: bool) -> tuple[str, str | None]:
    """``value`` NFC-normalised (line ends folded in multi-line text), and why it is
    refused (``None`` when it is fine)."""
    if len(value) > MAX_TEXT:
        return value, f"is longer than {MAX_TEXT} characters"
    if multiline and "\r" in value:
        value = value.replace("\r\n", "\n")
    forbidden = _FORBIDDEN_MULTILINE if multiline else _FORBIDDEN_SINGLE_LINE
    bad = forbidden.search(value)
    if bad is not None:
        return value, f"contains {describe(bad.group())}, which is not allowed"
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return value, None


def _field_name(loc: tuple[str | int, ...]) -> str | None:
    for part in reversed(loc):
        if isinstance(part, str):
            return part
    return None


class Cleaned(dict[str, Any]):
    """An object ``clean_tree`` has already cleaned and screened. Commands nested in a
    command (a batch's items) receive these and do not clean them again: their text was
    checked once, at the door, with its full path (measured: a 1,000-item batch's
    validation spent 93 % of its time cleaning, every item twice)."""


def clean_tree(
    data: Any, loc: tuple[str | int, ...] = (), problems: list[TextProblem] | None = None
) -> tuple[Any, list[TextProblem]]:
    """A copy of ``data`` (JSON-like: dicts, lists, strings, numbers) with every string
    and key cleaned, and every problem found (all of them, not just the first). Every
    dict in the copy is ``Cleaned``."""
    if problems is None:
        problems = []
    return _clean(data, loc, _field_name(loc), problems), problems


def _clean(
    data: Any, loc: tuple[str | int, ...], name: str | None, problems: list[TextProblem]
) -> Any:
    """``clean_tree``'s walk; ``name`` is the innermost field name on ``loc`` (a list's
    items are screened as the field that holds them)."""
    if len(loc) > MAX_DEPTH:
        problems.append(TextProblem(loc, f"is nested more than {MAX_DEPTH} levels deep"))
        return None
    if isinstance(data, str):
        text, why = clean_text(data, multiline=name in MULTILINE_FIELDS)
        if why is not None:
            problems.append(TextProblem(loc, why))
        elif name not in STRUCTURED_FIELDS:
            only = IDENTIFIER_CHECKS if name in IDENTIFIER_FIELDS else None
            reason = personal_data_reason(text, only)
            if reason is not None:
                problems.append(TextProblem(loc, reason, PERSONAL_DATA))
        return text
    if isinstance(data, dict):
        out = Cleaned()
        for key, value in data.items():
            if isinstance(key, str):
                key, why = clean_text(key, multiline=False)
                if why is not None:
                    problems.append(TextProblem((*loc, key), f"the field name {why}"))
                out[key] = _clean(value, (*loc, key), key, problems)
            else:
                out[key] = _clean(value, (*loc, key), name, problems)
        return out
    if isinstance(data, list | tuple):
        return [_clean(v, (*loc, i), name, problems) for i, v in enumerate(data)]
    return data

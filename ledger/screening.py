"""Screening of free text for personal data (DESIGN.md, "Data protection").

The ledger records what was done where and when, never who. Free text is short and
about places; anything that *looks like* a personal identity number, an e-mail
address, a phone number or a Swedish vehicle plate is refused with a reason the
partner can act on.

The text is first brought to one plain form (``plain``): compatibility forms folded
(NFKC: full-width digits and letters), format characters dropped (zero-width spaces
and joiners, soft hyphens), every Unicode dash, space and decimal digit of any script
mapped to its ASCII counterpart. Then:

* **personnummer / samordningsnummer**: 10 or 12 digits in groups joined by at most one
  separator each (``-``, ``+``, space, ``.``, ``/``) or none, forming a real date
  (day + 60 for a samordningsnummer) and passing the Luhn check, which also keeps
  dates and times in ordinary notes from being taken for identity numbers;
* **phone numbers**: ``+46`` / ``0046`` with 7–9 more digits, or a national number of
  9–10 digits starting with ``0`` (8 when written ``0AA-…``), in any grouping with
  spaces, dashes, dots, slashes or brackets; a date or a time range is not a number;
* **e-mail addresses**: ``@`` and its spelled-out forms (``(at)``, ``[at]``, `` at ``,
  ``snabel-a``; ``(dot)``, `` dot ``, `` punkt ``);
* **vehicle plates**: three letters (not I, Q, V) and two digits and a digit or letter
  (``ABC 123``, ``ABC-12D``, ``abc123``), in any case, except for a few ordinary words
  written in lower case before a number (``per 100``).

False positives are acceptable (rephrase the note); storing personal data in an
append-only public record is not. The labelled corpus in
``tests/unit/test_screening_corpus.py`` measures both.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange

from pydantic_core import PydanticCustomError

PERSONAL_DATA = "personal_data"
ADVICE = "; describe places and counts, never people"
#: What a person (a resident, a partner's user) is told when text is refused, in both
#: languages of the service.
EXPLANATION = {
    "sv": "Texten ser ut att innehålla personuppgifter (till exempel ett personnummer, ett "
    "telefonnummer, en e-postadress eller ett registreringsnummer). Ta bort dem och skicka "
    "igen: beskriv platser och vad som kan bli bättre, inte personer.",
    "en": "The text seems to hold personal data (such as an identity number, a phone number, "
    "an e-mail address or a number plate). Remove it and send again: describe places and "
    "what could be better, not people.",
}

IDENTITY = "looks like a personal identity number (personnummer/samordningsnummer)"
EMAIL = "looks like an e-mail address or a user handle"
PHONE = "looks like a phone number"
PLATE = "looks like a vehicle registration plate"

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d\u2e3a\u2e3b"


def plain(text: str) -> str:
    """The form screening reads: NFKC, no format characters, ASCII dashes, spaces, digits."""
    if text.isascii():
        return text.replace("\t", " ").replace("\n", " ")
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isascii():
            out.append(" " if ch in "\t\n\r" else ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        if category == "Pd" or ch in _DASHES:
            out.append("-")
        elif category in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif category == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        elif ch == "\uff20" or ch == "\ufe6b":  # full-width and small commercial at
            out.append("@")
        else:
            out.append(ch)
    return "".join(out)


# -- identity numbers ------------------------------------------------------------------------

# Every pattern starts where a match may start (a look-behind) and never backtracks into
# a run it has taken: screening time stays linear in the length of the text.
_DIGIT_CHAIN = re.compile(r"(?<!\d)\d++(?:(?: *[-+./] *| +)\d++)*+")
_GROUP = re.compile(r"\d+")


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(digits):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _real_date(year: int, month: int, day: int) -> bool:
    if day > 60:
        day -= 60  # samordningsnummer
    return 1 <= month <= 12 and 1 <= day <= monthrange(year, month)[1]


def is_identity_number(digits: str) -> bool:
    """10 digits ``YYMMDDNNNN`` or 12 ``YYYYMMDDNNNN`` (century 18–20) with a real date
    and a valid Luhn check digit."""
    if len(digits) == 12:
        if digits[:2] not in ("18", "19", "20"):
            return False
        year, rest = int(digits[:4]), digits[2:]
    elif len(digits) == 10:
        year, rest = 2000 + int(digits[:2]), digits
    else:
        return False
    return _real_date(year, int(rest[2:4]), int(rest[4:6])) and _luhn(rest)


def _has_identity_number(text: str) -> bool:
    for chain in _DIGIT_CHAIN.finditer(text):
        groups = _GROUP.findall(chain.group())
        if sum(len(g) for g in groups) < 10:
            continue
        for first in range(len(groups)):
            digits = ""
            for group in groups[first:]:
                digits += group
                if len(digits) > 12:
                    break
                if len(digits) in (10, 12) and is_identity_number(digits):
                    return True
    return False


# -- phone numbers ---------------------------------------------------------------------------

_SEP = r"(?: *[-./] *| +)?"
_INTERNATIONAL = re.compile(
    rf"(?<!\d)(?:(?:\+|00) *-? *46|46(?= *-? *7))(?:{_SEP}0)?(?:{_SEP}\d){{7,9}}(?!\d)"
)
_NATIONAL = re.compile(rf"(?<![\d+])0[1-9](?:{_SEP}\d){{6,8}}(?!\d)")
_DATE_FIRST = re.compile(r"(?:0[1-9]|[12]\d|3[01])[-./](?:0[1-9]|1[0-2])[-./](?:19|20)\d\d")
_TIME_RANGE_FIRST = re.compile(r"(?:[01]\d|2[0-3])[.:][0-5]\d ?-")
_AREA_CODE_FORM = re.compile(r"0\d{1,3}-\d")


def _has_phone_number(text: str) -> bool:
    flat = text.replace("(", " ").replace(")", " ")
    flat = re.sub(r"  +", " ", flat)
    if _INTERNATIONAL.search(flat):
        return True
    for match in _NATIONAL.finditer(flat):
        found = match.group()
        if _DATE_FIRST.match(found) or _TIME_RANGE_FIRST.match(found):
            continue
        digits = sum(c.isdigit() for c in found)
        if digits >= 9 or (digits == 8 and _AREA_CODE_FORM.match(found)):
            return True
    return False


# -- e-mail addresses ------------------------------------------------------------------------

_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|snabel-?a)\s*[)\]}>]\s*|\s+(?:at|snabel-?a)\s+)"
_DOT = r"(?:\.|\s*[(\[{<]\s*(?:dot|punkt)\s*[)\]}>]\s*|\s+(?:dot|punkt)\s+)"
_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]++{_AT}[\w-]++(?:{_DOT}[\w-]++)*{_DOT}[a-z]{{2,}}\b", re.IGNORECASE
)
_BARE_AT = re.compile(r"\w@\w|(?<![\w@])@[A-Za-z_]\w{2,}")


def _has_email(text: str) -> bool:
    return bool(_BARE_AT.search(text) or _EMAIL.search(text))


# -- vehicle plates --------------------------------------------------------------------------

_PLATE = re.compile(
    r"(?<![A-Za-z0-9ÅÄÖåäöÉé])([A-HJ-PR-UW-Z]{3}) ?-? ?(\d{2}[\dA-HJ-PR-UW-Z])(?![A-Za-z0-9ÅÄÖåäö])",
    re.IGNORECASE,
)
#: Ordinary words that may stand before a number in a note ("per 100 m", "max 120").
_WORDS_BEFORE_NUMBERS = frozenset(
    [
        "per",
        "max",
        "min",
        "tot",
        "ant",
        "rum",
        "hus",
        "tre",
        "sex",
        "fem",
        "sju",
        "nio",
        "tio",
        "och",
        "att",
        "det",
        "som",
        "den",
        "man",
        "men",
        "mot",
        "upp",
        "nya",
        "ett",
        "tar",
        "ute",
        "bra",
        "fel",
        "far",
        "ser",
        "nog",
        "mer",
        "dag",
        "tim",
        "sek",
        "ton",
        "kap",
        "jan",
        "feb",
        "mar",
        "apr",
        "maj",
        "jun",
        "jul",
        "aug",
        "sep",
        "okt",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "the",
        "and",
        "for",
        "are",
        "was",
        "has",
        "not",
        "nos",
        "ref",
        "sid",
        "del",
        "fas",
        "typ",
        "ggr",
    ]
)


def _has_plate(text: str) -> bool:
    for match in _PLATE.finditer(text):
        letters = match.group(1)
        if letters.isupper():
            return True
        if letters.lower() not in _WORDS_BEFORE_NUMBERS:
            return True
    return False


_CHECKS = (
    (IDENTITY, _has_identity_number),
    (EMAIL, _has_email),
    (PHONE, _has_phone_number),
    (PLATE, _has_plate),
)
#: The fewest digits each check can match (after ``plain``, every digit is ASCII): an
#: identity number has 10 or 12, a phone number at least 8 (``0`` and 7 more, or ``46``
#: and 7 more), a plate 2. Most text has fewer, and counting them once is cheaper than
#: the checks' searches (a batch's ids like ``obs-123`` went through all of them).
_FEWEST_DIGITS = {IDENTITY: 10, EMAIL: 0, PHONE: 8, PLATE: 2}
_NO_DIGITS = str.maketrans("", "", "0123456789")


#: What an identifier (a partner's ``external_id``) is screened for: ids shaped like
#: ``obs-123`` are everyday keys, but an identity number, a phone number or an e-mail
#: address must not become one.
IDENTIFIER_CHECKS = frozenset({IDENTITY, EMAIL, PHONE})


def personal_data_kind(text: str, only: frozenset[str] | None = None) -> str | None:
    """What ``text`` looks like (one of the constants above), or ``None``; ``only``
    limits the checks to some of them."""
    flat = plain(text)
    digits = len(flat) - len(flat.translate(_NO_DIGITS))
    for what, check in _CHECKS:
        if only is not None and what not in only:
            continue
        if digits >= _FEWEST_DIGITS[what] and check(flat):
            return what
    return None


def personal_data_reason(text: str, only: frozenset[str] | None = None) -> str | None:
    """Why ``text`` looks like personal data, or ``None`` when it does not."""
    what = personal_data_kind(text, only)
    return None if what is None else what + ADVICE


def screened(text: str) -> str:
    """A pydantic after-validator: ``text`` unchanged, or a ``personal_data`` error."""
    reason = personal_data_reason(text)
    if reason:
        raise PydanticCustomError(PERSONAL_DATA, reason)
    return text

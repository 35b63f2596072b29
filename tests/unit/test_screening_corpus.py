"""The screening measured on a labelled corpus (issue #10): every personal-data string
caught, at most 1 % of real station-work notes refused. The figures are printed at the
end of the test run.

``tests/data/screening_personal_data.txt`` — one string per line, each holding personal
data in an ordinary or evasive form (en dashes, dots, brackets, spelled-out ``at``,
full-width and Arabic-Indic digits, zero-width and no-break spaces). None of it is real:
identity numbers are in the 98x–99x serial series kept for test persons, phone numbers in
the ranges PTS reserves for fiction (070-174 06 05…99, 08-465 004 00…99, 031-390 06 00…99,
040-628 04 00…99), e-mail domains are ``example.*``, plates are random.

``tests/data/screening_station_notes.txt`` — notes as security hosts, guards, cleaners
and the police write them: dates, times, ranges, train and bus numbers, counts, areas.
"""

from __future__ import annotations

from pathlib import Path

from ledger.screening import personal_data_kind

DATA = Path(__file__).parent.parent / "data"


def lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line.strip()]


def test_the_corpus_every_personal_data_string_caught_and_few_notes_refused(record_property):
    personal = lines("screening_personal_data.txt")
    notes = lines("screening_station_notes.txt")
    assert len(personal) >= 200
    assert len(notes) >= 200
    missed = [s for s in personal if personal_data_kind(s) is None]
    refused = [(s, personal_data_kind(s)) for s in notes if personal_data_kind(s) is not None]
    recall = 1 - len(missed) / len(personal)
    false_positives = len(refused) / len(notes)
    record_property(
        "screening corpus",
        f"recall {recall:.1%} ({len(personal) - len(missed)} of {len(personal)} personal-data "
        f"strings caught); false positives {false_positives:.1%} ({len(refused)} of "
        f"{len(notes)} station notes refused)",
    )
    assert missed == []
    assert false_positives <= 0.01, refused

"""Export cells: formulas neutralised (CSV), any stored character survives (XLSX)."""

from __future__ import annotations

import pytest

from api.dashboard.exports import neutralise, xlsx_text


@pytest.mark.parametrize(
    ("stored", "exported"),
    [
        ("=1+1", "'=1+1"),
        ("+46 är landskoden", "'+46 är landskoden"),
        ("-5 grader", "'-5 grader"),
        ("@kontakt", "'@kontakt"),
        ("\tindrag", "'\tindrag"),
        ("\rrad", "'\rrad"),
        ("lugnt;=cmd", "lugnt;'=cmd"),
        ("a; -1;@b", "a; '-1;'@b"),
        ("Klotter i tunneln", "Klotter i tunneln"),
        ("3;4", "3;4"),
    ],
)
def test_csv_cells_are_shown_not_run(stored, exported):
    assert neutralise(stored) == exported


def test_xlsx_text_keeps_every_cell_writable():
    assert xlsx_text("lodrät\x0btab\x00") == "lodrät\ufffdtab\ufffd"
    assert xlsx_text("ensam \ud800") == "ensam ?"
    assert xlsx_text("Vårgårda ✓") == "Vårgårda ✓"

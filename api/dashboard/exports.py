"""A ``DataTable`` as CSV or XLSX: Swedish headers, ISO dates, plain numbers.

CSV is RFC 4180 (comma, CRLF, UTF-8 with a byte-order mark so that spreadsheet
programs detect the encoding), with full stops as decimal separators: it is for
machines; people get XLSX, where dates are real dates shown as ``yyyy-mm-dd``.
Every text cell, headers included, is neutralised against formula injection. In CSV
(``neutralise``) a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a CR gets a
leading apostrophe, and so does each such start after a ``;`` (where a spreadsheet set
to split on semicolons would start a new cell). In XLSX every text cell is typed as
text, which a spreadsheet shows and never runs, so it keeps its exact value; characters
XML cannot carry are replaced, so an export never fails on what is stored.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from api.dashboard.context import Ctx
from api.dashboard.tables import DataTable, export_value

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_AFTER_SEMICOLON = re.compile(r"(;[ \t]*)(?=[=+\-@\t\r])")


def neutralise(value: str) -> str:
    """``value`` as text a spreadsheet shows rather than runs (see the module docstring)."""
    value = _AFTER_SEMICOLON.sub(r"\1'", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def xlsx_text(value: str) -> str:
    """``value`` without the characters an XLSX (XML) file cannot hold."""
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value.encode("utf-8", "replace").decode("utf-8")  # unpaired surrogates


def _text_row(sheet: Any, values: list[str]) -> None:
    """Append a row of text cells, typed as text (openpyxl would take ``=…`` for a formula)."""
    sheet.append([xlsx_text(v) for v in values])
    for cell in sheet[sheet.max_row]:
        cell.data_type = "s"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return value


def to_csv(table: DataTable, ctx: Ctx) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c.sv) for c in table.cols])
    for row in table.rows:
        writer.writerow([_csv_value(export_value(c, row, ctx)) for c in table.cols])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: DataTable, ctx: Ctx) -> bytes:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one worksheet
    sheet.title = _sheet_title(table.title)
    _text_row(sheet, [c.sv for c in table.cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(c.sv) for c in table.cols]
    for r, row in enumerate(table.rows, start=2):
        for i, col in enumerate(table.cols):
            value = export_value(col, row, ctx)
            cell = sheet.cell(row=r, column=i + 1)
            if isinstance(value, str):
                cell.value = xlsx_text(value)
                cell.data_type = "s"  # never a formula, whatever the text starts with
            else:
                cell.value = value
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
                widths[i] = max(widths[i], 10)
            elif value is not None:
                widths[i] = max(widths[i], min(len(str(value)), 60))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width + 2
    sheet.freeze_panes = "A2"
    if table.rows:
        sheet.auto_filter.ref = sheet.dimensions
    about = book.create_sheet("Urval")
    for key, value in selection(table, ctx):
        _text_row(about, [key, value])
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def selection(table: DataTable, ctx: Ctx) -> list[tuple[str, str]]:
    """What the export contains, for the reader of the file (in Swedish)."""
    q = table.query
    rows = [
        ("Tabell", table.title),
        ("Löfte", ctx.promise.title if ctx.promise else "–"),
        ("Från", q.get("from", "–")),
        ("Till", q.get("to", "–")),
    ]
    if "station" in q:
        rows.append(("Station", ctx.station_name(q["station"])))
    if "actor" in q:
        rows.append(("Aktör", ctx.actor_name(q["actor"])))
    rows.append(("Som det såg ut", ctx.as_of.date().isoformat() if ctx.as_of else "nuläget"))
    rows.append(("Skapad", datetime.now().astimezone().isoformat(timespec="seconds")))
    return rows


def _sheet_title(title: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", re.sub(r"[\[\]:*?/\\']", " ", title))[:31].strip() or "Data"


def filename(table: DataTable, fmt: str) -> str:
    q = table.query
    parts = ["trygg", table.name, q.get("station") or q.get("actor"), q.get("from"), q.get("to")]
    return "-".join(p for p in parts if p) + f".{fmt}"

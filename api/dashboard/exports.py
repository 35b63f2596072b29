"""A ``DataTable`` as CSV or XLSX, in the reader's language: headers, labels, codes and
sheet names in Swedish or English, ISO dates, plain numbers.

CSV opens in the spreadsheet of the language's users: Swedish is UTF-8 with a byte-order
mark, ``;`` between cells and a decimal comma (what Swedish Excel expects when a file is
double-clicked); English is ``,`` and a decimal point. Both end lines with CRLF
(RFC 4180). XLSX has real dates shown as ``yyyy-mm-dd`` and real numbers.
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


#: (cell separator, decimal separator) for a language's spreadsheets.
CSV_DIALECT = {"sv": (";", ","), "en": (",", ".")}


def _csv_value(value: Any, decimal: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:.0f}"
        return text.replace(".", decimal)
    if isinstance(value, str):
        return neutralise(value)
    return value


def to_csv(table: DataTable, ctx: Ctx) -> bytes:
    separator, decimal = CSV_DIALECT.get(ctx.lang, CSV_DIALECT["en"])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow([neutralise(c.header(ctx.lang)) for c in table.cols])
    for row in table.rows:
        writer.writerow([_csv_value(export_value(c, row, ctx), decimal) for c in table.cols])
    bom = "\ufeff" if ctx.lang == "sv" else ""
    return (bom + out.getvalue()).encode("utf-8")


def to_xlsx(table: DataTable, ctx: Ctx) -> bytes:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one worksheet
    sheet.title = sheet_title(table.title)
    _text_row(sheet, [c.header(ctx.lang) for c in table.cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(c.header(ctx.lang)) for c in table.cols]
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
    about = book.create_sheet("Urval" if ctx.lang == "sv" else "Selection")
    for key, value in selection(table, ctx):
        _text_row(about, [key, value])
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def selection(table: DataTable, ctx: Ctx) -> list[tuple[str, str]]:
    """What the export contains, for the reader of the file (in the reader's language)."""
    sv = ctx.lang == "sv"
    q = table.query
    rows = [
        ("Tabell" if sv else "Table", table.title),
        ("Löfte" if sv else "Promise", ctx.promise.title if ctx.promise else "–"),
        ("Från" if sv else "From", q.get("from", "–")),
        ("Till" if sv else "To", q.get("to", "–")),
    ]
    if "station" in q:
        rows.append(("Station", ctx.station_name(q["station"])))
    if "actor" in q:
        rows.append(("Aktör" if sv else "Actor", ctx.actor_name(q["actor"])))
    now = "nuläget" if sv else "the present"
    rows.append(
        (
            "Som det såg ut" if sv else "As it stood on",
            ctx.as_of.date().isoformat() if ctx.as_of else now,
        )
    )
    rows.append(
        ("Skapad" if sv else "Made", datetime.now().astimezone().isoformat(timespec="seconds"))
    )
    return rows


#: Excel's limit on a sheet name.
SHEET_NAME_MAX = 31


def sheet_title(title: str) -> str:
    """A sheet name Excel accepts (31 characters, none of ``[]:*?/\\'``), cut between
    words, never in one."""
    clean = ILLEGAL_CHARACTERS_RE.sub("", re.sub(r"[\[\]:*?/\\']", " ", title))
    clean = " ".join(clean.split())
    if len(clean) <= SHEET_NAME_MAX:
        return clean or "Data"
    cut = clean[: SHEET_NAME_MAX + 1].rsplit(" ", 1)[0]
    return cut if 0 < len(cut) <= SHEET_NAME_MAX else clean[:SHEET_NAME_MAX]


def filename(table: DataTable, fmt: str) -> str:
    q = table.query
    parts = ["trygg", table.name, q.get("station") or q.get("actor"), q.get("from"), q.get("to")]
    return "-".join(p for p in parts if p) + f".{fmt}"

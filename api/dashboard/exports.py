"""A ``DataTable`` as CSV or XLSX: Swedish headers, ISO dates, plain numbers.

CSV is RFC 4180 (comma, CRLF, UTF-8 with a byte-order mark so that spreadsheet
programs detect the encoding), with full stops as decimal separators: it is for
machines; people get XLSX, where dates are real dates shown as ``yyyy-mm-dd``.
Text that a spreadsheet would run as a formula is neutralised in both.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from api.dashboard.context import Ctx
from api.dashboard.tables import DataTable, export_value

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _safe_text(value)
    return value


def to_csv(table: DataTable, ctx: Ctx) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.sv for c in table.cols])
    for row in table.rows:
        writer.writerow([_csv_value(export_value(c, row, ctx)) for c in table.cols])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: DataTable, ctx: Ctx) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(table.title)
    sheet.append([c.sv for c in table.cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(c.sv) for c in table.cols]
    for r, row in enumerate(table.rows, start=2):
        for i, col in enumerate(table.cols):
            value = export_value(col, row, ctx)
            cell = sheet.cell(row=r, column=i + 1)
            if isinstance(value, str):
                cell.value = value
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
        about.append([key, value])
        about.cell(row=about.max_row, column=2).data_type = "s"
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
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Data"


def filename(table: DataTable, fmt: str) -> str:
    q = table.query
    parts = ["trygg", table.name, q.get("station") or q.get("actor"), q.get("from"), q.get("to")]
    return "-".join(p for p in parts if p) + f".{fmt}"

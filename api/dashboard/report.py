"""The printable follow-up report outside the web server: ``trygg report``.

The HTML is the same template the dashboard serves at ``/report``, with the stylesheet
inlined so the file stands alone. A PDF is printed from that HTML by headless Chromium
(``--print-to-pdf``), which renders the SVG charts and the print stylesheet exactly as a
browser would; without Chromium the command says so and writes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from markupsafe import Markup

from api.dashboard import pages, render
from api.dashboard.context import Ctx, Filters, PageError, parse_filters
from ledger.access import SYSTEM

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_SECONDS = 120


class ReportError(Exception):
    """The report could not be written (bad dates, no Chromium for a PDF…)."""


def parse_period(start: str, end: str, lang: str = "sv") -> tuple[date, date]:
    try:
        filters = parse_filters({"from": start, "to": end}, lang)
    except PageError as e:
        raise ReportError(e.message) from None
    if filters.start is None or filters.end is None:
        raise ReportError("give both --from and --to as YYYY-MM-DD")
    return filters.start, filters.end


def report_html(
    runtime: Any,
    *,
    start: date,
    end: date,
    lang: str = "sv",
    promise: str | None = None,
    station: str | None = None,
) -> str:
    """The report as one self-contained HTML document (read with full rights: the CLI runs
    on the machine that holds the database)."""
    ctx = Ctx(
        who=SYSTEM,
        lang=lang,
        views=runtime.views,
        registry=runtime.registry,
        filters=Filters(start=start, end=end, promise=promise, station=station),
        links=False,
        residents=runtime.residents,
    )
    # The stylesheet is our own file, shipped with the package: safe to inline as is.
    css = Markup((render.STATIC / "dashboard.css").read_text(encoding="utf-8"))  # noqa: S704
    model = pages.report(ctx, runtime.audit.latest_checkpoint())
    return render.render("report.html", lang=lang, session=None, inline_css=css, **model)


def find_chromium() -> str | None:
    configured = os.environ.get("TRYGG_CHROMIUM")
    if configured:
        return configured
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: str, out: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        raise ReportError(
            "a PDF needs Chromium (set TRYGG_CHROMIUM or install chromium); write a .html "
            "file instead and print it from a browser"
        )
    with tempfile.TemporaryDirectory(prefix="trygg-report-") as tmp:
        source = Path(tmp) / "report.html"
        source.write_text(html, encoding="utf-8")
        target = Path(tmp) / "report.pdf"
        args = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={target}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run as root otherwise
        try:
            subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
                [*args, source.as_uri()],
                capture_output=True,
                timeout=PDF_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ReportError(f"Chromium could not print the PDF: {e}") from None
        if not target.exists() or not target.read_bytes().startswith(b"%PDF"):
            raise ReportError("Chromium did not produce a PDF")
        shutil.copyfile(target, out)


def write_report(
    runtime: Any,
    *,
    start: str,
    end: str,
    out: Path,
    lang: str = "sv",
    promise: str | None = None,
    station: str | None = None,
) -> Path:
    first, last = parse_period(start, end, lang)
    try:
        html = report_html(
            runtime, start=first, end=last, lang=lang, promise=promise, station=station
        )
    except PageError as e:
        raise ReportError(e.message) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".pdf":
        print_pdf(html, out)
    else:
        out.write_text(html, encoding="utf-8")
    return out

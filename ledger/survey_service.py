"""Trygghetsmätning results: aggregated shares per station, year and question.

Administrators record any station's results; a municipality's partner key those of
its own stations (``ledger.access.may_record_survey``). Fewer than ``MIN_RESPONDENTS``
answers is refused at the door (``ledger.inputs.SurveyIn``), and nothing per person
has a field to go in.
"""

from __future__ import annotations

import csv

from eventsourcing.persistence import IntegrityError

from ledger.access import Permission, Principal, may_record_survey
from ledger.application import Ledger
from ledger.domain.surveys import SurveyResult, survey_id
from ledger.errors import AlreadyExists, FieldError, Forbidden, InvalidInput
from ledger.inputs import SurveyIn, parse
from ledger.receipts import Receipt, receipt_for
from ledger.registry_service import RegistryCommands


class SurveyCommands:
    def __init__(self, app: Ledger, registry: RegistryCommands) -> None:
        self.app = app
        self.registry = registry

    def record(self, who: Principal, results: list[SurveyIn]) -> list[Receipt]:
        """Store every result or none (one transaction); each is checked first."""
        who.require(Permission.read)
        actor = self.registry.find_actor(who.actor) if who.actor else None
        own = self.registry.stations_of(who.actor) if who.actor else frozenset()
        errors: list[FieldError] = []
        seen: set[object] = set()
        aggregates: list[SurveyResult] = []
        many = len(results) > 1
        for i, result in enumerate(results):
            at = f"items.{i}." if many else ""
            if self.registry.find_station(result.station) is None:
                errors.append(FieldError(f"{at}station", f"unknown station {result.station!r}"))
                continue
            if not may_record_survey(who, actor, own, result.station):
                raise Forbidden(
                    f"only an administrator or the municipality of {result.station!r} "
                    "may record its survey results"
                )
            key = survey_id(result.station, result.year, result.question)
            if key in seen:
                errors.append(
                    FieldError(f"{at}question", "is given twice for this station and year")
                )
            seen.add(key)
            aggregates.append(
                SurveyResult(
                    station=result.station,
                    year=result.year,
                    question=result.question,
                    share=round(result.share, 4),
                    respondents=result.respondents,
                    source=who.actor or "admin",
                )
            )
        if errors:
            raise InvalidInput(errors)
        try:
            recordings = self.app.save(*aggregates)
        except IntegrityError:
            raise AlreadyExists(
                "a result for this station, year and question is already recorded"
            ) from None
        return [
            receipt_for(r, id=a.id, version=a.version)
            for r, a in zip(recordings, aggregates, strict=True)
        ]


CSV_COLUMNS = ("station", "year", "question", "share", "respondents")


def parse_survey_csv(raw: bytes) -> list[SurveyIn]:
    """Survey results from a CSV file: a header row naming ``CSV_COLUMNS``, separated by
    ``,`` or ``;`` (Swedish Excel), shares with a decimal point or comma, optionally as
    percentages (``62 %``). Every row is checked; the errors name the row as a
    spreadsheet shows it (header = row 1)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.one("body", "the CSV file is not UTF-8") from None
    lines = text.splitlines()
    if not lines:
        raise InvalidInput.one("body", "the CSV file is empty")
    dialect = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.DictReader(lines, delimiter=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InvalidInput.one("header", f"missing column(s): {', '.join(missing)}")
    out: list[SurveyIn] = []
    errors: list[FieldError] = []
    try:
        rows = list(reader)
    except csv.Error as e:  # e.g. a cell over the csv module's field limit
        raise InvalidInput.one(f"row {reader.line_num}", f"is not readable CSV: {e}") from None
    for number, row in enumerate(rows, start=2):
        if None in row:
            errors.append(FieldError(f"row {number}", "has more cells than the header has columns"))
            continue
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        share = cells.get("share", "").replace(",", ".").replace("\u00a0", " ")
        percent = share.endswith("%")
        try:
            value: float | str = float(share.rstrip("% ")) / (100 if percent else 1)
        except ValueError:
            value = share
        try:
            out.append(
                parse(SurveyIn, {**{c: cells.get(c, "") for c in CSV_COLUMNS}, "share": value})
            )
        except InvalidInput as e:
            errors.extend(FieldError(f"row {number}.{x.field}", x.reason) for x in e.errors)
    if errors:
        raise InvalidInput(errors)
    if not out:
        raise InvalidInput.one("body", "the CSV file has no rows")
    return out

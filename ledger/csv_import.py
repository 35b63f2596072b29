"""CSV import for partners without an integration: one row per activity or observation.

Columns are the JSON fields of ``POST /v1/activities`` (or ``/v1/observations``); an
empty cell means "not given"; ``details`` is a JSON object. Every row is checked
before anything is stored, and the errors name the row (as a spreadsheet shows it,
header = row 1) and the field. Importing the same file again stores nothing new:
each row's ``external_id`` makes it idempotent.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ledger.access import Principal, Role
from ledger.entry_service import EntryCommands, EntryType
from ledger.errors import FieldError, InvalidInput, NotFound
from ledger.inputs import ActivityIn, ObservationIn, parse

JSON_COLUMNS = {"details"}


def _row_to_body(row: dict[str, str | None]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            raise ValueError("the row has more cells than the header has columns")
        value = (value or "").strip()
        if value == "":
            continue
        body[key.strip()] = json.loads(value) if key.strip() in JSON_COLUMNS else value
    return body


def parse_rows(
    lines: Iterable[str], model: type[ActivityIn] | type[ObservationIn]
) -> list[ActivityIn | ObservationIn]:
    """All rows as commands, or ``InvalidInput`` listing every bad row and field."""
    reader = csv.DictReader(lines)
    if not reader.fieldnames:
        raise InvalidInput.one("file", "the file is empty; the first row must name the columns")
    unknown = set(reader.fieldnames) - set(model.model_fields)
    if unknown:
        raise InvalidInput.one(
            "header",
            f"unknown columns: {', '.join(sorted(unknown))}; "
            f"known: {', '.join(model.model_fields)}",
        )
    items: list[ActivityIn | ObservationIn] = []
    errors: list[FieldError] = []
    for number, row in enumerate(reader, start=2):
        try:
            body = _row_to_body(row)
        except (ValueError, json.JSONDecodeError) as e:
            errors.append(FieldError(f"row {number}", str(e)))
            continue
        try:
            items.append(parse(model, body))
        except InvalidInput as e:
            errors.extend(FieldError(f"row {number}: {err.field}", err.reason) for err in e.errors)
    if errors:
        raise InvalidInput(errors)
    if not items:
        raise InvalidInput.one("file", "no rows to import")
    return items


@dataclass(frozen=True)
class Imported:
    created: int
    duplicates: int


def _row_of(field: str) -> str:
    """``items.3.station`` → ``row 5: station`` (the header is row 1)."""
    parts = field.split(".", 2)
    if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
        return f"row {int(parts[1]) + 2}: {parts[2]}"
    return field


def import_csv(
    entries: EntryCommands,
    kind: EntryType,
    actor: str,
    lines: Iterable[str],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Imported:
    """Import a partner's CSV as ``actor``'s entries: every row checked (structure, the
    store, the clock) before any is stored, then stored in batches of the largest size
    the ledger takes (``TRYGG_MAX_BATCH_ITEMS``), each batch all or none. Importing the
    same file again stores nothing new. ``progress(done, total)`` follows the storing."""
    if entries.registry.find_actor(actor) is None:
        raise NotFound(f"unknown actor {actor!r}")
    items = parse_rows(lines, kind.model)
    who = Principal(key_id="csv-import", role=Role.partner, actor=actor)
    try:
        entries.validate_entries(who, items)
    except InvalidInput as e:
        raise InvalidInput([FieldError(_row_of(x.field), x.reason) for x in e.errors]) from None
    size = entries.app.max_batch_items
    created = duplicates = 0
    for start in range(0, len(items), size):
        receipt = entries.record_entries(kind, who, items[start : start + size])
        created += receipt.created
        duplicates += receipt.duplicates
        if progress is not None:
            progress(start + len(receipt.results), len(items))
    return Imported(created, duplicates)

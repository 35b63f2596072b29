"""Typed domain errors. Every error the ledger raises on purpose is a ``LedgerError``.

The tree (each carries a machine-readable ``code``; ``api/errors.py`` maps them
to HTTP once)::

    LedgerError
    ├── InvalidInput           422  a field is wrong; ``errors`` names each field and why
    │   ├── PersonalDataRejected  422  free text looks like personal data
    │   └── InvalidJson           422  the body is not UTF-8 JSON
    ├── Unauthenticated        401  no key, an unknown key or a revoked key
    ├── NotFound               404  no such station, actor, promise, plan, entry
    ├── Forbidden              403  the caller may not do this to this resource
    ├── Conflict               409
    │   ├── AlreadyExists         a code or id is taken
    │   ├── ExternalIdConflict    same partner external_id, different content
    │   ├── VersionConflict       expected_version is stale
    │   ├── InvalidTransition     e.g. a measure that is done cannot start again
    │   └── EntryRetracted        a retracted entry cannot change any more
    └── Unavailable            503  the database cannot be reached right now
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One reason one field was rejected; ``field`` is a dotted path (``items.3.started_at``)."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class LedgerError(Exception):
    code: ClassVar[str] = "ledger_error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(LedgerError):
    code = "invalid_input"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = errors
        summary = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5])
        if len(errors) > 5:
            summary += f"; and {len(errors) - 5} more"
        super().__init__(detail or summary, errors=[e.as_dict() for e in errors])

    @classmethod
    def one(cls, field: str, reason: str) -> InvalidInput:
        return cls([FieldError(field, reason)])

    def prefixed(self, prefix: str) -> InvalidInput:
        """The same errors with every field path under ``prefix`` (used for batch items)."""
        return type(self)([FieldError(f"{prefix}.{e.field}", e.reason) for e in self.errors])


class PersonalDataRejected(InvalidInput):
    code = "personal_data"


class InvalidJson(InvalidInput):
    code = "invalid_json"


class Unauthenticated(LedgerError):
    code = "unauthenticated"


class NotFound(LedgerError):
    code = "not_found"


class Forbidden(LedgerError):
    code = "forbidden"


class Conflict(LedgerError):
    code = "conflict"


class AlreadyExists(Conflict):
    code = "already_exists"


class ExternalIdConflict(Conflict):
    code = "external_id_conflict"


class VersionConflict(Conflict):
    code = "version_conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class EntryRetracted(Conflict):
    code = "entry_retracted"


class Unavailable(LedgerError):
    code = "unavailable"

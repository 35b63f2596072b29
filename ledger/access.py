"""Who may do what. Roles and permissions are business rules, so they live here.

A ``Principal`` is the authenticated caller (from an API key). Every command and
query of the application service takes one and checks it; the HTTP layer only
turns a bearer token into a principal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import Forbidden


class Role(StrEnum):
    partner = "partner"  # a partner system, bound to one actor
    steering = "steering"  # the steering group (styrgrupp)
    auditor = "auditor"
    admin = "admin"


class Permission(StrEnum):
    read = "read"  # registry, aggregates, entries (partners: only their own entries)
    record_entries = "record_entries"  # post, correct, retract activities and observations
    manage_registry = "manage_registry"  # stations, actors, promises, action plans
    read_all_entries = "read_all_entries"  # every actor's entries in detail
    audit = "audit"  # the raw log, checkpoints and proofs


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.partner: frozenset({Permission.read, Permission.record_entries}),
    Role.steering: frozenset({Permission.read, Permission.read_all_entries}),
    Role.auditor: frozenset({Permission.read, Permission.read_all_entries, Permission.audit}),
    Role.admin: frozenset(
        {
            Permission.read,
            Permission.read_all_entries,
            Permission.manage_registry,
            Permission.audit,
        }
    ),
}


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    actor: str | None = None  # set for partners only

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(
                f"the {self.role.value} role may not {permission.value.replace('_', ' ')}"
            )

    def require_actor(self) -> str:
        """The actor a partner records for; only partners record entries."""
        self.require(Permission.record_entries)
        if self.actor is None:  # pragma: no cover - keys enforce this at creation
            raise Forbidden("this key is not bound to an actor")
        return self.actor

    def may_read_entries_of(self, actor: str) -> bool:
        return self.can(Permission.read_all_entries) or self.actor == actor


#: The CLI and the demo act with full rights on the machine that holds the database.
SYSTEM = Principal(key_id="system", role=Role.admin)

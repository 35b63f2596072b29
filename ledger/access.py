"""Who may do what, and who sees what. Both are business rules, so they live here.

A ``Principal`` is the authenticated caller (from an API key). Every command and
query of the application service takes one and checks it; the HTTP layer only
turns a bearer token into a principal.

**Who sees what** is one rule, ``may_see(who, actor, detail)``, used by every read: the
API's entry reads, lists, histories, summaries and the feed, the dashboard, its
exports and report, and "as of" answers (``projections.views`` applies it):

=====================  =============================  ===============================
detail                 police activity                other actors' activity
=====================  =============================  ===============================
``entry`` (one entry)  the police actor's own keys,   the actor's own keys, steering,
                       auditors, administrators       auditors, administrators
``day`` (per-day       the police actor's own keys,   every reader
figures)               auditors, administrators
``week``, ``month``    every reader                   every reader
=====================  =============================  ===============================

Police tactics may be confidential (brottsdatalagen; DOMAIN.md): outside the police,
police activity is seen aggregated in whole ISO weeks or months, never as a timetable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

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
    erase = "erase"  # erase free text that should never have been stored
    decide_ideas = "decide_ideas"  # answer residents' ideas (the steering group's call)
    read_all_ideas = "read_all_ideas"  # every station's ideas, undecided ones included


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.partner: frozenset({Permission.read, Permission.record_entries}),
    Role.steering: frozenset(
        {
            Permission.read,
            Permission.read_all_entries,
            Permission.decide_ideas,
            Permission.read_all_ideas,
        }
    ),
    Role.auditor: frozenset(
        {Permission.read, Permission.read_all_entries, Permission.audit, Permission.read_all_ideas}
    ),
    Role.admin: frozenset(
        {
            Permission.read,
            Permission.read_all_entries,
            Permission.manage_registry,
            Permission.audit,
            Permission.erase,
            Permission.decide_ideas,
            Permission.read_all_ideas,
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


#: The CLI and the demo act with full rights on the machine that holds the database.
SYSTEM = Principal(key_id="system", role=Role.admin)


class Detail(StrEnum):
    """How finely activity is shown: one entry, or figures per day, week or month."""

    entry = "entry"
    day = "day"
    week = "week"
    month = "month"


class ActorLike(Protocol):
    code: str
    kind: str


POLICE = "police"
#: Roles that see every actor's activity at every detail.
SEE_EVERYTHING = frozenset({Role.auditor, Role.admin})


def may_see(who: Principal, actor: ActorLike, detail: Detail) -> bool:
    """Whether ``who`` may see ``actor``'s activity at ``detail`` (see the module docstring)."""
    if not who.can(Permission.read):
        return False
    if who.role in SEE_EVERYTHING or who.actor == actor.code:
        return True
    if detail in (Detail.week, Detail.month):
        return True
    if actor.kind == POLICE:
        return False
    if detail is Detail.entry:
        return who.can(Permission.read_all_entries)
    return True


MUNICIPALITY = "municipality"


def may_record_survey(
    who: Principal, actor: ActorLike | None, own_stations: frozenset[str], station: str
) -> bool:
    """Administrators record any station's survey results; a municipality's partner key
    records those of the stations its commitments cover (its own stations)."""
    if who.can(Permission.manage_registry):
        return True
    return (
        who.role is Role.partner
        and actor is not None
        and actor.kind == MUNICIPALITY
        and station in own_stations
    )


def hidden_actors(who: Principal, actors: Sequence[ActorLike], detail: Detail) -> frozenset[str]:
    """The codes of the actors whose activity ``who`` may not see at ``detail``."""
    return frozenset(a.code for a in actors if not may_see(who, a, detail))

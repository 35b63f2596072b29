"""What a projection is: named tables, the aggregates it listens to, and an ``apply``.

Tables are defined per *generation* (``proj_<name>_g<N>_<table>``) so that a
rebuild can fill generation N+1 from the start of the log while generation N
keeps serving, and then swap which one is live in one transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import SimpleNamespace
from typing import ClassVar

from sqlalchemy import Connection, MetaData, Table

from projections.events import LogEvent


class Tables(SimpleNamespace):
    """The tables of one generation of one projection, by short name."""

    def all(self) -> list[Table]:
        return [v for v in vars(self).values() if isinstance(v, Table)]


class Projection(ABC):
    name: ClassVar[str]
    #: Aggregate class names whose events this projection reads.
    aggregates: ClassVar[tuple[str, ...]]
    #: Full topics read from the log (a filter, so the projection skips the rest cheaply).
    topics: ClassVar[tuple[str, ...]]
    #: Short names of the tables that keep history for "as of" reads (``as_of``); empty for
    #: a projection that answers live only.
    history_tables: ClassVar[frozenset[str]] = frozenset()

    def prefix(self, generation: int) -> str:
        return f"proj_{self.name}_g{generation}_"

    @abstractmethod
    def define(self, metadata: MetaData, prefix: str) -> Tables: ...

    @abstractmethod
    def apply(self, conn: Connection, tables: Tables, events: list[LogEvent]) -> None:
        """Apply one page of events; runs inside the caller's transaction."""

    def backfill(self, conn: Connection, tables: Tables, created: set[str], position: int) -> None:  # noqa: B027 (optional hook)
        """Fill tables (by name in ``created``) that a newer version of the projection added
        to a generation that already existed, which stands at ``position``. Projections that
        cannot derive them from their other tables need a rebuild instead."""

    def restart_history(self, conn: Connection, tables: Tables, position: int) -> None:  # noqa: B027 (optional hook)
        """Make the history whole again from ``position`` on, after events before it were
        applied late (retried parked events); the runner refuses "as of" reads before it."""

    def as_of(self, conn: Connection, tables: Tables, position: int) -> Tables:
        """Selectables shaped like ``tables`` as they stood at ``position``, read from the
        history tables rather than by replaying the log."""
        raise NotImplementedError(f"{self.name} answers live only")

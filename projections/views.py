"""The read side's service: who may see what, fresh enough, live or "as of".

Each method takes the caller's ``Principal`` and answers from the live
projection tables, or — given ``as_of`` — from the history kept beside them
(``projections.history``), with the same queries.
``wait_for`` gives read-your-writes: a write returns its position, and a read
with ``min_position`` waits (bounded) until the views have caught up to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from ledger.access import SYSTEM, Detail, Permission, Principal, Role, hidden_actors, may_see
from ledger.application import Ledger
from ledger.errors import Conflict, Forbidden, InvalidInput, Unavailable
from ledger.registry_service import RegistryCommands
from ledger.rules import OUT_OF_RANGE, year_in_range
from ledger.texts import REF_KEY
from projections import queries
from projections.asof import AsOf, position_at
from projections.base import Tables
from projections.feed import feed
from projections.results import EntryPage, Feed, Measures, Progress, Situation, Summary
from projections.runner import ProjectionRunner
from projections.timebox import LOCAL, whole_periods


class NotCaughtUp(Unavailable):
    code = "not_caught_up"


class HistoryMissing(Conflict):
    """An "as of" point before the history a view keeps whole (from an upgrade, or from
    parked events applied late)."""

    code = "history_missing"


def check_range(start: date | None, end: date | None) -> None:
    """A date range (either end may be open) must lie in the years the ledger computes
    with and must not run backwards: ``from`` ≤ ``to``."""
    for field, day in (("from", start), ("to", end)):
        if day is not None and not year_in_range(day):
            raise InvalidInput.one(field, OUT_OF_RANGE)
    if start and end and start > end:
        raise InvalidInput.one("from", "must not be after to")


#: What ``_read`` answers: a view's result, which says where it stands in the log.
R = TypeVar("R", Summary, Progress, Situation, Measures)


class Views:
    def __init__(
        self,
        ledger: Ledger,
        registry: RegistryCommands,
        runner: ProjectionRunner,
        *,
        wait_seconds: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.ledger = ledger
        self.registry = registry
        self.runner = runner
        self.wait_seconds = wait_seconds
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- freshness and "as of" --------------------------------------------------------------

    def wait_for(self, min_position: int | None, names: tuple[str, ...]) -> None:
        if not min_position:
            return
        head = self.ledger.last_position()
        if min_position > head:
            raise InvalidInput.one("min_position", f"is beyond the log's last position ({head})")
        deadline = time.monotonic() + self.wait_seconds
        while True:
            positions = self.runner.live_positions()
            if all(positions.get(n, 0) >= min_position for n in names):
                return
            if time.monotonic() >= deadline:
                lagging = {n: positions.get(n, 0) for n in names}
                raise NotCaughtUp(
                    f"the views have not reached position {min_position} yet ({lagging}); "
                    "retry shortly",
                    retry_after=1,
                )
            self.runner.wake.set()
            time.sleep(0.02)

    def resolve(self, as_of: AsOf) -> tuple[int | None, date]:
        """The position a read stands at (None = live), and "today" as it was then."""
        if as_of is None:
            return None, self.clock().astimezone(LOCAL).date()
        if isinstance(as_of, datetime):
            if as_of.tzinfo is None:
                raise InvalidInput.one("as_of", "a timestamp needs a UTC offset")
            position = position_at(self.ledger.recorder, as_of)
            today = as_of.astimezone(LOCAL).date()
        else:
            if as_of < 0 or as_of >= 2**62:
                raise InvalidInput.one("as_of", "a position must be between 0 and 2**62")
            position = min(as_of, self.ledger.last_position())
            today = self._time_of(position).astimezone(LOCAL).date()
        return position, today

    def _time_of(self, position: int) -> datetime:
        if position == 0:
            return self.clock()
        from projections.events import decode

        found = self.ledger.recorder.select_notifications(start=position, limit=1)
        return datetime.fromisoformat(decode(found[0]).recorded_at) if found else self.clock()

    def _read(
        self,
        who: Principal,
        as_of: AsOf,
        name: str,
        fn: Callable[[Connection, Tables, date], R],
        also: str | None = None,
    ) -> R:
        """``fn`` on the tables of projection ``name`` (and those of ``also``, as
        ``<also>_<table>``), live or as they stood "as of"; the answer says which position
        it stands at (``as_of_position``, None = live)."""
        who.require(Permission.read)
        position, today = self.resolve(as_of)
        names = (name,) if also is None else (name, also)
        if position is not None:
            self.wait_for(position, names)  # the history must have reached the point asked
        with self.runner.engine.connect() as conn:
            tables = self._tables(name, conn, position)
            if also is not None:
                more = vars(self._tables(also, conn, position))
                tables = Tables(**vars(tables), **{f"{also}_{k}": v for k, v in more.items()})
            result = fn(conn, tables, today)
        result["as_of_position"] = position
        return result

    def _tables(self, name: str, conn: Connection, position: int | None) -> Tables:
        tables = self.runner.live_tables(name, conn)
        if position is None:
            return tables
        since = self.runner.history_since(name, conn)
        if position < since:
            raise HistoryMissing(
                f"the {name} views keep a whole history from log position {since} (it was "
                "added there by an upgrade, or parked events were applied late); "
                f"`trygg rebuild {name}` gives them the whole log"
            )
        generation = self.runner.live_generation(name, conn)
        if self.runner.position(name, generation, conn) < position:
            # A rebuild swapped in a generation a little behind the one waited for.
            raise NotCaughtUp(
                f"the {name} views have not reached position {position} yet; retry shortly",
                retry_after=1,
            )
        return self.runner.projections[name].as_of(conn, tables, position)

    # -- views ------------------------------------------------------------------------------

    # -- who sees what (ledger.access.may_see) ------------------------------------------------

    def _hidden(self, who: Principal, detail: Detail) -> frozenset[str]:
        return hidden_actors(who, self.registry.list_actors(who), detail)

    def _summary(
        self,
        who: Principal,
        *,
        start: date | None,
        end: date | None,
        group: str,
        as_of: AsOf,
        **where: str,
    ) -> Summary:
        """Activity per period; actors ``who`` may not see per day are left out of a
        daily summary, and any other summary is widened to whole weeks or months, so
        that no answer shows what they did on one day."""
        day_hidden = self._hidden(who, Detail.day) & self._actors_at(where)
        hidden: frozenset[str] = frozenset()
        widened = False
        if day_hidden and group == "day":
            hidden = day_hidden
        elif day_hidden:
            wide = whole_periods(start, end, group)
            widened = wide != (start, end)
            start, end = wide
        result = self._read(
            who,
            as_of,
            "activities",
            lambda conn, t, _today: queries.activity_summary(
                conn, t, start=start, end=end, group=group, hidden_actors=hidden, **where
            ),
        )
        result["from"] = start.isoformat() if start else None
        result["to"] = end.isoformat() if end else None
        if hidden:
            result["withheld"] = (
                "police activity is shown per week or month outside the police, "
                "auditors and administrators"
            )
        if widened:
            result["widened"] = (
                f"the range was widened to whole {group}s: police activity is shown in "
                "whole weeks or months outside the police"
            )
        return result

    def _actors_at(self, where: dict[str, str]) -> frozenset[str]:
        actor = where.get("actor")
        if actor is not None:
            return frozenset({actor})
        return frozenset(a.code for a in self.registry.list_actors(SYSTEM))

    # -- views ------------------------------------------------------------------------------

    def station_summary(
        self,
        who: Principal,
        code: str,
        *,
        start: date | None = None,
        end: date | None = None,
        group: str = "week",
        as_of: AsOf = None,
    ) -> Summary:
        self.registry.get_station(who, code)
        result = self._summary(who, start=start, end=end, group=group, as_of=as_of, station=code)
        result["station"] = code
        return result

    def actor_summary(
        self,
        who: Principal,
        code: str,
        *,
        start: date | None = None,
        end: date | None = None,
        group: str = "week",
        as_of: AsOf = None,
    ) -> Summary:
        actor = self.registry.get_actor(who, code)
        if group == "day" and not may_see(who, actor, Detail.day):
            raise Forbidden(
                f"{actor.kind} activity per day is shown to that actor, auditors and "
                "administrators; ask for group=week or group=month"
            )
        result = self._summary(who, start=start, end=end, group=group, as_of=as_of, actor=code)
        result["actor"] = code
        return result

    def promise_progress(
        self,
        who: Principal,
        promise: str,
        *,
        start: date | None = None,
        end: date | None = None,
        as_of: AsOf = None,
    ) -> Progress:
        """Promised vs delivered per commitment and station in ``[start, end]`` of the
        promise period (default: all of it), judged on the "as of" day (``ledger.progress``).
        Actors ``who`` may not see per day are counted up to the end of the last whole
        ISO week while the range runs."""
        check_range(start, end)
        found = self.registry.get_promise(who, promise)
        if (start and start > found.end) or (end and end < found.start):
            raise InvalidInput.one(
                "from" if start and start > found.end else "to",
                f"the range lies outside the promise's period "
                f"({found.period_start} – {found.period_end})",
            )
        coarse = self._hidden(who, Detail.day)
        return self._read(
            who,
            as_of,
            "activities",
            lambda conn, t, today: queries.promise_progress(
                conn, t, found.as_dict(), today, start=start, end=end, weekly_actors=coarse
            ),
            also="observations",  # commitments to report to the lägesbild
        )

    def situation(
        self,
        who: Principal,
        *,
        station: str | None,
        start: date | None,
        end: date | None,
        as_of: AsOf = None,
    ) -> Situation:
        if station is not None:
            self.registry.get_station(who, station)

        def run(conn: Connection, t: Tables, today: date) -> Situation:
            last = end or today
            first = start or date(last.year, last.month, 1).replace(day=1)
            check_range(first, last)
            return queries.situation(conn, t, station=station, start=first, end=last)

        return self._read(who, as_of, "observations", run)

    def measures(
        self,
        who: Principal,
        *,
        station: str | None = None,
        promise: str | None = None,
        status: str | None = None,
        overdue: bool | None = None,
        as_of: AsOf = None,
        on: date | None = None,
    ) -> Measures:
        """Every measure, with ``overdue`` judged on the "as of" day (or on ``on``, if
        that is earlier)."""
        promise_id = str(self.registry.get_promise(who, promise).id) if promise else None
        return self._read(
            who,
            as_of,
            "action_plans",
            lambda conn, t, today: Measures(
                items=queries.measures(
                    conn,
                    t,
                    today=min(today, on) if on else today,
                    station=station,
                    promise_id=promise_id,
                    status=status,
                    overdue=overdue,
                )
            ),
        )

    def entries(
        self,
        who: Principal,
        name: str,
        *,
        filters: dict[str, Any],
        start: date | None,
        end: date | None,
        page: int,
        page_size: int,
    ) -> EntryPage:
        who.require(Permission.read)
        hidden = self._hidden(who, Detail.entry)
        if filters.get("actor") in hidden:
            raise Forbidden(
                "partners list only their own actor's entries; single police entries are "
                "shown to the police, auditors and administrators"
            )
        if who.role is Role.partner:
            filters, hidden = {**filters, "actor": who.actor}, frozenset()
        with self.runner.engine.connect() as conn:
            tables = self.runner.live_tables(name, conn)
            result = queries.entries_page(
                conn,
                tables,
                filters=filters,
                start=start,
                end=end,
                page=page,
                page_size=page_size,
                hidden_actors=hidden,
            )
        for item in result["items"]:
            item["note"] = {REF_KEY: item["note"]} if item["note"] else None
        result["items"] = self.ledger.texts.reveal_many(result["items"])
        if hidden:
            result["withheld"] = "single police entries are not listed outside the police"
        return result

    def feed(self, who: Principal, after: int, limit: int) -> Feed:
        """Accepted entry events in log order, as far as ``who`` may see single entries."""
        return feed(
            self.runner, who, after, limit, self._hidden(who, Detail.entry), self.ledger.texts
        )

    def status(self, who: Principal) -> list[dict[str, Any]]:
        who.require(Permission.read)
        return [s.as_dict() for s in self.runner.status()]

    def parked_count(self, who: Principal) -> int:
        """Events the live views leave out because a projection could not apply them."""
        who.require(Permission.read)
        return sum(s.parked_count for s in self.runner.status() if s.state == "live")

"""What a dashboard request asks for: the caller, the language, and the filters.

Query parameters are parsed here, by hand, so that a bad value becomes a friendly
page in the reader's language (``PageError``) rather than a JSON 422.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from api.dashboard.i18n import t
from ledger.access import Principal
from ledger.domain import Actor, Promise, Station
from ledger.registry_service import RegistryCommands
from projections.residents_views import ResidentViews
from projections.timebox import LOCAL
from projections.views import Views

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_RANGE_YEARS = 3
BREAKDOWNS = ("actor", "kind")
T = TypeVar("T")


class PageError(Exception):
    """A request the dashboard answers with a friendly error page."""

    def __init__(self, status: int, message: str, *, title_key: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title_key = title_key or f"error_{status}"


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    station: str | None = None
    as_of_day: date | None = None
    promise: str | None = None
    by: str = "actor"

    def query(self, **override: Any) -> dict[str, str]:
        """The filters as query parameters (for links and downloads)."""
        values = {
            "from": self.start,
            "to": self.end,
            "station": self.station,
            "as_of": self.as_of_day,
            "promise": self.promise,
            "by": None if self.by == "actor" else self.by,
        }
        values.update(override)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _date(params: Mapping[str, str], name: str, label: str, lang: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise PageError(422, t(lang, "bad_date", field=label, value=raw[:40])) from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise PageError(
            422, t(lang, "date_out_of_range", field=label, lo=MIN_DATE, hi=MAX_DATE)
        ) from None
    return value


def _code(params: Mapping[str, str], name: str, lang: str) -> str | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if len(raw) > 64 or not all(c.isalnum() or c == "-" for c in raw):
        raise PageError(422, t(lang, "bad_param", field=name))
    return raw


def parse_filters(params: Mapping[str, str], lang: str) -> Filters:
    start = _date(params, "from", t(lang, "from"), lang)
    end = _date(params, "to", t(lang, "to"), lang)
    if start and end:
        if start > end:
            raise PageError(422, t(lang, "from_after_to"))
        if (end - start).days > MAX_RANGE_YEARS * 366:
            raise PageError(422, t(lang, "range_too_long", years=MAX_RANGE_YEARS))
    by = params.get("by") or "actor"
    return Filters(
        start=start,
        end=end,
        station=_code(params, "station", lang),
        as_of_day=_date(params, "as_of", t(lang, "as_of"), lang),
        promise=_code(params, "promise", lang),
        by=by if by in BREAKDOWNS else "actor",
    )


def end_of_day(day: date) -> datetime:
    """The last instant of a local (Europe/Stockholm) day, as an aware datetime."""
    return datetime.combine(day, time.max, LOCAL)


@dataclass(frozen=True)
class QuickPick:
    """A ready-made range: its kind (``period``, ``tertial``, ``quarter``, ``month``), a
    name within the kind ("2 2022"), and its days."""

    kind: str
    name: str
    start: date
    end: date


@dataclass
class Ctx:
    """One dashboard request, resolved: the range to show, the promise, the names."""

    who: Principal
    lang: str
    views: Views
    registry: RegistryCommands
    filters: Filters
    csrf: str = ""
    path: str = "/"
    links: bool = True  # False in a stand-alone file (the report written by the CLI)
    #: The citizens' side (``projections.residents_views.ResidentViews``), when wired.
    residents: ResidentViews | None = None
    _memo: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        real_today = self.views.clock().astimezone(LOCAL).date()
        day = self.filters.as_of_day
        #: "as of" a day that has not ended yet is the present.
        self.as_of: datetime | None = end_of_day(day) if day and day < real_today else None
        self.today: date = day if day is not None and self.as_of else real_today
        self.stations: dict[str, Station] = {
            s.code: s for s in self.registry.list_stations(self.who)
        }
        self.actors: dict[str, Actor] = {a.code: a for a in self.registry.list_actors(self.who)}
        if self.filters.station and self.filters.station not in self.stations:
            raise PageError(404, t(self.lang, "unknown_station", code=self.filters.station))
        self.promise = self._promise()
        self.start, self.end = self._range()

    def _promise(self) -> Promise | None:
        if self.filters.promise:
            return self.registry.get_promise(self.who, self.filters.promise)
        promises = self.registry.list_promises(self.who)
        current = [p for p in promises if p.start <= self.today <= p.end]
        chosen = current or sorted(promises, key=lambda p: p.start)[-1:]
        return chosen[0] if chosen else None

    def _range(self) -> tuple[date, date]:
        if self.promise is not None:
            default_end = max(min(self.today, self.promise.end), self.promise.start)
            default_start = self.promise.start
        else:
            default_end = self.today
            default_start = self.today - timedelta(weeks=12)
        end = self.filters.end or default_end
        start = self.filters.start or min(default_start, end)
        if start > end:
            raise PageError(422, t(self.lang, "from_after_to"))
        if (end - start).days > MAX_RANGE_YEARS * 366:
            raise PageError(422, t(self.lang, "range_too_long", years=MAX_RANGE_YEARS))
        return start, end

    def quick_picks(self) -> list[QuickPick]:
        """Ranges the steering group follows up by, within the promise period: the whole
        period, each tertial (Jan–Apr, May–Aug, Sep–Dec), each quarter, and the last whole
        month before today."""
        if self.promise is None:
            return []
        first, last = self.promise.start, self.promise.end
        picks = [QuickPick("period", "", first, last)]

        def spans(months: int, key: str) -> list[QuickPick]:
            out = []
            year, month = first.year, ((first.month - 1) // months) * months + 1
            while date(year, month, 1) <= last:
                start = date(year, month, 1)
                nxt = month + months
                end = date(year + (nxt - 1) // 12, (nxt - 1) % 12 + 1, 1) - timedelta(days=1)
                number = (month - 1) // months + 1
                out.append(QuickPick(key, f"{number} {year}", max(start, first), min(end, last)))
                year, month = year + (nxt - 1) // 12, (nxt - 1) % 12 + 1
            return out

        picks += spans(4, "tertial") + spans(3, "quarter")
        month_end = self.today.replace(day=1) - timedelta(days=1)
        month_start = month_end.replace(day=1)
        if first <= month_start and month_end <= last:
            picks.append(QuickPick("month", f"{month_start:%Y-%m}", month_start, month_end))
        return picks

    def memo(self, key: Any, make: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    # names for people ----------------------------------------------------------------------

    def station_name(self, code: str) -> str:
        station = self.stations.get(code)
        return station.name if station else code

    def actor_name(self, code: str) -> str:
        actor = self.actors.get(code)
        return actor.name if actor else code

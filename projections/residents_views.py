"""What residents, the parties and the steering group read of the citizens' side.

* ideas: the steering group, auditors and administrators read every idea; a partner
  those for its own stations; the public only decided ones (``public=True``), never a
  new one;
* the survey baseline per station;
* the lägesbild compared quarter with quarter, with the same quarter a year earlier,
  and with the baseline survey;
* every party's contribution to the lägesbild: observations reported per month;
* the public follow-up: the promise, each commitment's status per station counted up
  to the end of the last whole month (police figures are never finer than that),
  completed measures, decided ideas with their replies, and the latest checkpoint.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from ledger.access import POLICE, SYSTEM, Detail, Permission, Principal, hidden_actors
from ledger.domain.ideas import DECIDED
from ledger.errors import InvalidInput, NotFound
from ledger.idea_service import IdeaCommands
from ledger.texts import ERASED
from projections.results import (
    AnsweringMeasure,
    BaselineRow,
    ContributionRow,
    Contributions,
    FindingItem,
    Findings,
    IdeaItem,
    Ideas,
    PublicCheckpoint,
    PublicCommitment,
    PublicMeasure,
    PublicProgress,
    PublicStation,
    QuarterCount,
    SituationComparison,
    SurveyItem,
    Surveys,
)
from projections.timebox import LOCAL, month, whole_periods
from projections.views import Views, check_range

HOW_TO_VERIFY = (
    "The checkpoint is a signed note (C2SP signed-note) over every event in the ledger. "
    "Save it. Later, fetch a consistency proof from its size to the latest "
    "(GET /v1/public/audit/proofs/consistency?first=SIZE&second=NEW, no key needed) and "
    "check it against the log's public key (GET /v1/public/audit/public-key), for example "
    "with `trygg check-saved`. If the ledger were ever rewritten, the proof would "
    "not hold. Lines after the log's signature are witnesses' cosignatures."
)


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(year: int, q: int) -> str:
    return f"{year}-Q{q}"


def quarter_days(year: int, q: int) -> tuple[date, date]:
    first = date(year, 3 * (q - 1) + 1, 1)
    following = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, following - timedelta(days=1)


def parse_quarter(value: str) -> tuple[int, int]:
    """``2022-Q1`` (also ``2022Q1``) as (year, quarter); a clear 422 otherwise."""
    text = value.strip().upper().replace("-", "")
    year, sep, q = text.partition("Q")
    if not (sep and year.isdigit() and len(year) == 4 and q in {"1", "2", "3", "4"}):
        raise InvalidInput.one("quarter", "write a quarter as YYYY-Qn, e.g. 2022-Q1")
    if not 2000 <= int(year) <= 2100:
        raise InvalidInput.one("quarter", "must lie between 2000 and 2100")
    return int(year), int(q)


class ResidentViews:
    def __init__(
        self,
        views: Views,
        idea_rules: IdeaCommands,
        latest_checkpoint: Callable[[], dict[str, Any] | None],
    ) -> None:
        self.views = views
        self.idea_rules = idea_rules  # who reads which ideas: one rule, in ledger/
        self.latest_checkpoint = latest_checkpoint
        self.runner = views.runner
        self.texts = views.ledger.texts
        self.registry = views.registry
        self._public_cache: dict[Any, PublicProgress] = {}
        self._public_lock = threading.Lock()

    # -- ideas --------------------------------------------------------------------------------

    def ideas(
        self,
        who: Principal | None,
        *,
        station: str | None = None,
        status: str | None = None,
        category: str | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> Ideas:
        """Ideas newest first, a page of ``limit`` from ``offset`` (``next_offset`` says
        where the next page starts, None at the end); ``who=None`` is the public: decided
        ideas only."""
        if who is not None:
            who.require(Permission.read)
        with self.runner.engine.connect() as conn:
            t = self.runner.live_tables("ideas", conn).ideas
            query = (
                select(t)
                .order_by(t.c.submitted_at.desc(), t.c.id)
                .offset(offset)
                .limit(limit + 1)  # one more: is there a next page?
            )
            if station:
                query = query.where(t.c.station == station)
            if status:
                query = query.where(t.c.status == status)
            if category:
                query = query.where(t.c.category == category)
            if who is None:
                query = query.where(t.c.status.in_([s.value for s in DECIDED]))
            elif (readable := self.idea_rules.readable_stations(who)) is not None:
                query = query.where(t.c.station.in_(sorted(readable)))
            rows = list(conn.execute(query).mappings())
        more = len(rows) > limit
        rows = rows[:limit]
        found = self.texts.texts(
            ref for r in rows for ref in (r["text_ref"], r["reply_ref"]) if ref
        )
        return Ideas(
            items=[_idea(r, found) for r in rows], next_offset=offset + limit if more else None
        )

    # -- safety-walk findings -----------------------------------------------------------------

    def findings(self, who: Principal, station: str | None = None) -> Findings:
        """Every finding, oldest walk first, with the measures that answer it. Findings
        are about places, so every role reads them."""
        who.require(Permission.read)
        with self.runner.engine.connect() as conn:
            f = self.runner.live_tables("findings", conn).findings
            plans = self.runner.live_tables("action_plans", conn)
            query = select(f).order_by(f.c.recorded_at, f.c.walk_id, f.c.code)
            if station:
                query = query.where(f.c.station == station)
            rows = list(conn.execute(query).mappings())
            answering: dict[str, list[AnsweringMeasure]] = defaultdict(list)
            links, m = plans.links, plans.measures
            linked = select(links.c.source, m.c.plan_id, m.c.code, m.c.title, m.c.status).join(
                m, (m.c.plan_id == links.c.plan_id) & (m.c.code == links.c.code)
            )
            for source, plan_id, code, title, status in conn.execute(
                linked.where(links.c.source.like("finding:%"))
            ):
                answering[source.removeprefix("finding:")].append(
                    AnsweringMeasure(plan=plan_id, code=code, title=title, status=status)
                )
        found = self.texts.texts(
            ref for r in rows for ref in (r["problem_ref"], r["proposal_ref"]) if ref
        )

        def text(ref: str | None) -> str | None:
            return None if ref is None else found.get(ref, ERASED)

        # A walk is an entry: who may not see the walker's single entries (police, outside
        # the police) sees what it found, but not which walk or on which day.
        hidden = hidden_actors(who, self.registry.list_actors(SYSTEM), Detail.entry)
        items = []
        for r in rows:
            reference = f"{r['walk_id']}/{r['code']}"
            shown = r["actor"] not in hidden
            items.append(
                FindingItem(
                    walk=r["walk_id"] if shown else None,
                    code=r["code"],
                    reference=reference if shown else None,
                    station=r["station"],
                    zone=r["zone"],
                    problem=text(r["problem_ref"]),
                    proposal=text(r["proposal_ref"]),
                    responsible=r["responsible"],
                    recorded_on=r["recorded_at"][:10] if shown else r["recorded_at"][:7],
                    measures=answering.get(reference, []),
                )
            )
        return Findings(items=items)

    # -- the baseline -------------------------------------------------------------------------

    def surveys(self, who: Principal | None, station: str | None = None) -> Surveys:
        if who is not None:
            who.require(Permission.read)
        with self.runner.engine.connect() as conn:
            t = self.runner.live_tables("surveys", conn).surveys
            query = select(t).order_by(t.c.station, t.c.question, t.c.year)
            if station:
                query = query.where(t.c.station == station)
            rows = list(conn.execute(query).mappings())
        return Surveys(
            items=[
                SurveyItem(
                    id=r["id"],
                    station=r["station"],
                    year=r["year"],
                    question=r["question"],
                    share=r["share"],
                    respondents=r["respondents"],
                )
                for r in rows
            ]
        )

    def baseline(self, station: str) -> list[BaselineRow]:
        """Per question: the first year measured (the baseline) against the latest."""
        by_question: dict[str, list[SurveyItem]] = defaultdict(list)
        for item in self.surveys(None, station)["items"]:
            by_question[item["question"]].append(item)
        out: list[BaselineRow] = []
        for question, items in sorted(by_question.items()):
            first, last = items[0], items[-1]
            out.append(
                BaselineRow(
                    question=question,
                    baseline_year=first["year"],
                    baseline_share=first["share"],
                    latest_year=last["year"],
                    latest_share=last["share"],
                    change=round(last["share"] - first["share"], 4),
                )
            )
        return out

    # -- the lägesbild ------------------------------------------------------------------------

    def compare_situation(
        self, who: Principal, station: str, quarter: str | None = None
    ) -> SituationComparison:
        """Observations per category this quarter, the quarter before and the same
        quarter a year earlier, beside the station's survey baseline."""
        self.registry.get_station(who, station)
        if quarter:
            year, q = parse_quarter(quarter)
        else:
            year, q = quarter_of(self.views.clock().astimezone(LOCAL).date())
        previous = (year, q - 1) if q > 1 else (year - 1, 4)
        last_year = (year - 1, q)
        spans = {"this": (year, q), "previous": previous, "last_year": last_year}
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        with self.runner.engine.connect() as conn:
            d = self.runner.live_tables("observations", conn).daily
            for name, (y, qq) in spans.items():
                first, last = quarter_days(y, qq)
                query = (
                    select(d.c.category, func.sum(d.c.count))
                    .where(d.c.station == station, d.c.day >= first, d.c.day <= last)
                    .group_by(d.c.category)
                )
                for category, count in conn.execute(query).all():
                    counts[category][name] = int(count or 0)
        rows = [
            QuarterCount(
                category=category,
                this_quarter=c["this"],
                previous_quarter=c["previous"],
                same_quarter_last_year=c["last_year"],
            )
            for category, c in sorted(counts.items())
        ]
        totals = QuarterCount(
            category="all",
            this_quarter=sum(r["this_quarter"] for r in rows),
            previous_quarter=sum(r["previous_quarter"] for r in rows),
            same_quarter_last_year=sum(r["same_quarter_last_year"] for r in rows),
        )
        return SituationComparison(
            station=station,
            quarter=quarter_label(year, q),
            previous_quarter=quarter_label(*previous),
            same_quarter_last_year=quarter_label(*last_year),
            rows=rows,
            totals=totals,
            baseline=self.baseline(station),
        )

    def contributions(
        self,
        who: Principal,
        *,
        start: date | None = None,
        end: date | None = None,
        station: str | None = None,
        actor: str | None = None,
    ) -> Contributions:
        """Observations each party reported to the lägesbild, per station and whole
        month (retracted ones not counted). The range is widened to whole months, and the
        month still running is left out for actors ``who`` may not see per day (police
        outside the police): their figures are never finer than a finished month."""
        who.require(Permission.read)
        check_range(start, end)
        start, end = whole_periods(start, end, "month")
        coarse = hidden_actors(who, self.registry.list_actors(SYSTEM), Detail.day)
        today = self.views.clock().astimezone(LOCAL).date()
        this_month = month(today)
        with self.runner.engine.connect() as conn:
            e = self.runner.live_tables("observations", conn).entries
            query = select(e.c.actor, e.c.station, e.c.day).where(e.c.status != "retracted")
            if start:
                query = query.where(e.c.day >= start)
            if end:
                query = query.where(e.c.day <= end)
            if station:
                query = query.where(e.c.station == station)
            if actor:
                query = query.where(e.c.actor == actor)
            tally: dict[tuple[str, str, str], int] = defaultdict(int)
            for reporter, st, day in conn.execute(query):
                unit = month(day if isinstance(day, date) else date.fromisoformat(day))
                if reporter in coarse and unit >= this_month:
                    continue  # a running month would show police reports day by day
                tally[(reporter, st, unit)] += 1
        rows = [
            ContributionRow(actor=a, station=s, month=m, reports=n)
            for (a, s, m), n in sorted(tally.items())
        ]
        return Contributions(months=sorted({r["month"] for r in rows}), rows=rows)

    # -- the public follow-up -----------------------------------------------------------------

    def public_progress(self, promise: str | None = None) -> PublicProgress:
        """The public follow-up, computed once per state of the views: anyone may ask, so
        a crowd reloading the page costs one computation, not one each. The key holds the
        views' positions and the day, so a new event or a new day is never answered from
        an older computation."""
        key = (promise, tuple(sorted(self.runner.live_positions().items())), self._today())
        with self._public_lock:
            cached = self._public_cache.get(key)
        if cached is None:
            cached = self._public_progress(promise)
            with self._public_lock:
                self._public_cache = {key: cached}  # only the newest state is worth keeping
        # The checkpoint changes without the views moving (the sealer signs later): fresh.
        latest = self.latest_checkpoint()
        checkpoint = (
            PublicCheckpoint(
                note=latest["note"], size=latest["tree_size"], how_to_verify=HOW_TO_VERIFY
            )
            if latest
            else None
        )
        return {**cached, "checkpoint": checkpoint}

    def _today(self) -> date:
        return self.views.clock().astimezone(LOCAL).date()

    def _public_progress(self, promise: str | None) -> PublicProgress:
        promises = self.registry.list_promises(SYSTEM)
        if not promises:
            raise NotFound("no promise is registered yet")
        found = (
            self.registry.get_promise(SYSTEM, promise)
            if promise
            else max(promises, key=lambda p: p.start)
        )
        today = self.views.clock().astimezone(LOCAL).date()
        last_whole_month = date(today.year, today.month, 1) - timedelta(days=1)
        up_to = min(found.end, last_whole_month)
        police = {a.code for a in self.registry.list_actors(SYSTEM) if a.kind == POLICE}
        commitments: list[PublicCommitment] = []
        if up_to >= found.start:
            progress = self.views.promise_progress(SYSTEM, str(found.id), end=up_to)
            for c in progress["commitments"]:
                stations: list[PublicStation] = []
                for s in c["stations"]:
                    row = PublicStation(
                        station=s["station"],
                        status=s["status"],
                        delivered=s["delivered"],
                        target=s["target"],
                    )
                    for key in ("months", "months_met") + (
                        () if c["actor"] in police else ("weeks", "weeks_met")
                    ):
                        if key in s:
                            row[key] = s[key]
                    stations.append(row)
                commitments.append(
                    PublicCommitment(
                        code=c["code"],
                        actor=c["actor"],
                        kind=c["kind"],
                        description=c["description"],
                        target=c["target"],
                        stations=stations,
                    )
                )
        measures = self.views.measures(SYSTEM, promise=str(found.id), status="done")["items"]
        return PublicProgress(
            promise={
                "code": found.code,
                "title": found.title,
                "period_start": found.period_start,
                "period_end": found.period_end,
                "stations": list(found.stations),
                "description": found.description,
            },
            up_to=up_to.isoformat(),
            commitments=commitments,
            completed_measures=[
                PublicMeasure(
                    station=m["station"],
                    title=m["title"],
                    owner=m["owner"],
                    status=m["status"],
                    updated_on=m["updated_at"][:10],
                    from_idea=any(link.startswith("idea:") for link in m["links"]),
                    from_finding=any(link.startswith("finding:") for link in m["links"]),
                )
                for m in measures
            ],
            ideas=self.ideas(None)["items"],
            checkpoint=None,  # added fresh by public_progress
        )


def _idea(r: Any, texts: dict[str, str]) -> IdeaItem:
    def text(ref: str | None) -> str | None:
        if ref is None:
            return None
        return texts.get(ref, ERASED)

    return IdeaItem(
        id=r["id"],
        station=r["station"],
        zone=r["zone"],
        category=r["category"],
        status=r["status"],
        text=text(r["text_ref"]),
        reply=text(r["reply_ref"]),
        measure={"plan": r["plan_id"], "code": r["measure_code"]} if r["plan_id"] else None,
        submitted_on=r["submitted_at"][:10],
        decided_on=r["decided_at"][:10] if r["decided_at"] else None,
        version=r["version"],
    )

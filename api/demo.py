"""The demo: the 2021–2022 promise from the seed text and a year of generated work.

Deterministic by seed. Everything is invented and impersonal: organisations and
places are real public bodies and stations, activity is synthetic, and there is
no person anywhere (staff are counts, units are pseudonyms).

The data are shaped so that every view has something to say: most commitments
are met, some fall behind (patrols at Floda, Vårgårda's public event never
happens), Alingsås's lighting measure is followed by fewer lighting and
unsafe-spot reports, and a few entries are corrected and one is retracted.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from api.runtime import Runtime
from ledger import ids
from ledger.access import SYSTEM, Principal, Role
from ledger.domain.base import recording_time
from ledger.entry_service import ACTIVITY, OBSERVATION
from ledger.inputs import (
    ActionPlanIn,
    ActivityIn,
    ActorIn,
    CorrectionIn,
    FindingsIn,
    IdeaDecisionIn,
    IdeaIn,
    MeasureIn,
    MeasureStatusIn,
    ObservationIn,
    PromiseIn,
    RetractionIn,
    StationIn,
    SurveyIn,
)
from ledger.taxonomy import SITUATION_REPORT

TZ = ZoneInfo("Europe/Stockholm")
PERIOD_START = date(2021, 9, 1)
PERIOD_END = date(2022, 8, 31)
SETUP_TIME = datetime(2021, 8, 23, 9, 0, tzinfo=TZ)

STATIONS = [
    ("herrljunga", "Herrljunga", "Herrljunga"),
    ("vargarda", "Vårgårda", "Vårgårda"),
    ("alingsas", "Alingsås", "Alingsås"),
    ("floda", "Floda", "Lerum"),
    ("lerum", "Lerum", "Lerum"),
]
MUNICIPALITIES = {
    "herrljunga-kommun": ("Herrljunga kommun", ["herrljunga"]),
    "vargarda-kommun": ("Vårgårda kommun", ["vargarda"]),
    "alingsas-kommun": ("Alingsås kommun", ["alingsas"]),
    "lerums-kommun": ("Lerums kommun", ["floda", "lerum"]),
}
ACTORS = [
    ("polisen-alingsas", "Polisen, lokalpolisområde Alingsås", "police"),
    ("vasttrafik", "Västtrafik", "transit"),
    ("trafikverket", "Trafikverket", "infrastructure"),
    *[(code, name, "municipality") for code, (name, _) in MUNICIPALITIES.items()],
]
ALL = [s[0] for s in STATIONS]


def _commitments() -> list[dict[str, object]]:
    c: list[dict[str, object]] = [
        _c(
            "polis-narvaro", "polisen-alingsas", "patrol", ALL, 2, "week", "Ökad närvaro i vardagen"
        ),
        _c(
            "polis-volontarer",
            "polisen-alingsas",
            "volunteer_patrol",
            ALL,
            1,
            "month",
            "Polisens volontärer tillsammans med trygghetsvärdar",
        ),
        _c(
            "polis-brottsbekampning",
            "polisen-alingsas",
            "enforcement",
            ALL,
            2,
            "month",
            "Insatser mot narkotika och ordningsstörningar",
        ),
        _c(
            "vt-trygghetsvardar",
            "vasttrafik",
            "security_host_shift",
            ALL,
            5,
            "week",
            "Trygghetsvärdar på stationsområdena",
        ),
        _c(
            "tv-rondering",
            "trafikverket",
            "cleaning_round",
            ALL,
            3,
            "week",
            "Rondering av städ och drift",
        ),
        _c(
            "tv-vaktare",
            "trafikverket",
            "guard_shift",
            ["lerum", "herrljunga"],
            5,
            "week",
            "Väktare vid Lerum och Herrljunga station",
        ),
    ]
    # Every party promised to take part in the rolling lägesbild; the two that report
    # observations in the demo are followed up on those reports.
    for code, short in (("vasttrafik", "vt"), ("trafikverket", "tv")):
        c.append(
            _c(
                f"{short}-lagesbild",
                code,
                SITUATION_REPORT,
                ALL,
                4,
                "month",
                "Medverka i den löpande lokala lägesbilden",
            )
        )
    for code, (_, stations) in MUNICIPALITIES.items():
        short = code.removesuffix("-kommun")
        c.append(
            _c(
                f"{short}-utemiljo",
                code,
                "environment_measure",
                stations,
                2,
                "period",
                "Utemiljön runt stationsområdet",
            )
        )
        c.append(
            _c(
                f"{short}-aktivitet",
                code,
                "public_event",
                stations,
                1,
                "period",
                "En publik trivsel- och trygghetsskapande aktivitet per station",
            )
        )
    return c


def _c(
    code: str, actor: str, kind: str, stations: list[str], count: int, per: str, description: str
) -> dict[str, object]:
    return {
        "code": code,
        "actor": actor,
        "kind": kind,
        "stations": stations,
        "target": {"count": count, "per": per},
        "description": description,
    }


# How much of each weekly target is delivered: 1.0 = as promised.
DELIVERY = defaultdict(
    lambda: 1.05,
    {
        ("patrol", "floda"): 0.45,
        ("patrol", "vargarda"): 0.8,
        ("guard_shift", "herrljunga"): 0.85,
        ("security_host_shift", "floda"): 0.9,
    },
)

SHIFT_HOURS = {  # kind: (start hour choices, duration hours range, staff range)
    "patrol": ([14, 16, 18, 20], (1, 3), (2, 2)),
    "volunteer_patrol": ([18, 19], (3, 4), (3, 6)),
    "enforcement": ([19, 21], (2, 4), (2, 4)),
    "security_host_shift": ([15, 16], (5, 7), (2, 2)),
    "cleaning_round": ([6, 7], (1, 3), (1, 2)),
    "guard_shift": ([20, 21], (5, 6), (1, 2)),
    "safety_walk": ([18], (2, 2), (6, 12)),
    "public_event": ([11, 12], (4, 5), (4, 10)),
    "environment_measure": ([8], (6, 8), (2, 4)),
}

OBSERVATION_RATES = {  # category: mean reports per station per week
    "litter": 2.5,
    "graffiti": 1.2,
    "vandalism": 0.8,
    "broken_lighting": 0.6,
    "unsafe_spot": 0.7,
    "disorder": 0.5,
    "gathering": 0.4,
    "drugs": 0.3,
    "threat_to_staff": 0.1,
}
REPORTERS = ["vasttrafik", "trafikverket"]
LIGHTING_DONE = date(2022, 2, 15)  # Alingsås's lighting upgrade: reports drop after it


@dataclass
class DemoSummary:
    stations: int = 0
    actors: int = 0
    activities: int = 0
    observations: int = 0
    corrections: int = 0
    retractions: int = 0
    keys: list[tuple[str, str | None, str]] = field(default_factory=list)


def populate(system: Runtime, *, seed: int = 2021, days: int = 365) -> DemoSummary:
    """Record the demo in the order it would have happened, each event stamped with the
    moment it would have been reported, so "as of" questions have real answers."""
    rng = random.Random(seed)  # noqa: S311 (deterministic demo data, not security)
    out = DemoSummary()
    with recording_time(SETUP_TIME):
        for code, name, municipality in STATIONS:
            system.registry.register_station(
                SYSTEM, StationIn(code=code, name=name, municipality=municipality)
            )
            out.stations += 1
        for code, name, kind in ACTORS:
            system.registry.register_actor(
                SYSTEM, ActorIn.model_validate({"code": code, "name": name, "kind": kind})
            )
            out.actors += 1
        commitments = _commitments()
        system.registry.make_promise(
            SYSTEM,
            PromiseIn.model_validate(
                {
                    "code": "stk-2021-2022",
                    "title": "Medborgarlöfte 2021–2022: tryggare stationsområden",
                    "period_start": PERIOD_START,
                    "period_end": PERIOD_END,
                    "stations": ALL,
                    "parties": [a[0] for a in ACTORS],
                    "commitments": commitments,
                    "description": "Västtrafik, Trafikverket, kommunerna Herrljunga, Vårgårda, "
                    "Alingsås, Lerum samt lokalpolisområde Alingsås (STK).",
                }
            ),
        )
        plan_steps = _action_plans(system)

    end = min(PERIOD_END, PERIOD_START + timedelta(days=days - 1))
    # Partners report each week's work on the following Monday morning.
    reports: dict[tuple[datetime, str], list[ActivityIn | ObservationIn]] = defaultdict(list)
    for commitment in commitments:
        if commitment["kind"] == SITUATION_REPORT:
            continue  # followed up on the observations below
        stations = commitment["stations"]
        assert isinstance(stations, list)
        for station in stations:
            for activity in _activities_for(rng, commitment, station, end):
                reports[(_report_time(activity.started_at), str(commitment["actor"]))].append(
                    activity
                )
    for reporter, observation in _observations(rng, end):
        reports[(_report_time(observation.observed_at), reporter)].append(observation)

    schedule: list[tuple[datetime, int, Callable[[], None]]] = []

    def report(
        at: datetime, actor: str, items: list[ActivityIn | ObservationIn]
    ) -> Callable[[], None]:
        def run() -> None:
            who = Principal("demo", Role.partner, actor)
            activities = [i for i in items if isinstance(i, ActivityIn)]
            observations = [i for i in items if isinstance(i, ObservationIn)]
            if activities:
                receipt = system.entries.record_entries(ACTIVITY, who, activities)
                out.activities += receipt.created
            if observations:
                out.observations += system.entries.record_entries(
                    OBSERVATION, who, observations
                ).created

        return run

    for n, ((at, actor), items) in enumerate(sorted(reports.items())):
        schedule.append((at, n, report(at, actor, items)))
    reported = [
        (at, actor, item)
        for (at, actor), items in reports.items()
        for item in items
        if isinstance(item, ActivityIn)
    ]
    steps = plan_steps + _corrections(rng, system, reported, out) + _residents(system)
    for n, (at, step) in enumerate(steps):
        schedule.append((at, 100_000 + n, step))
    schedule.sort(key=lambda item: (item[0], item[1]))
    for at, _, step in schedule:
        with recording_time(at):
            step()

    for role in (Role.admin, Role.steering, Role.auditor):
        _, token = system.create_key(role, None, f"demo {role.value}")
        out.keys.append((role.value, None, token))
    for code, _, _ in ACTORS:
        _, token = system.create_key(Role.partner, code, f"demo partner {code}")
        out.keys.append(("partner", code, token))
    return out


def _report_time(moment: datetime) -> datetime:
    day = moment.astimezone(TZ).date()
    monday = day + timedelta(days=7 - day.weekday())
    return datetime.combine(monday, time(9, 0), TZ)


def _activities_for(
    rng: random.Random, commitment: dict[str, object], station: str, end: date
) -> list[ActivityIn]:
    kind = str(commitment["kind"])
    target = commitment["target"]
    assert isinstance(target, dict)
    count, per = int(target["count"]), str(target["per"])
    actor = str(commitment["actor"])
    days: list[date] = []
    if per == "period":
        # Spread the events over the period; Vårgårda never holds its public event.
        if kind == "public_event" and station == "vargarda":
            return []
        span = (PERIOD_END - PERIOD_START).days
        for i in range(count + (1 if kind == "environment_measure" else 0)):
            day = PERIOD_START + timedelta(
                days=int(span * (i + 1) / (count + 2)) + rng.randint(-10, 10)
            )
            if day <= end:
                days.append(day)
        if station == "alingsas" and kind == "environment_measure":
            days.append(LIGHTING_DONE - timedelta(days=3))
    else:
        per_day = count / (7 if per == "week" else 30.4) * DELIVERY[(kind, station)]
        day = PERIOD_START
        while day <= end:
            expected = per_day
            if day.month == 7 and kind in {"security_host_shift", "patrol"}:
                expected *= 0.6  # summer holidays
            n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            days.extend([day] * n)
            day += timedelta(days=1)
    starts, (dmin, dmax), (smin, smax) = SHIFT_HOURS[kind]
    out = []
    for seq, day in enumerate(days):
        started = datetime.combine(day, time(rng.choice(starts), rng.choice([0, 0, 15, 30])), TZ)
        ended = started + timedelta(
            hours=rng.randint(dmin, dmax), minutes=rng.choice([0, 15, 30, 45])
        )
        out.append(
            ActivityIn.model_validate(
                {
                    "external_id": f"{kind}-{station}-{day:%Y%m%d}-{seq}",
                    "kind": kind,
                    "station": station,
                    "zone": rng.choice(
                        ["platform", "tunnel", "parking", "bus_stop", "station_building"]
                    ),
                    "started_at": started,
                    "ended_at": ended,
                    "staff_count": rng.randint(smin, smax),
                    "details": _details(rng, kind, station),
                }
            )
        )
    del actor
    return out


def _details(rng: random.Random, kind: str, station: str) -> dict[str, object]:
    match kind:
        case "patrol":
            return {
                "mode": rng.choice(["foot", "vehicle", "mixed"]),
                "unit": f"unit-{rng.randint(1, 6)}",
            }
        case "volunteer_patrol":
            return {"volunteers": rng.randint(2, 5), "with_security_hosts": True}
        case "enforcement":
            return {
                "focus": rng.choice(["drugs", "public_order", "both"]),
                "interventions": rng.randint(0, 4),
            }
        case "security_host_shift":
            return {"conversations": rng.randint(5, 40), "unit": f"host-team-{rng.randint(1, 4)}"}
        case "cleaning_round":
            return {
                "litter_bags": rng.randint(1, 6),
                "graffiti_removed_m2": round(rng.uniform(0, 4), 1),
                "damage_found": rng.randint(0, 2),
            }
        case "guard_shift":
            return {"interventions": rng.randint(0, 3), "unit": f"guard-{rng.randint(1, 3)}"}
        case "environment_measure":
            if station == "alingsas":
                return {"measure": "lighting", "description": "Ny LED-belysning i gångtunneln"}
            return {
                "measure": rng.choice(["vegetation", "lighting", "furniture"]),
                "description": "Röjning och ljusare gångstråk",
            }
        case "public_event":
            return {
                "title": "Trygghetsdag vid stationen",
                "participants_estimate": rng.randint(60, 250),
            }
        case _:
            return {"participants": rng.randint(6, 15), "findings": rng.randint(2, 9)}


def _observations(rng: random.Random, end: date) -> Iterator[tuple[str, ObservationIn]]:
    week = 0
    monday = PERIOD_START - timedelta(days=PERIOD_START.weekday())
    while monday <= end:
        for station in ALL:
            for category, rate in OBSERVATION_RATES.items():
                mean = rate * (1.4 if station in {"alingsas", "lerum"} else 1.0)
                if station == "alingsas" and category in {"broken_lighting", "unsafe_spot"}:
                    mean *= 0.25 if monday >= LIGHTING_DONE else 2.5
                if monday.month in {12, 1} and category == "broken_lighting":
                    mean *= 1.5  # darker months
                n = _poisson(rng, mean)
                for i in range(n):
                    day = monday + timedelta(days=rng.randint(0, 6))
                    if day > end or day < PERIOD_START:
                        continue
                    at = datetime.combine(
                        day, time(rng.randint(6, 23), rng.choice([0, 20, 40])), TZ
                    )
                    reporter = rng.choice(REPORTERS)
                    yield (
                        reporter,
                        ObservationIn.model_validate(
                            {
                                "external_id": f"obs-{station}-{category}-{week}-{i}",
                                "category": category,
                                "station": station,
                                "zone": rng.choice(["platform", "tunnel", "parking", "bus_stop"]),
                                "observed_at": at,
                                "count": 1 + _poisson(rng, 0.4),
                                "severity": rng.choices(["low", "medium", "high"], [5, 4, 1])[0],
                            }
                        ),
                    )
        monday += timedelta(days=7)
        week += 1


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; fine for the small means used here.
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _action_plans(system: Runtime) -> list[tuple[datetime, Callable[[], None]]]:
    """Create the plans now; return their measures' status changes, each at its moment."""
    plans = {
        "herrljunga": [
            ("Belysning i gångtunneln", "herrljunga-kommun", date(2021, 12, 1), "done"),
            ("Väktare kvällstid", "trafikverket", date(2021, 10, 1), "done"),
            ("Trygghetsvandring med resenärer", "herrljunga-kommun", date(2022, 4, 30), "started"),
        ],
        "vargarda": [
            ("Röjning av vegetation vid perrongen", "vargarda-kommun", date(2021, 11, 15), "done"),
            ("Publik trygghetsaktivitet", "vargarda-kommun", date(2022, 5, 31), "planned"),
        ],
        "alingsas": [
            ("Ny LED-belysning i tunneln", "alingsas-kommun", date(2022, 2, 28), "done"),
            (
                "Kameraövervakning cykelparkering (utredning)",
                "trafikverket",
                date(2022, 6, 30),
                "cancelled",
            ),
            (
                "Gemensam lägesbild varannan vecka",
                "polisen-alingsas",
                date(2021, 10, 15),
                "started",
            ),
        ],
        "floda": [
            ("Fler polispass kvällstid", "polisen-alingsas", date(2022, 1, 31), "planned"),
            ("Klottersanering inom 24 timmar", "trafikverket", date(2021, 12, 31), "done"),
        ],
        "lerum": [
            ("Väktare vid Lerum station", "trafikverket", date(2021, 10, 1), "done"),
            (
                "Bättre belysning på pendelparkeringen",
                "lerums-kommun",
                date(2022, 3, 31),
                "started",
            ),
        ],
    }
    # What a measure is to solve, where, and why: from the baseline mapping and safety walks.
    why: dict[str, dict[str, str]] = {
        "Belysning i gångtunneln": {
            "problem": "Mörk gångtunnel som upplevs otrygg kvällstid",
            "place": "tunnel",
            "rationale": "Trygghetsvandringen och resenärsenkäten pekade ut tunneln",
        },
        "Väktare kvällstid": {
            "problem": "Ordningsstörningar vid stationen fredag och lördag kväll",
            "place": "platform",
            "rationale": "Lägesbilden visar störningarna samlade till helgkvällar",
        },
        "Röjning av vegetation vid perrongen": {
            "problem": "Buskage skymmer sikten och samlar skräp",
            "place": "platform",
        },
        "Publik trygghetsaktivitet": {
            "problem": "Få vistas på torget kvällstid",
            "place": "square",
            "rationale": "Åtagande i medborgarlöftet: en aktivitet per station",
        },
        "Ny LED-belysning i tunneln": {
            "problem": "Trasig och svag belysning i tunneln",
            "place": "tunnel",
            "rationale": "Flest observationer av trasig belysning av alla stationer",
        },
        "Klottersanering inom 24 timmar": {
            "problem": "Klotter på elskåp och bullerplank",
            "place": "surroundings",
            "rationale": "Snabb sanering minskar nytt klotter",
        },
        "Bättre belysning på pendelparkeringen": {
            "problem": "Otrygg pendelparkering vintertid",
            "place": "parking",
        },
    }
    steps: list[tuple[datetime, Callable[[], None]]] = []

    def change(plan_id: UUID, code: str, status: str) -> Callable[[], None]:
        def apply() -> None:
            body = MeasureStatusIn.model_validate({"status": status})
            system.registry.change_measure_status(SYSTEM, plan_id, code, body)

        return apply

    for station, measures in plans.items():
        receipt = system.registry.create_action_plan(
            SYSTEM,
            ActionPlanIn(
                promise="stk-2021-2022",
                station=station,
                measures=[
                    MeasureIn.model_validate({"title": t, "owner": o, "due": d, **why.get(t, {})})
                    for t, o, d, _ in measures
                ],
            ),
        )
        for i, (_, _, due, status) in enumerate(measures, start=1):
            # Work starts a month before the due date and is done a few days before it.
            moments = {
                "started": datetime.combine(due - timedelta(days=30), time(10, 0), TZ),
                "done": datetime.combine(due - timedelta(days=3), time(10, 0), TZ),
                "cancelled": datetime.combine(due - timedelta(days=45), time(10, 0), TZ),
            }
            path = {
                "planned": [],
                "started": ["started"],
                "done": ["started", "done"],
                "cancelled": ["cancelled"],
            }[status]
            for step in path:
                steps.append((moments[step], change(receipt.id, f"m{i}", step)))
    return steps


#: Residents' ideas: (station, zone, category, text, sent, decision or None, days to decide).
IDEAS: list[tuple[str, str | None, str, str, date, tuple[str, str] | None]] = [
    (
        "lerum",
        "parking",
        "lighting",
        "Pendelparkeringen är mörk på vintern. Fler lampor längs gångvägen till perrongen skulle göra stor skillnad.",
        date(2021, 10, 12),
        (
            "adopted",
            "Tack! Belysningen längs gångvägen byggs ut som en del av åtgärden för pendelparkeringen.",
        ),
    ),
    (
        "herrljunga",
        "tunnel",
        "cleanliness",
        "Klottret i gångtunneln kommer tillbaka hela tiden. Kan det tas bort snabbare?",
        date(2021, 11, 3),
        ("considered", "Vi ser över hur snabbt klotter kan saneras och återkommer i vår."),
    ),
    (
        "alingsas",
        "square",
        "presence",
        "Fler vuxna på torget på fredagskvällar, gärna trygghetsvärdar.",
        date(2022, 1, 20),
        ("adopted", "Trygghetsvärdarna går nu även på torget fredagskvällar."),
    ),
    (
        "floda",
        "bike_parking",
        "environment",
        "Cykelparkeringen borde ha tak och bättre lås så att fler vågar ställa cykeln där.",
        date(2022, 3, 8),
        ("declined", "Det ryms inte i budgeten i år. Vi tar med förslaget till nästa års plan."),
    ),
    (
        "vargarda",
        "platform",
        "travel",
        "Det vore bra med en tydligare skylt om var man ringer vid ett problem på perrongen.",
        date(2022, 5, 2),
        None,
    ),
    (
        "lerum",
        "tunnel",
        "lighting",
        "Tunneln under spåren känns otrygg på kvällen, mer ljus och speglar i hörnen?",
        date(2022, 7, 4),
        None,
    ),
]

#: The trygghetsmätning before the promise (the baseline) and in its last spring.
SURVEYS: dict[str, tuple[float, float]] = {
    "herrljunga": (0.52, 0.58),
    "vargarda": (0.61, 0.63),
    "alingsas": (0.44, 0.53),
    "floda": (0.57, 0.55),
    "lerum": (0.49, 0.56),
}
SURVEY_QUESTION = "Känner sig trygg vid stationen kvällstid"


def _residents(system: Runtime) -> list[tuple[datetime, Callable[[], None]]]:
    """Ideas sent and answered, one adopted idea that becomes a measure and is done, and
    two years of trygghetsmätning per station, each at its moment."""
    steps: list[tuple[datetime, Callable[[], None]]] = []
    plans = {p.station: p for p in system.registry.list_action_plans(SYSTEM)}
    sent_ids: list[UUID] = []

    def send(station: str, zone: str | None, category: str, text: str) -> Callable[[], None]:
        def run() -> None:
            idea = IdeaIn.model_validate(
                {"station": station, "zone": zone, "category": category, "text": text}
            )
            sent_ids.append(system.ideas.submit(idea).id)

        return run

    def decide(
        n: int, status: str, reply: str, measure: dict[str, str] | None
    ) -> Callable[[], None]:
        def run() -> None:
            body = {"status": status, "reply": reply, **({"measure": measure} if measure else {})}
            system.ideas.decide(SYSTEM, sent_ids[n], IdeaDecisionIn.model_validate(body))

        return run

    for n, (station, zone, category, text, sent, decision) in enumerate(IDEAS):
        steps.append(
            (datetime.combine(sent, time(19, 30), TZ), send(station, zone, category, text))
        )
        if decision is None:
            continue
        status, reply = decision
        measure = None
        if status == "adopted":
            measure = {
                "plan": str(plans[station].id),
                "code": f"i{n + 1}",
                "title": "Idé från invånare: " + text.split(".")[0][:80],
                "owner": "lerums-kommun" if station == "lerum" else "vasttrafik",
                "due": (sent + timedelta(days=120)).isoformat(),
            }
        decided = datetime.combine(sent + timedelta(days=21), time(14, 0), TZ)
        steps.append((decided, decide(n, status, reply, measure)))
        if measure:
            plan_id, code = plans[station].id, measure["code"]

            def done(plan_id: UUID = plan_id, code: str = code) -> None:
                body = MeasureStatusIn.model_validate({"status": "done"})
                system.registry.change_measure_status(SYSTEM, plan_id, code, body)

            steps.append((decided + timedelta(days=60), done))

    steps += _safety_walk(system, plans["herrljunga"].id)

    def survey(year: int, index: int) -> Callable[[], None]:
        def run() -> None:
            items = [
                SurveyIn.model_validate(
                    {
                        "station": st,
                        "year": year,
                        "question": SURVEY_QUESTION,
                        "share": shares[index],
                        "respondents": 180 + 7 * i,
                    }
                )
                for i, (st, shares) in enumerate(SURVEYS.items())
            ]
            system.surveys.record(SYSTEM, items)

        return run

    steps.append((datetime(2021, 9, 1, 9, 0, tzinfo=TZ), survey(2020, 0)))
    steps.append((datetime(2022, 6, 20, 9, 0, tzinfo=TZ), survey(2022, 1)))
    return steps


def _safety_walk(system: Runtime, plan_id: UUID) -> list[tuple[datetime, Callable[[], None]]]:
    """Herrljunga's safety walk with travellers: what it found, and the measure that
    answers its first finding (done by the end of the period)."""
    walker = Principal("demo", Role.partner, "herrljunga-kommun")
    walk: list[UUID] = []

    def go() -> None:
        activity = ActivityIn.model_validate(
            {
                "external_id": "hk-trygghetsvandring-2022",
                "kind": "safety_walk",
                "station": "herrljunga",
                "started_at": datetime(2022, 4, 20, 18, 0, tzinfo=TZ),
                "ended_at": datetime(2022, 4, 20, 20, 0, tzinfo=TZ),
                "staff_count": 3,
                "details": {"participants": 14, "findings": 3},
            }
        )
        walk.append(system.entries.record_entry(ACTIVITY, walker, activity).id)

    def found() -> None:
        body = FindingsIn.model_validate(
            {
                "findings": [
                    {
                        "zone": "tunnel",
                        "problem": "Skymd sikt och mörkt vid tunnelns norra mynning",
                        "proposal": "Speglar och starkare belysning",
                        "responsible": "trafikverket",
                    },
                    {
                        "zone": "parking",
                        "problem": "Trasigt staket mot spåret",
                        "responsible": "trafikverket",
                    },
                    {
                        "zone": "bus_stop",
                        "problem": "Dålig skyltning till perrongen",
                        "proposal": "Ny vägvisning",
                        "responsible": "vasttrafik",
                    },
                ]
            }
        )
        system.findings.record(walker, walk[0], body)

    def answer() -> None:
        measure = MeasureIn.model_validate(
            {
                "code": "m9",
                "title": "Speglar och belysning vid tunnelns norra mynning",
                "owner": "trafikverket",
                "due": "2022-08-15",
                "place": "tunnel",
                "finding": f"{walk[0]}/f1",
            }
        )
        system.registry.add_measure(SYSTEM, plan_id, measure)

    def done() -> None:
        body = MeasureStatusIn.model_validate({"status": "done"})
        system.registry.change_measure_status(SYSTEM, plan_id, "m9", body)

    return [
        (datetime(2022, 4, 21, 9, 0, tzinfo=TZ), go),
        (datetime(2022, 4, 22, 10, 0, tzinfo=TZ), found),
        (datetime(2022, 5, 3, 10, 0, tzinfo=TZ), answer),
        (datetime(2022, 8, 10, 10, 0, tzinfo=TZ), done),
    ]


def _corrections(
    rng: random.Random,
    system: Runtime,
    reported: list[tuple[datetime, str, ActivityIn]],
    out: DemoSummary,
) -> list[tuple[datetime, Callable[[], None]]]:
    """A handful of corrections and one retraction, each a week after the report it fixes.
    Entry ids are derived from (actor, external_id), so they are known in advance."""
    steps: list[tuple[datetime, Callable[[], None]]] = []

    def fix(who: Principal, entry_id: UUID) -> Callable[[], None]:
        def run() -> None:
            system.entries.correct_entry(
                ACTIVITY,
                who,
                entry_id,
                CorrectionIn(
                    changes={"staff_count": 3},
                    reason="Tre värdar i tjänst, inte två",
                    expected_version=1,
                ),
            )
            out.corrections += 1

        return run

    def withdraw(who: Principal, entry_id: UUID) -> Callable[[], None]:
        def run() -> None:
            system.entries.retract_entry(
                ACTIVITY,
                who,
                entry_id,
                RetractionIn(reason="Rapporterad två gånger av misstag", expected_version=1),
            )
            out.retractions += 1

        return run

    hosts = sorted((at, a.external_id) for at, actor, a in reported if actor == "vasttrafik")
    for at, external_id in sorted(rng.sample(hosts, min(6, len(hosts)))):
        who = Principal("demo", Role.partner, "vasttrafik")
        steps.append((at + timedelta(days=7), fix(who, ids.activity_id("vasttrafik", external_id))))
    cleaning = sorted((at, a.external_id) for at, actor, a in reported if actor == "trafikverket")
    if len(cleaning) > 10:
        at, external_id = cleaning[10]
        who = Principal("demo", Role.partner, "trafikverket")
        steps.append(
            (at + timedelta(days=7), withdraw(who, ids.activity_id("trafikverket", external_id)))
        )
    return steps

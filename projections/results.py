"""What the read side answers: one typed result per view.

They are ``TypedDict``s: the views build them from SQL rows at no cost, the dashboard and
the report read them by key, the HTTP layer serves them as its response models (so the
OpenAPI contract is these shapes, ``api/schemas.py``), and a type checker (mypy, strict
on this package) checks every key on every side.
"""

from __future__ import annotations

from typing import Any, NotRequired

# typing_extensions' TypedDict: pydantic (which serves these as the API's response models)
# needs it before Python 3.12.
from typing_extensions import TypedDict


class SummaryRow(TypedDict):
    period: str
    kind: str
    activities: int
    hours: float
    staff_hours: float
    actor: NotRequired[str]  # a station's summary: per actor
    station: NotRequired[str]  # an actor's summary: per station


class Totals(TypedDict):
    activities: int
    hours: float
    staff_hours: float


Summary = TypedDict(
    "Summary",
    {
        "group": str,
        "rows": list[SummaryRow],
        "totals": Totals,
        "from": NotRequired[str | None],
        "to": NotRequired[str | None],
        "as_of_position": NotRequired[int | None],
        "station": NotRequired[str],
        "actor": NotRequired[str],
        "withheld": NotRequired[str],
        "widened": NotRequired[str],
    },
)


class TargetOut(TypedDict):
    count: int
    per: str
    metric: str
    due: NotRequired[str | None]


class StationProgress(TypedDict):
    station: str
    target: int  # for the range: whole weeks (or months) × count, or the period's count
    expected_by_now: int  # due by the day judged
    delivered: float  # in the range, in the commitment's metric (activities or hours)
    share_of_target: float | None
    status: str  # ledger.progress.Status
    weeks: NotRequired[int]  # per-week commitments: whole ISO weeks in the range
    weeks_met: NotRequired[int]  # … of them ended and reaching the weekly count
    months: NotRequired[int]
    months_met: NotRequired[int]


class CommitmentProgress(TypedDict):
    code: str
    actor: str
    kind: str
    description: str
    target: TargetOut
    stations: list[StationProgress]


Progress = TypedDict(
    "Progress",
    {
        "promise": dict[str, Any],
        "today": str,
        "elapsed_share": float,
        "from": str,
        "to": str,
        "commitments": list[CommitmentProgress],
        "as_of_position": NotRequired[int | None],
    },
)


class SituationRow(TypedDict):
    station: str
    week: str
    category: str
    reports: int
    count: int
    previous_4_weeks_avg: float
    change: float


Situation = TypedDict(
    "Situation",
    {
        "from": str,
        "to": str,
        "rows": list[SituationRow],
        "as_of_position": NotRequired[int | None],
    },
)


class ListedMeasure(TypedDict):
    plan_id: str
    station: str
    code: str
    title: str
    owner: str
    due: str
    status: str
    overdue: bool
    updated_at: str
    problem: str | None
    place: str | None
    rationale: str | None
    links: list[str]


class Measures(TypedDict):
    items: list[ListedMeasure]
    as_of_position: NotRequired[int | None]


class EntryPage(TypedDict):
    page: int
    page_size: int
    total: int
    items: list[dict[str, Any]]  # the entry's columns; activities and observations differ
    withheld: NotRequired[str]


class Feed(TypedDict):
    events: list[dict[str, Any]]  # the event's own payload, by kind of event
    next: int


# -- residents, the baseline and the lägesbild ------------------------------------------------


class MeasureLink(TypedDict):
    plan: str
    code: str


class IdeaItem(TypedDict):
    id: str
    station: str
    zone: str | None
    category: str | None
    status: str  # new | considered | adopted | declined
    text: str | None  # None once erased
    reply: str | None
    measure: MeasureLink | None
    submitted_on: str  # the day it arrived (no time: nothing to tell a sender by)
    decided_on: str | None
    version: int


class Ideas(TypedDict):
    items: list[IdeaItem]
    next_offset: NotRequired[int | None]  # ask again with offset= for the next page


class SurveyItem(TypedDict):
    id: str
    station: str
    year: int
    question: str
    share: float
    respondents: int


class Surveys(TypedDict):
    items: list[SurveyItem]


class QuarterCount(TypedDict):
    category: str
    this_quarter: int
    previous_quarter: int
    same_quarter_last_year: int


class BaselineRow(TypedDict):
    question: str
    baseline_year: int
    baseline_share: float
    latest_year: int
    latest_share: float
    change: float  # latest − baseline, in shares (0.05 = five percentage points)


class SituationComparison(TypedDict):
    station: str
    quarter: str  # 2022-Q1
    previous_quarter: str
    same_quarter_last_year: str
    rows: list[QuarterCount]  # observations (reported counts) per category
    totals: QuarterCount
    baseline: list[BaselineRow]


class ContributionRow(TypedDict):
    actor: str
    station: str
    month: str
    reports: int  # observations reported to the lägesbild


class Contributions(TypedDict):
    months: list[str]
    rows: list[ContributionRow]


class PublicStation(TypedDict):
    station: str
    status: str
    delivered: float
    target: int
    months: NotRequired[int]
    months_met: NotRequired[int]
    weeks: NotRequired[int]
    weeks_met: NotRequired[int]


class PublicCommitment(TypedDict):
    code: str
    actor: str
    kind: str
    description: str
    target: TargetOut
    stations: list[PublicStation]


class PublicMeasure(TypedDict):
    station: str
    title: str
    owner: str
    status: str
    updated_on: str
    from_idea: bool  # it answers a resident's idea
    from_finding: bool  # it answers a safety walk's finding


class PublicCheckpoint(TypedDict):
    note: str
    size: int
    how_to_verify: str


class PublicProgress(TypedDict):
    promise: dict[str, Any]
    up_to: str  # the last day counted: the end of the last whole month
    commitments: list[PublicCommitment]
    completed_measures: list[PublicMeasure]
    ideas: list[IdeaItem]
    checkpoint: PublicCheckpoint | None


class AnsweringMeasure(TypedDict):
    plan: str
    code: str
    title: str
    status: str


class FindingItem(TypedDict):
    walk: str | None  # the safety walk's activity id (None: a police walk, outside the police)
    code: str  # f1, f2, … within the walk
    reference: str | None  # <walk>/<code>: what a measure names in ``finding``
    station: str
    zone: str | None
    problem: str | None  # None once erased
    proposal: str | None
    responsible: str | None
    recorded_on: str  # the day, or only the month for a police walk outside the police
    measures: list[AnsweringMeasure]


class Findings(TypedDict):
    items: list[FindingItem]

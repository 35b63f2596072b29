"""Read models: summaries, promise progress, the situational picture, measures, lists."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, ViewsDep
from api.schemas import (
    AS_OF,
    READ,
    EntryPage,
    Feed,
    Measures,
    Progress,
    Projections,
    Situation,
    Summary,
    errors,
)
from ledger.access import Principal
from ledger.taxonomy import ActivityKind, ObservationCategory
from projections import results
from projections.asof import parse_as_of
from projections.views import Views, check_range

router = APIRouter(prefix="/v1", tags=["views"])

MinPosition = Annotated[
    int | None,
    Query(ge=1, le=2**62, description="wait (bounded) until the views include this log position"),
]
AsOfParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="an ISO 8601 timestamp with offset, or a log position: "
        "answer as the view stood then",
    ),
]
From = Annotated[date | None, Query(alias="from", description="first day (inclusive)")]
To = Annotated[date | None, Query(alias="to", description="last day (inclusive)")]
Group = Annotated[Literal["day", "week", "month"], Query(description="period of each row")]
Code = Annotated[str | None, Query(max_length=64)]


@dataclass(frozen=True)
class SummaryQuery:
    """What both activity summaries (per station, per actor) are asked."""

    start: date | None
    end: date | None
    group: str
    as_of: str | None
    min_position: int | None


def summary_query(
    start: From = None,
    end: To = None,
    group: Group = "week",
    as_of: AsOfParam = None,
    min_position: MinPosition = None,
) -> SummaryQuery:
    return SummaryQuery(start, end, group, as_of, min_position)


SummaryParams = Annotated[SummaryQuery, Depends(summary_query)]


def _activity_summary(
    views: Views, read: Callable[..., results.Summary], who: Principal, code: str, q: SummaryQuery
) -> results.Summary:
    """``read`` is ``views.station_summary`` or ``views.actor_summary``."""
    check_range(q.start, q.end)
    views.wait_for(q.min_position, ("activities",))
    return read(who, code, start=q.start, end=q.end, group=q.group, as_of=parse_as_of(q.as_of))


@router.get(
    "/stations/{code}/summary",
    response_model=Summary,
    response_model_exclude_unset=True,
    operation_id="stationSummary",
    responses=errors(*AS_OF, 403, 404),
    summary="Activities per period, actor and kind at one station",
)
def station_summary(
    code: str, who: Caller, views: ViewsDep, query: SummaryParams
) -> results.Summary:
    return _activity_summary(views, views.station_summary, who, code, query)


@router.get(
    "/actors/{code}/summary",
    response_model=Summary,
    response_model_exclude_unset=True,
    operation_id="actorSummary",
    responses=errors(*AS_OF, 403, 404),
    summary="Activities per period, station and kind of one actor",
)
def actor_summary(code: str, who: Caller, views: ViewsDep, query: SummaryParams) -> results.Summary:
    return _activity_summary(views, views.actor_summary, who, code, query)


@router.get(
    "/promises/{promise}/progress",
    response_model=Progress,
    operation_id="promiseProgress",
    responses=errors(*AS_OF, 404),
    summary="Promised vs delivered, per commitment and station",
)
def promise_progress(
    promise: str,
    who: Caller,
    views: ViewsDep,
    start: From = None,
    end: To = None,
    as_of: AsOfParam = None,
    min_position: MinPosition = None,
) -> results.Progress:
    # Commitments to the lägesbild count observations: both views must have caught up.
    views.wait_for(min_position, ("activities", "observations"))
    return views.promise_progress(who, promise, start=start, end=end, as_of=parse_as_of(as_of))


@router.get(
    "/situation",
    response_model=Situation,
    operation_id="situation",
    responses=errors(*AS_OF, 404),
    summary="The lägesbild: observations per station, week and category",
)
def situation(
    who: Caller,
    views: ViewsDep,
    station: Code = None,
    start: From = None,
    end: To = None,
    as_of: AsOfParam = None,
    min_position: MinPosition = None,
) -> results.Situation:
    check_range(start, end)
    views.wait_for(min_position, ("observations",))
    return views.situation(who, station=station, start=start, end=end, as_of=parse_as_of(as_of))


@router.get(
    "/action-plans/measures",
    response_model=Measures,
    operation_id="listMeasures",
    responses=errors(*AS_OF, 404),
    summary="Measures of every action plan, with overdue flags",
)
def measures(
    who: Caller,
    views: ViewsDep,
    station: Code = None,
    promise: Code = None,
    status: Annotated[Literal["planned", "started", "done", "cancelled"] | None, Query()] = None,
    overdue: bool | None = None,
    as_of: AsOfParam = None,
    min_position: MinPosition = None,
) -> results.Measures:
    views.wait_for(min_position, ("action_plans",))
    return views.measures(
        who,
        station=station,
        promise=promise,
        status=status,
        overdue=overdue,
        as_of=parse_as_of(as_of),
    )


Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]
EntryStatus = Annotated[Literal["active", "retracted"] | None, Query()]


@router.get(
    "/activities",
    tags=["activities"],
    response_model=EntryPage,
    response_model_exclude_unset=True,
    operation_id="listActivities",
    responses=errors(*READ, 403),
    summary="Activities, filtered and paged",
)
def list_activities(
    who: Caller,
    views: ViewsDep,
    station: Code = None,
    actor: Code = None,
    kind: ActivityKind | None = None,
    status: EntryStatus = None,
    start: From = None,
    end: To = None,
    page: Page = 1,
    page_size: PageSize = 50,
    min_position: MinPosition = None,
) -> results.EntryPage:
    check_range(start, end)
    views.wait_for(min_position, ("activities",))
    filters = {"station": station, "actor": actor, "kind": kind, "status": status}
    return views.entries(
        who, "activities", filters=filters, start=start, end=end, page=page, page_size=page_size
    )


@router.get(
    "/observations",
    tags=["observations"],
    response_model=EntryPage,
    response_model_exclude_unset=True,
    operation_id="listObservations",
    responses=errors(*READ, 403),
    summary="Observations, filtered and paged",
)
def list_observations(
    who: Caller,
    views: ViewsDep,
    station: Code = None,
    actor: Code = None,
    category: ObservationCategory | None = None,
    status: EntryStatus = None,
    start: From = None,
    end: To = None,
    page: Page = 1,
    page_size: PageSize = 50,
    min_position: MinPosition = None,
) -> results.EntryPage:
    check_range(start, end)
    views.wait_for(min_position, ("observations",))
    filters = {"station": station, "actor": actor, "category": category, "status": status}
    return views.entries(
        who, "observations", filters=filters, start=start, end=end, page=page, page_size=page_size
    )


@router.get(
    "/feed",
    tags=["activities"],
    response_model=Feed,
    operation_id="feed",
    responses=errors(*READ),
    summary="Accepted entry events in log order, to follow",
)
def feed_events(
    who: Caller,
    views: ViewsDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="continue after this position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> results.Feed:
    return views.feed(who, after, limit)


@router.get(
    "/projections",
    tags=["operations"],
    response_model=Projections,
    operation_id="projectionStatus",
    responses=errors(*READ),
    summary="Each projection's position, lag, state and parked events",
)
def projections_status(who: Caller, views: ViewsDep) -> dict[str, Any]:
    return {"items": views.status(who)}

"""Stations, actors, promises and action plans (administrators write, every role reads)."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import Caller, RegistryDep
from api.schemas import (
    READ,
    WRITE,
    ActionPlanOut,
    ActionPlans,
    ActorOut,
    Actors,
    PromiseOut,
    Promises,
    Receipt,
    StationOut,
    Stations,
    errors,
)
from ledger.inputs import ActionPlanIn, ActorIn, MeasureIn, MeasureStatusIn, PromiseIn, StationIn

router = APIRouter(prefix="/v1")


@router.post(
    "/stations",
    tags=["registry"],
    status_code=201,
    response_model=Receipt,
    operation_id="registerStation",
    responses=errors(*WRITE),
)
def register_station(body: StationIn, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.register_station(who, body).as_dict()


@router.get(
    "/stations",
    tags=["registry"],
    response_model=Stations,
    operation_id="listStations",
    responses=errors(*READ),
)
def list_stations(who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return {"items": [s.as_dict() for s in registry.list_stations(who)]}


@router.get(
    "/stations/{code}",
    tags=["registry"],
    response_model=StationOut,
    operation_id="getStation",
    responses=errors(*READ, 404),
)
def get_station(code: str, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.get_station(who, code).as_dict()


@router.post(
    "/actors",
    tags=["registry"],
    status_code=201,
    response_model=Receipt,
    operation_id="registerActor",
    responses=errors(*WRITE),
)
def register_actor(body: ActorIn, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.register_actor(who, body).as_dict()


@router.get(
    "/actors",
    tags=["registry"],
    response_model=Actors,
    operation_id="listActors",
    responses=errors(*READ),
)
def list_actors(who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return {"items": [a.as_dict() for a in registry.list_actors(who)]}


@router.get(
    "/actors/{code}",
    tags=["registry"],
    response_model=ActorOut,
    operation_id="getActor",
    responses=errors(*READ, 404),
)
def get_actor(code: str, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.get_actor(who, code).as_dict()


@router.post(
    "/promises",
    tags=["promises"],
    status_code=201,
    response_model=Receipt,
    operation_id="makePromise",
    responses=errors(*WRITE),
)
def make_promise(body: PromiseIn, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.make_promise(who, body).as_dict()


@router.get(
    "/promises",
    tags=["promises"],
    response_model=Promises,
    operation_id="listPromises",
    responses=errors(*READ),
)
def list_promises(who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return {"items": [p.as_dict() for p in registry.list_promises(who)]}


@router.get(
    "/promises/{promise}",
    tags=["promises"],
    summary="A promise by id or code",
    response_model=PromiseOut,
    operation_id="getPromise",
    responses=errors(*READ, 404),
)
def get_promise(promise: str, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.get_promise(who, promise).as_dict()


@router.post(
    "/action-plans",
    tags=["action plans"],
    status_code=201,
    response_model=Receipt,
    operation_id="createActionPlan",
    responses=errors(*WRITE, 404),
)
def create_action_plan(body: ActionPlanIn, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.create_action_plan(who, body).as_dict()


@router.get(
    "/action-plans",
    tags=["action plans"],
    response_model=ActionPlans,
    operation_id="listActionPlans",
    responses=errors(*READ, 404),
)
def list_action_plans(
    who: Caller,
    registry: RegistryDep,
    station: str | None = Query(default=None, max_length=64),
    promise: str | None = Query(default=None, max_length=64),
) -> dict[str, Any]:
    plans = registry.list_action_plans(who, station=station, promise=promise)
    return {"items": [p.as_dict() for p in plans]}


@router.get(
    "/action-plans/{plan_id}",
    tags=["action plans"],
    response_model=ActionPlanOut,
    operation_id="getActionPlan",
    responses=errors(*READ, 404),
)
def get_action_plan(plan_id: UUID, who: Caller, registry: RegistryDep) -> dict[str, Any]:
    return registry.get_action_plan(who, plan_id).as_dict()


@router.post(
    "/action-plans/{plan_id}/measures",
    tags=["action plans"],
    status_code=201,
    response_model=Receipt,
    operation_id="addMeasure",
    responses=errors(*WRITE, 404),
)
def add_measure(
    plan_id: UUID,
    body: MeasureIn,
    who: Caller,
    registry: RegistryDep,
    expected_version: int | None = Query(default=None, ge=1),
) -> dict[str, Any]:
    return registry.add_measure(who, plan_id, body, expected_version).as_dict()


@router.post(
    "/action-plans/{plan_id}/measures/{measure}/status",
    tags=["action plans"],
    response_model=Receipt,
    operation_id="changeMeasureStatus",
    responses=errors(*WRITE, 404),
)
def change_measure_status(
    plan_id: UUID, measure: str, body: MeasureStatusIn, who: Caller, registry: RegistryDep
) -> dict[str, Any]:
    return registry.change_measure_status(who, plan_id, measure, body).as_dict()

from uuid import UUID

import pytest

from ledger.domain import ActionPlan, Activity
from ledger.domain.plans import MeasureStatus
from ledger.errors import EntryRetracted, InvalidInput, InvalidTransition


def an_activity() -> Activity:
    return Activity(
        actor="vasttrafik",
        external_id="vt-1",
        kind="cleaning_round",
        station="lerum",
        zone=None,
        started_at="2021-10-01T06:00:00+02:00",
        ended_at="2021-10-01T08:00:00+02:00",
        staff_count=1,
        details={"litter_bags": 2},
        note=None,
        content_hash="x",
    )


def test_an_activity_id_is_derived_from_actor_and_external_id():
    assert an_activity().id == an_activity().id
    assert Activity.create_id("vasttrafik", "vt-1") != Activity.create_id("trafikverket", "vt-1")


def test_a_correction_changes_state_but_not_the_recorded_event():
    activity = an_activity()
    activity.correct({"details": {"litter_bags": 5}}, "recount")
    recorded, corrected = activity.collect_events()
    assert activity.details == {"litter_bags": 5}
    assert recorded.details == {"litter_bags": 2}  # the event payload is never shared
    assert corrected.changes == {"details": {"litter_bags": 5}}
    assert activity.version == 2


def test_identity_fields_cannot_be_corrected():
    with pytest.raises(InvalidInput) as caught:
        an_activity().correct({"actor": "trafikverket"}, "nope")
    assert caught.value.errors[0].field == "changes.actor"


def test_a_retracted_activity_cannot_change_again():
    activity = an_activity()
    activity.retract("logged twice")
    assert activity.retracted
    with pytest.raises(EntryRetracted):
        activity.correct({"staff_count": 2}, "late")
    with pytest.raises(EntryRetracted):
        activity.retract("again")


def a_plan() -> ActionPlan:
    plan = ActionPlan(promise_id=str(UUID(int=1)), station="lerum")
    plan.add_measure("m1", "Belysning", "lerums-kommun", "2022-03-31")
    return plan


@pytest.mark.parametrize(
    "path",
    [
        ["started", "done"],
        ["done"],
        ["cancelled"],
        ["started", "cancelled"],
    ],
)
def test_measures_follow_their_lifecycle(path):
    plan = a_plan()
    for status in path:
        plan.change_status("m1", MeasureStatus(status), None)
    assert plan.measures["m1"].status == path[-1]


@pytest.mark.parametrize(
    "path", [["done", "started"], ["cancelled", "done"], ["started", "planned"]]
)
def test_measures_cannot_go_back(path):
    plan = a_plan()
    for status in path[:-1]:
        plan.change_status("m1", MeasureStatus(status), None)
    with pytest.raises(InvalidTransition):
        plan.change_status("m1", MeasureStatus(path[-1]), None)

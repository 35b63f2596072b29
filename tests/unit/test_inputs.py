import pytest

from ledger.errors import InvalidInput, PersonalDataRejected
from ledger.hashing import content_hash
from ledger.inputs import ActivityIn, ObservationIn, PromiseIn, parse
from tests.factories import activity, observation


def fields_of(error: InvalidInput) -> set[str]:
    return {e.field for e in error.errors}


def test_a_valid_activity_parses_and_normalises_its_details():
    parsed = parse(ActivityIn, activity(kind="cleaning_round", details={"litter_bags": 3}))
    assert parsed.details == {"litter_bags": 3}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "dancing"}, "kind"),
        ({"station": "Lerum Central"}, "station"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": "2021-10-01T16:00:00"}, "started_at"),  # no UTC offset
        ({"staff_count": "two"}, "staff_count"),
        ({"staff_count": -1}, "staff_count"),
        ({"zone": "roof"}, "zone"),
        ({"note": "x" * 281}, "note"),
        ({"external_id": ""}, "external_id"),
        ({"name": "someone"}, "name"),  # unknown fields are refused, not ignored
        ({"kind": "cleaning_round", "details": {"litter_bags": -2}}, "details"),
        ({"kind": "cleaning_round", "details": {"bags": 2}}, "details"),
        ({"kind": "enforcement", "details": {}}, "details"),  # focus is required
    ],
)
def test_bad_activity_fields_are_named(overrides, field):
    with pytest.raises(InvalidInput) as caught:
        parse(ActivityIn, activity(**overrides))
    assert field in fields_of(caught.value)


@pytest.mark.parametrize("missing", ["external_id", "kind", "station", "started_at"])
def test_missing_required_fields_are_named(missing):
    body = activity()
    del body[missing]
    with pytest.raises(InvalidInput) as caught:
        parse(ActivityIn, body)
    assert missing in fields_of(caught.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"note": "Ring 0701234567 om det händer igen"}, "note"),
        ({"note": "anmälare nagon@example.org"}, "note"),
        ({"kind": "public_event", "details": {"title": "Möte med 850709-9805"}}, "details.title"),
    ],
)
def test_personal_data_in_free_text_is_rejected_as_such(overrides, field):
    with pytest.raises(PersonalDataRejected) as caught:
        parse(ActivityIn, activity(**overrides))
    assert caught.value.code == "personal_data"
    assert field in fields_of(caught.value)


def test_observation_counts_and_severity_are_checked():
    with pytest.raises(InvalidInput) as caught:
        parse(ObservationIn, observation(count=0, severity="extreme"))
    assert fields_of(caught.value) == {"count", "severity"}


def test_a_promise_period_must_be_ordered():
    with pytest.raises(InvalidInput):
        parse(
            PromiseIn,
            {
                "code": "p",
                "title": "t",
                "period_start": "2022-09-01",
                "period_end": "2021-09-01",
                "stations": ["lerum"],
                "parties": ["vasttrafik"],
            },
        )


def test_the_same_instant_with_another_offset_has_the_same_content_hash():
    a = parse(ActivityIn, activity())
    b = parse(
        ActivityIn,
        activity(started_at="2021-10-01T14:00:00Z", ended_at="2021-10-01T20:00:00+00:00"),
    )
    assert content_hash(a.model_dump(exclude={"actor"})) == content_hash(
        b.model_dump(exclude={"actor"})
    )

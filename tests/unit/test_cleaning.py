"""Text at the door: every string of a command is normalised, and what would break
storage, exports or reading is refused with the field named (issue #10)."""

from __future__ import annotations

import unicodedata

import pytest

from ledger.cleaning import clean_tree
from ledger.errors import InvalidInput, PersonalDataRejected
from ledger.inputs import ActivityBatchIn, ActivityIn, CorrectionIn, StationIn, parse
from tests.factories import activity


def fields(error: InvalidInput) -> set[str]:
    return {e.field for e in error.errors}


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "NUL"),
        ("\x0b", "vertical tab"),
        ("\x1b", "escape"),
        ("\x7f", "delete"),
        ("\x85", "C1 next line"),
        ("\u202e", "right-to-left override"),
        ("\u2066", "left-to-right isolate"),
        ("\ud800", "unpaired surrogate"),
        ("\uffff", "non-character"),
    ],
)
def test_a_control_or_bidi_character_anywhere_is_refused_naming_the_field(char, name):
    for body, field in [
        (activity(note=f"a{char}b"), "note"),
        (activity(kind="public_event", details={"title": f"Fika{char}"}), "details.title"),
        (activity(external_id=f"vt{char}1"), "external_id"),
        (activity(station=f"lerum{char}"), "station"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            parse(ActivityIn, body)
        assert field in fields(caught.value), (name, field)
        assert caught.value.code == "invalid_input"


def test_a_bad_key_in_details_is_named():
    with pytest.raises(InvalidInput) as caught:
        parse(ActivityIn, activity(details={"con\x00versations": 3}))
    assert any(f.startswith("details.con") for f in fields(caught.value))


def test_every_bad_item_of_a_batch_is_named_by_its_index():
    items = [activity(1), activity(2, note="x\x00"), activity(3, note="\u202eabc")]
    with pytest.raises(InvalidInput) as caught:
        parse(ActivityBatchIn, {"items": items})
    assert fields(caught.value) == {"items.1.note", "items.2.note"}


def test_corrections_and_registry_fields_pass_the_same_door():
    with pytest.raises(InvalidInput) as caught:
        parse(
            CorrectionIn, {"changes": {"note": "a\x00"}, "reason": "fel\x1b", "expected_version": 1}
        )
    assert fields(caught.value) == {"changes.note", "reason"}
    with pytest.raises(InvalidInput) as caught:
        parse(StationIn, {"code": "x", "name": "Ler\u202eum", "municipality": "Lerum"})
    assert fields(caught.value) == {"name"}


def test_tab_and_newline_only_in_multiline_fields_and_crlf_becomes_lf():
    cleaned = parse(ActivityIn, activity(note="rad ett\r\nrad två\tslut"))
    assert cleaned.note == "rad ett\nrad två\tslut"
    with pytest.raises(InvalidInput) as caught:
        parse(StationIn, {"code": "x", "name": "Ler\num", "municipality": "Lerum"})
    assert fields(caught.value) == {"name"}
    with pytest.raises(InvalidInput):
        parse(ActivityIn, activity(note="lone\rcarriage return"))


def test_text_is_nfc_normalised():
    decomposed = unicodedata.normalize("NFD", "Vårgårda perrong")
    assert decomposed != "Vårgårda perrong"
    assert parse(ActivityIn, activity(note=decomposed)).note == "Vårgårda perrong"
    cleaned, problems = clean_tree({"k\u0061\u030a": ["e\u0301"]})
    assert cleaned == {"k\u00e5": ["\u00e9"]}
    assert problems == []


def test_personal_data_in_any_free_string_is_refused_as_such():
    for body, field in [
        (activity(details={"unit": "AnnaA", "mode": "foot"}, kind="patrol"), None),
        (activity(kind="patrol", details={"unit": "0701740605"}), "details.unit"),
        (activity(external_id="19121212-1212"), "external_id"),
    ]:
        if field is None:
            parse(ActivityIn, body)  # a name we cannot tell from a unit id passes
            continue
        with pytest.raises(PersonalDataRejected) as caught:
            parse(ActivityIn, body)
        assert field in fields(caught.value)


@pytest.mark.parametrize(
    ("started_at", "why"),
    [
        ("0001-01-01T00:00:00+01:00", "years 1900"),
        ("9999-12-31T23:59:59-01:00", "years 1900"),
        ("1899-12-31T23:00:00+00:00", "years 1900"),
    ],
)
def test_timestamps_outside_the_computable_years_are_refused(started_at, why):
    with pytest.raises(InvalidInput) as caught:
        parse(ActivityIn, activity(started_at=started_at, ended_at=None))
    assert why in caught.value.detail
    assert "started_at" in fields(caught.value)


def test_huge_or_deeply_nested_input_is_refused_before_it_costs_anything():
    with pytest.raises(InvalidInput) as caught:
        parse(ActivityIn, activity(note="a" * 4_000_000))
    assert "longer than" in caught.value.detail
    nested: list = []
    for _ in range(5000):
        nested = [nested]
    with pytest.raises(InvalidInput) as caught:
        parse(ActivityIn, activity(details={"conversations": nested}))
    assert "nested" in caught.value.detail


@pytest.mark.parametrize(
    ("text", "refused"),
    [("a" * 9_999, False), ("1" * 9_999, False), ("1 " * 4_999, False), ("@a" * 4_999, True)],
)
def test_screening_reads_hostile_text_in_one_pass(text, refused):
    """Each pattern starts only where a match may start and never backtracks into a run
    (ledger/screening.py); a quadratic pattern would take minutes on these."""
    _, problems = clean_tree({"note": text})
    assert bool(problems) is refused


def test_a_batch_passes_the_door_once_not_once_more_per_item(monkeypatch):
    """Items of a batch were cleaned and screened with the batch, under their full paths
    (``items.3.note``); their own models do not do it again."""
    import ledger.inputs as inputs
    from tests.factories import activity

    calls = []
    real = inputs.clean_tree

    def counting(data, *args, **kwargs):
        calls.append(1)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(inputs, "clean_tree", counting)
    batch = inputs.ActivityBatchIn.model_validate({"items": [activity(n) for n in range(5)]})
    assert len(batch.items) == 5
    assert len(calls) == 1


def test_a_code_or_field_name_repeated_across_items_is_judged_at_every_place():
    items = [{"station": "lerum\x00", "kind": "Cafe\u0301"}, {"station": "lerum\x00"}]
    cleaned, problems = clean_tree({"items": items})
    assert [p.loc for p in problems] == [("items", 0, "station"), ("items", 1, "station")]
    assert cleaned["items"][0]["kind"] == "Café"

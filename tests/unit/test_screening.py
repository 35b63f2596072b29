import pytest

from ledger.screening import personal_data_reason


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("ring 070-123 45 67", "phone"),
        ("+46 70 123 45 67", "phone"),
        ("850709-9805 var där", "personal identity"),
        ("198507099805", "personal identity"),
        ("samordningsnr 850769-9802", "personal identity"),
        ("kontakt: nagon@example.org", "e-mail"),
        ("bil ABC 123 stod kvar", "vehicle"),
        ("XYZ12D i parkeringen", "vehicle"),
    ],
)
def test_text_that_looks_like_personal_data_is_refused_with_a_reason(text, what):
    reason = personal_data_reason(text)
    assert reason is not None
    assert what in reason


@pytest.mark.parametrize(
    "text",
    [
        "2 säckar skräp vid perrong 1",
        "Klotter på vägg 2021-10-01 12:00-13:00",
        "Tre av 12 lampor trasiga i tunneln",
        "kl 22.00 - 23.30 lugnt",
        "Buss 512 försenad, samling vid busshållplatsen",
        "graffiti 2.5 m2 sanerat",
        "zon A12, spår 3",
    ],
)
def test_ordinary_notes_about_places_pass(text):
    assert personal_data_reason(text) is None

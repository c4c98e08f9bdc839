from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mirage_app.logic.phone import InvalidPhone, br_variants, e164_digits, jid_to_e164, normalise_e164

CANONICAL = "+5511987654321"


@pytest.mark.parametrize(
    "raw",
    [
        "+5511987654321",
        "5511987654321",
        "11987654321",
        "(11) 98765-4321",
        "011 98765-4321",
        "+55 (11) 9 8765-4321",
        "  +55 11 98765 4321 ",
        "1187654321",  # old 8-digit mobile form
        "+551187654321",
        "551187654321",
    ],
)
def test_brazilian_spellings_share_one_canonical_form(raw: str) -> None:
    assert normalise_e164(raw) == CANONICAL


def test_landlines_and_foreign_numbers() -> None:
    assert normalise_e164("+55 11 3456-7890") == "+551134567890"  # landline: no 9 added
    assert normalise_e164("+1 415 555 2671") == "+14155552671"
    assert normalise_e164("+44 7911 123456") == "+447911123456"
    assert normalise_e164("(415) 555-2671", default_region="US") == "+14155552671"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not_a_number"),
        ("1-800-FLOWERS", "not_a_number"),
        ("+999123", "invalid_country_code"),
        ("123", "too_short"),
        ("+55119876543210000", "too_long"),
        ("1" * 80, "too_long"),
        ("+55 00 98765-4321", "invalid_number"),
    ],
)
def test_invalid_numbers(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalise_e164(raw)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


def test_br_variants() -> None:
    assert br_variants(CANONICAL) == (CANONICAL, "+551187654321")
    assert br_variants("+551187654321") == (CANONICAL, "+551187654321")
    assert br_variants("+551134567890") == ("+551134567890",)
    assert br_variants("+14155552671") == ("+14155552671",)


@pytest.mark.parametrize(
    ("jid", "expected"),
    [
        ("5511987654321@s.whatsapp.net", CANONICAL),
        ("551187654321@s.whatsapp.net", CANONICAL),
        ("5511987654321:12@s.whatsapp.net", CANONICAL),
        ("5511987654321@c.us", CANONICAL),
        ("14155552671@s.whatsapp.net", "+14155552671"),
        ("123456789012345@lid", None),
        ("120363025246125486@g.us", None),
        ("status@broadcast", None),
        ("abc@s.whatsapp.net", None),
        ("999@s.whatsapp.net", None),
        ("5511987654321", None),
        ("", None),
    ],
)
def test_jid_to_e164(jid: str, expected: str | None) -> None:
    assert jid_to_e164(jid) == expected


def test_e164_digits() -> None:
    assert e164_digits(CANONICAL) == "5511987654321"
    with pytest.raises(InvalidPhone):
        e164_digits("5511987654321")


area_codes = st.sampled_from([11, 12, 19, 21, 27, 31, 41, 47, 51, 61, 62, 71, 81, 85, 91, 92, 98])


@given(area_codes, st.integers(6, 9), st.integers(0, 9_999_999))
def test_ninth_digit_forms_always_agree(ddd: int, lead: int, rest: int) -> None:
    old = f"+55{ddd}{lead}{rest:07d}"
    new = f"+55{ddd}9{lead}{rest:07d}"
    try:
        canonical = normalise_e164(new)
    except InvalidPhone:
        assume(False)
        return
    assert canonical == new
    assert normalise_e164(old) == canonical
    assert br_variants(canonical) == (canonical, old)
    assert jid_to_e164(f"{old[1:]}@s.whatsapp.net") == canonical


@given(st.text(alphabet="0123456789 +()-.", max_size=25))
def test_normalisation_is_idempotent_or_rejects(raw: str) -> None:
    try:
        first = normalise_e164(raw)
    except InvalidPhone:
        return
    assert first.startswith("+") and first[1:].isdigit()
    assert normalise_e164(first) == first

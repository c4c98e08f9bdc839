"""A refused form names the field it is about, in the form's words, and a number field holding text is caught
before any service call."""

from __future__ import annotations

import pytest

from mirage_app.logic.form_fields import NotANumber, labelled, named_error, numbers

TR = {"contacts.name": "Nome", "contacts.consent": "Consentimento"}
LABELS = {"display_name": "contacts.name", "consent": "contacts.consent"}


def test_the_message_starts_with_the_fields_label():
    assert labelled("obrigatório.", "Nome") == "Nome: obrigatório."
    assert labelled("obrigatório.", "") == "obrigatório."
    assert labelled("", "Nome") == ""


def test_an_error_names_the_form_field_through_its_alias():
    assert named_error(TR, LABELS, "display_name", "obrigatório.") == ("display_name", "Nome: obrigatório.")
    aliases = {"consent_status": "consent"}
    assert named_error(TR, LABELS, "consent_status", "inválido.", aliases) == ("consent", "Consentimento: inválido.")


def test_an_error_about_no_field_of_the_form_marks_nothing():
    assert named_error(TR, LABELS, None, "Sem permissão.") == ("", "Sem permissão.")
    assert named_error(TR, LABELS, "tenant_id", "Sem permissão.") == ("", "Sem permissão.")


def test_numbers_are_parsed_as_typed():
    assert numbers({"daily": "40", "gap": " 5 "}) == {"daily": 40, "gap": 5}
    assert numbers({"growth": "1.5"}, {"growth": float}) == {"growth": 1.5}
    assert numbers({"min": "", "max": "9"}, blank_is_none=True) == {"min": None, "max": 9}


@pytest.mark.parametrize(
    ("typed", "field"), [({"a": "1", "b": "x"}, "b"), ({"a": "", "b": "2"}, "a"), ({"a": "1.5"}, "a")]
)
def test_the_first_field_that_is_not_a_number_is_named(typed, field):
    with pytest.raises(NotANumber) as err:
        numbers(typed)
    assert err.value.field == field

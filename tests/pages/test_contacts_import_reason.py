"""The CSV import report reads in the page's language with every placeholder filled."""

from __future__ import annotations

import pytest

from mirage_app.i18n import catalog
from mirage_app.pages.contacts import import_reason
from mirage_app.services import contacts


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_every_bad_row_reason_is_filled(locale):
    rows = [
        contacts.ImportRowError(4, "invalid_phone", "Bia;abc", "", {"detail": "not_a_number"}),
        contacts.ImportRowError(5, "consent_invalid", "Caio;talvez", "", {"value": "talvez"}),
        contacts.ImportRowError(6, "basis_invalid", "Duda;achismo", "", {"value": "achismo"}),
        contacts.ImportRowError(7, "consent_at_invalid", "Edu;ontem", "", {"value": "ontem"}),
        contacts.ImportRowError(8, "database", "Fabi", "", {"detail": "UniqueViolation"}),
        contacts.ImportRowError(9, "missing_phone", "Gabi", "", {}),
    ]
    tr = catalog(locale)
    texts = [import_reason(tr, row) for row in rows]
    assert all("{" not in text and "!r" not in text for text in texts), texts
    assert "talvez" in texts[1] and "achismo" in texts[2] and "ontem" in texts[3]
    assert ("letras" if locale == "pt-BR" else "letters") in texts[0]
    assert "UniqueViolation" not in texts[4]

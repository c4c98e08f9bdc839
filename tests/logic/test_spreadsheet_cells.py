"""A text cell never starts a spreadsheet formula; harmless text is written as it is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.spreadsheet_cells import FORMULA_START, text_cell


@given(st.text())
def test_no_cell_starts_a_formula(value):
    cell = text_cell(value)
    assert not cell.startswith(FORMULA_START)
    assert cell in (value, "'" + value)


def test_examples():
    assert text_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert text_cell("Ana") == "Ana"
    assert text_cell(None) == ""

"""Text written into a CSV that people open in a spreadsheet: a cell that would start a formula is quoted."""

from __future__ import annotations

from typing import Any

# What spreadsheets read as the start of a formula (or hide before one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: Any) -> str:
    """A text cell, neutralised against spreadsheet formula injection."""
    text_value = "" if value is None else str(value)
    if text_value.startswith(FORMULA_START):
        return "'" + text_value
    return text_value

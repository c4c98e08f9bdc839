"""A persona's habits as the editor shows them: rates (0..1, logic.actions.Habits) typed as percents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def habit_percents(rates: Mapping[str, Any]) -> dict[str, str]:
    """{"reactions": 0.2} → {"reactions": "20"} (a value that is not a number is kept as it is, to be corrected)."""
    out: dict[str, str] = {}
    for name, rate in rates.items():
        try:
            out[name] = f"{round(float(rate) * 100, 1):g}"
        except (TypeError, ValueError):
            out[name] = str(rate)
    return out


def habit_rate(typed: str) -> float | str | None:
    """ "20" or "20,5" → 0.2 / 0.205; blank → None (the default); anything else is passed on as typed, for the
    service to refuse with the habit's name (it validates every value, the page only converts)."""
    text = typed.strip().replace(",", ".")
    if not text:
        return None
    try:
        return round(float(text) / 100, 4)
    except ValueError:
        return typed


def number_or_zero(typed: str) -> float:
    try:
        return float(typed.strip().replace(",", "."))
    except ValueError:
        return 0.0

"""Row models several page states share. Page-specific rows live next to their state.

Reflex sends dataclass state vars to the browser as objects, so components read `row.label`, `row.active` with
their real types.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SelectOption:
    """One `<option>` of a picker: the id sent back and the text shown."""

    value: str
    label: str

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> list[SelectOption]:
        return [cls(value, label) for value, label in pairs]

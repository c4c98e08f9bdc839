"""What an event handler may take from the browser: every argument of an event is chosen by the client (a script
on the websocket sends any name and value), so a handler that sets a state var by name accepts only the names it
lists and only values of their kind; anything else is refused whole (the handler changes nothing)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from mirage_app.logic.untrusted_input import is_bad_text

Check = Callable[[str], bool]


def uuid_or_empty(value: str) -> bool:
    """An object's id as the selects send it, or "" for "all"."""
    if value == "":
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36  # the canonical form only: UUID() also takes braces, "urn:uuid:" and bare hex


def one_of(*options: str) -> Check:
    return lambda value: value in options


def text_up_to(max_length: int) -> Check:
    return lambda value: len(value) <= max_length and not is_bad_text(value)


def accepted(fields: Mapping[str, Check], name: object, value: object) -> tuple[str, str] | None:
    """(name, value) when `name` is one of `fields` and `value` passes its check, else None. A select may send a
    one-item list: its item is the value."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(name, str) or not isinstance(value, str):
        return None
    check = fields.get(name)
    return (name, value) if check is not None and check(value) else None

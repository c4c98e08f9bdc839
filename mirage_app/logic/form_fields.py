"""What a refused form says and marks, decided once for every form: which field the error is about, the message
starting with that field's label, and the number fields that are not numbers (checked before any service call).

The screens show the result with `components.field_errors` (the message under the field, the red outline).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

NOT_A_NUMBER = "common.not_a_number"  # the catalog key of the one "not a number" message


class NotANumber(ValueError):
    """A number field holds something else; `field` is its name ("daily_limit", "sat.pause_min")."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def labelled(message: str, label: str) -> str:
    """ "Limite diário: digite um número." — the message says which field it is about."""
    return f"{label}: {message}" if label and message else message


def named_error(
    tr: Mapping[str, str],
    labels: Mapping[str, str],
    field: str | None,
    message: str,
    aliases: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The form field an error is about and the message naming it: `field` as the service named it (`aliases`
    maps it to the form's own input, e.g. "consent_status" → "consent"), `labels` the catalog key of each input's
    label. A field the form does not show marks nothing and leaves the message as it is."""
    shown = (aliases or {}).get(field or "", field or "")
    if shown not in labels:
        return "", message
    return shown, labelled(message, tr[labels[shown]])


def numbers(
    typed: Mapping[str, str],
    parse: Mapping[str, Callable[[str], float]] | None = None,
    blank_is_none: bool = False,
) -> dict[str, float | None]:
    """The number fields of a form, parsed from what was typed (`int` unless `parse` names another parser;
    "" is None when `blank_is_none`); raises `NotANumber` naming the first field that is not a number."""
    parsed: dict[str, float | None] = {}
    for name, text in typed.items():
        if blank_is_none and text.strip() == "":
            parsed[name] = None
            continue
        try:
            parsed[name] = (parse or {}).get(name, int)(text)
        except ValueError:
            raise NotANumber(name) from None
    return parsed

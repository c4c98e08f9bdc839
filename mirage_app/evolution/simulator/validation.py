"""A tiny JSON-schema subset with Evolution's message format, plus the request schemas of the routes we serve.

Evolution validates with `jsonschema` and reports each error as the schema's `description` when it has one,
else as the error stack with the first `instance.` removed (`abstract.router.ts#dataValidate`). Keywords are
checked in the order they appear in the schema, as jsonschema does, so messages come out in the same order.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mirage_app.evolution.client import PRESENCES
from mirage_app.evolution.simulator.envelope import validation_failed
from mirage_app.evolution.webhook import WEBHOOK_EVENTS

Schema = dict[str, Any]


def errors_for(body: Any, schema: Schema) -> list[str]:
    """Evolution-formatted messages for everything `body` gets wrong; empty when valid."""
    return [message for _, message in located_errors_for(body, schema)]


def located_errors_for(body: Any, schema: Schema) -> list[tuple[str, str]]:
    """(property, message) pairs; the property is the path without `instance.` (`groupValidate`'s objects)."""
    errors: list[tuple[str, str]] = []
    _validate(body, schema, "instance", errors)
    return errors


def check(body: Any, schema: Schema) -> None:
    """Raise the 400 list-of-lists envelope when `body` does not satisfy `schema`."""
    errors = errors_for(body, schema)
    if errors:
        raise validation_failed(errors)


def _validate(value: Any, schema: Schema, path: str, errors: list[tuple[str, str]]) -> None:
    label = path.replace("instance.", "", 1)
    described = schema.get("description")
    for keyword, rule in schema.items():
        if keyword == "type" and not _has_type(value, rule):
            errors.append((label, described or f"{label} is not of a type(s) {rule}"))
            return
        if keyword == "enum" and value not in rule:
            errors.append((label, described or f"{label} is not one of enum values: {','.join(map(str, rule))}"))
        elif keyword == "pattern" and isinstance(value, str) and not re.search(rule, value, re.ASCII):
            errors.append((label, described or f"{label} does not match pattern {json.dumps(rule)}"))
        elif keyword in ("minItems", "minLength") and isinstance(value, list | str) and len(value) < rule:
            errors.append((label, described or f"{label} does not meet minimum length of {rule}"))
        elif keyword == "uniqueItems" and isinstance(value, list) and _has_duplicates(value):
            errors.append((label, described or f"{label} contains duplicate item"))
        elif keyword == "minimum" and _is_number(value) and value < rule:
            errors.append((label, described or f"{label} must be greater than or equal to {rule}"))
        elif keyword == "maximum" and _is_number(value) and value > rule:
            errors.append((label, described or f"{label} must be less than or equal to {rule}"))
        elif keyword == "items" and isinstance(value, list):
            for index, item in enumerate(value):
                _validate(item, rule, f"{path}[{index}]", errors)
        elif keyword == "properties" and isinstance(value, dict):
            for name, sub_schema in rule.items():
                if name in value:
                    _validate(value[name], sub_schema, f"{path}.{name}", errors)
        elif keyword == "required" and isinstance(value, dict):
            errors.extend((label, f'{label} requires property "{name}"') for name in rule if name not in value)


def _has_duplicates(items: list[Any]) -> bool:
    seen: list[Any] = []
    for item in items:
        if item in seen:
            return True
        seen.append(item)
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_type(value: Any, expected: str) -> bool:
    if expected == "integer":  # JS: Number.isInteger, so 5.0 counts
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    python_type = {"string": str, "boolean": bool, "object": dict, "array": list}[expected]
    return isinstance(value, python_type)


_NUMBER: Schema = {"type": "string", "description": "Invalid format"}
_BOOL: Schema = {"type": "boolean"}

INSTANCE: Schema = {
    "type": "object",
    "properties": {
        "instanceName": {"type": "string"},
        "token": {"type": "string"},
        "number": {"type": "string", "pattern": r"^\d+[\.@\w-]+"},
        "qrcode": _BOOL,
        "rejectCall": _BOOL,
        "groupsIgnore": _BOOL,
        "alwaysOnline": _BOOL,
        "readMessages": _BOOL,
        "readStatus": _BOOL,
        "syncFullHistory": _BOOL,
    },
    "required": ["instanceName"],
}

SET_PRESENCE: Schema = {
    "type": "object",
    "properties": {"presence": {"type": "string", "enum": list(PRESENCES)}},
    "required": ["presence"],
}

WEBHOOK: Schema = {
    "type": "object",
    "properties": {
        "webhook": {
            "type": "object",
            "properties": {
                "enabled": _BOOL,
                "url": {"type": "string"},
                "headers": {"type": "object"},
                "byEvents": _BOOL,
                "base64": _BOOL,
                "events": {"type": "array", "minItems": 0, "items": {"type": "string", "enum": WEBHOOK_EVENTS}},
            },
            "required": ["enabled", "url"],
        }
    },
    "required": ["webhook"],
}

TEXT_MESSAGE: Schema = {
    "type": "object",
    "properties": {
        "number": _NUMBER,
        "text": {"type": "string"},
        "delay": {"type": "integer", "description": "Enter a value in milliseconds"},
        "quoted": {
            "type": "object",
            "properties": {
                "key": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
                "message": {"type": "object"},
            },
        },
        "linkPreview": _BOOL,
        "mentionsEveryOne": _BOOL,
        "mentioned": {
            "type": "array",
            "items": {
                "type": "string",
                "pattern": r"^\d+",
                "description": '"mentioned" must be an array of numeric strings',
            },
        },
    },
    "required": ["number", "text"],
}

SEND_PRESENCE: Schema = {
    "type": "object",
    "properties": {
        "number": _NUMBER,
        "presence": {"type": "string", "enum": list(PRESENCES)},
        "delay": {"type": "number"},
    },
    "required": ["number", "presence", "delay"],
}

READ_MESSAGES: Schema = {
    "type": "object",
    "properties": {
        "readMessages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "fromMe": _BOOL, "remoteJid": {"type": "string"}},
                "required": ["id", "fromMe", "remoteJid"],
            },
        }
    },
    "required": ["readMessages"],
}

WHATSAPP_NUMBERS: Schema = {
    "type": "object",
    "properties": {"numbers": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
}

"""What every operation shares: the `{error, detail}` body of every failure, and timestamps as the API writes them.

`errors(...)` builds the `responses=` entry of a route, so each operation documents exactly the failures it can
answer with, in the one shape `api/errors.py` produces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from mirage_app.base.errors import message_for
from mirage_app.base.impact import Impact

# `datetime.isoformat()` ("+00:00"), as the API has always written timestamps; pydantic alone would write "Z".
IsoDatetime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2025-01-15T13:45:00.123456+00:00"}),
]


class FieldError(BaseModel):
    """One field at fault: request validation and field-level service errors share this shape."""

    field: str = Field(description="Dotted path of the field (`tags.0`), or the query parameter's name")
    message: str = Field(description="English explanation, ready to show")


class ErrorBody(BaseModel):
    """The body of every error answer, whatever its status."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": "contacts.not_found", "detail": message_for("contacts.not_found")}]}
    )

    error: str = Field(
        description="Stable machine-readable code: an i18n key such as `outreach.policy_not_found`, or a generic "
        "one such as `validation_error`, `invalid_input` (a NUL or an unpaired surrogate), `not_found`, "
        "`payload_too_large`, `internal_error`"
    )
    detail: str | list[FieldError] | None = Field(
        description="An English message, or the fields at fault (`[{field, message}]`) when the error is about input"
    )


def _example(error: str, detail: Any = None) -> dict[str, Any]:
    return {"error": error, "detail": detail if detail is not None else message_for(error)}


def field_error(error: str, field: str, **params: Any) -> dict[str, Any]:
    """An example body of a field-level service error (`detail: [{field, message}]`)."""
    return {"error": error, "detail": [{"field": field, "message": message_for(error, params)}]}


_DEFAULTS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Malformed request", _example("malformed_json", "the body is not valid JSON")),
    401: ("Missing, unknown or revoked API key (`Authorization: Bearer <key>`)", _example("api_keys.invalid")),
    403: ("The key's role does not allow this action", _example("permission.role")),
    404: ("No such resource in this tenant (another tenant's ids look the same)", _example("not_found", "not found")),
    409: ("Conflicts with existing data", field_error("contacts.phone_taken", "wa_number")),
    413: ("The request body is too large", _example("payload_too_large", "CSV imports are limited to 5 MB")),
    422: (
        "Invalid input: `detail` names the fields at fault",
        {"error": "validation_error", "detail": [{"field": "daily_limit", "message": "Field required"}]},
    ),
    502: (
        "WhatsApp (Evolution) was unreachable or refused; nothing was changed",
        _example("evolution.unavailable", message_for("evolution.unavailable", {"detail": "ConnectError"})),
    ),
    504: (
        "Evolution did not answer in time: the new number stays `creating` until the reconciliation job completes "
        "or removes it",
        _example(
            "instances.creation_unconfirmed", message_for("instances.creation_unconfirmed", {"detail": "ReadTimeout"})
        ),
    ),
}


def errors(*statuses: int, examples: dict[int, dict[str, Any]] | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status (plus `default`, the 500 every route can answer) as an `ErrorBody`.

    Listing `default` also stops FastAPI from adding its own 422 schema, which is not the body Mirage sends.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, example = _DEFAULTS[status]
        example = (examples or {}).get(status, example)
        out[status] = {
            "model": ErrorBody,
            "description": description,
            "content": {"application/json": {"example": example}},
        }
    out["default"] = {
        "model": ErrorBody,
        "description": "Unexpected failure (500); the cause is logged, never returned",
        "content": {
            "application/json": {"example": _example("internal_error", "unexpected error; it has been logged")}
        },
    }
    return out


def not_found(code: str) -> dict[int, dict[str, Any]]:
    """The 404 example of a resource, e.g. `not_found("outreach.policy_not_found")`."""
    return {404: _example(code)}


def conflict(code: str) -> dict[int, dict[str, Any]]:
    """The 409 example of a route, e.g. `conflict("outreach.policy_archived")`."""
    return {409: _example(code)}


AUTH = (401, 403)  # every operation behind an API key


class ImpactDependent(BaseModel):
    kind: str = Field(
        description="What depends on it: `conversation_seat`, `sending_policy`, `number_history` (a number); "
        "`conversation`, `target`, `message` (a contact); `queue`, `message` (a policy)…"
    )
    name: str = Field(description="Its name, or a count")
    effect: str = Field(description="`blocks`, `deactivated`, `detached`, `deleted` or `kept`")


class ImpactBody(BaseModel):
    """What destroying something does (or did): the same answer before (`…/impact`) and after the DELETE."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Vendas SP 01",
                    "archive": True,
                    "blocked": False,
                    "dependents": [
                        {"kind": "conversation_seat", "name": "Aquecimento A", "effect": "detached"},
                        {"kind": "number_history", "name": "412", "effect": "kept"},
                    ],
                }
            ]
        }
    )

    name: str
    archive: bool = Field(description="History exists: the thing is archived rather than erased")
    blocked: bool = Field(description="Something active depends on it: the DELETE is refused until it is cleared")
    dependents: list[ImpactDependent]

    @classmethod
    def of(cls, impact: Impact) -> ImpactBody:
        return cls(
            name=impact.name,
            archive=impact.archive,
            blocked=impact.blocked,
            dependents=[ImpactDependent(kind=d.kind, name=d.name, effect=d.effect.value) for d in impact.dependents],
        )

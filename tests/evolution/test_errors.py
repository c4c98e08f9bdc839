"""parse_error on every envelope shape of reference §1.4, given as parsed JSON, text or bytes."""

from __future__ import annotations

import json

import pytest

from mirage_app.evolution.errors import (
    ConnectionClosed,
    EvolutionBadRequest,
    EvolutionError,
    EvolutionNameInUse,
    EvolutionNotFound,
    EvolutionServerError,
    EvolutionSwallowedError,
    EvolutionUnauthorized,
    NotOnWhatsApp,
    parse_error,
)

NOT_ON_WA = {
    "status": 400,
    "error": "Bad Request",
    "response": {"message": [{"jid": "5511999999999@s.whatsapp.net", "exists": False, "number": "5511999999999"}]},
}


@pytest.mark.parametrize(
    ("status", "body", "cls", "reason", "messages"),
    [
        (
            401,
            {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}},
            EvolutionUnauthorized,
            "unauthorized",
            ["Unauthorized"],
        ),
        (
            404,
            {"status": 404, "error": "Not Found", "response": {"message": ['The "acme" instance does not exist']}},
            EvolutionNotFound,
            "not_found",
            ['The "acme" instance does not exist'],
        ),
        (
            403,
            {"status": 403, "error": "Forbidden", "response": {"message": ['This name "acme" is already in use.']}},
            EvolutionNameInUse,
            "name_in_use",
            ['This name "acme" is already in use.'],
        ),
        (
            400,
            {
                "status": 400,
                "error": "Bad Request",
                "response": {"message": [['instance requires property "number"', 'instance requires property "text"']]},
            },
            EvolutionBadRequest,
            "bad_request",
            ['instance requires property "number"', 'instance requires property "text"'],
        ),
        (
            400,
            {"status": 400, "error": "Bad Request", "response": {"message": ["Text is required"]}},
            EvolutionBadRequest,
            "bad_request",
            ["Text is required"],
        ),
        (400, NOT_ON_WA, NotOnWhatsApp, "not_on_whatsapp", ["5511999999999 is not on WhatsApp"]),
        (
            400,
            {"status": 400, "error": "Bad Request", "response": {"message": ["Error: Connection Closed"]}},
            ConnectionClosed,
            "connection_closed",
            ["Error: Connection Closed"],
        ),
        (
            500,
            {"status": 500, "error": "Internal Server Error", "response": {"message": "Connection Closed"}},
            ConnectionClosed,
            "connection_closed",
            ["Connection Closed"],
        ),
        (
            500,
            {
                "status": 500,
                "error": "Internal Server Error",
                "response": {"message": "Cannot read properties of undefined (reading 'textMessage')"},
            },
            EvolutionServerError,
            "server_error",
            ["Cannot read properties of undefined (reading 'textMessage')"],
        ),
        (
            500,
            {"status": 500, "error": "Internal Server Error", "response": {"message": ["Read messages fail", "x"]}},
            EvolutionServerError,
            "server_error",
            ["Read messages fail", "x"],
        ),
        (
            404,
            {"status": 404, "error": "Not Found", "response": {"message": ["Cannot PUT /instance/restart/a"]}},
            EvolutionNotFound,
            "not_found",
            ["Cannot PUT /instance/restart/a"],
        ),
        (
            400,
            {"status": 400, "error": "Internal Server Error", "response": {"message": "Unexpected token } in JSON"}},
            EvolutionBadRequest,
            "bad_request",
            ["Unexpected token } in JSON"],
        ),
        (  # whatsappNumbers: no `response` wrapper
            400,
            {"status": 400, "error": "Bad Request", "message": [["numbers does not meet minimum length of 1"]]},
            EvolutionBadRequest,
            "bad_request",
            ["numbers does not meet minimum length of 1"],
        ),
        (400, {}, EvolutionBadRequest, "bad_request", []),  # whatsappNumbers' serialised TypeError
        (
            200,
            {"error": True, "message": "[object Object]"},
            EvolutionSwallowedError,
            "swallowed_error",
            ["[object Object]"],
        ),
    ],
)
def test_every_envelope_shape(status: int, body: object, cls: type, reason: str, messages: list[str]) -> None:
    for form in (body, json.dumps(body), json.dumps(body).encode()):
        error = parse_error(status, form)
        assert type(error) is cls
        assert error.reason == reason
        assert error.messages == messages
        assert error.status == status


def test_not_on_whatsapp_is_permanent_and_lists_numbers() -> None:
    error = parse_error(400, NOT_ON_WA)
    assert isinstance(error, NotOnWhatsApp)
    assert not error.retryable
    assert error.numbers == ["5511999999999"]


def test_retryable_flags() -> None:
    assert parse_error(500, {"response": {"message": "boom"}}).retryable
    assert parse_error(502, "<html>Bad gateway</html>").retryable
    assert parse_error(500, {"response": {"message": "Connection Closed"}}).retryable
    assert not parse_error(401, None).retryable
    assert not parse_error(400, {"response": {"message": ["Text is required"]}}).retryable


def test_license_gate_is_not_retryable() -> None:
    body = {"error": "service not activated", "code": "LICENSE_REQUIRED", "message": "This Evolution API ..."}
    error = parse_error(503, body)
    assert isinstance(error, EvolutionServerError)
    assert (error.reason, error.retryable, error.error) == ("license_required", False, "service not activated")


@pytest.mark.parametrize("body", [None, "", "plain text", b"\xff\xfe", 42, ["a", ["b"]], {"response": "x"}, {"x": 1}])
def test_malformed_bodies_still_give_typed_errors(body: object) -> None:
    error = parse_error(418, body)
    assert isinstance(error, EvolutionBadRequest)
    assert all(isinstance(message, str) for message in error.messages)
    assert str(error).startswith("418 ")


def test_list_of_objects_without_exists_false_is_not_not_on_whatsapp() -> None:
    error = parse_error(400, {"response": {"message": [{"jid": "x", "exists": True}]}})
    assert type(error) is EvolutionBadRequest
    assert error.messages == ['{"exists": true, "jid": "x"}']


def test_unknown_status_falls_back_to_base_error() -> None:
    error = parse_error(302, {"message": "moved"})
    assert type(error) is EvolutionError
    assert error.reason == "unexpected_response"

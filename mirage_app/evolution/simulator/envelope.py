"""Evolution's error bodies, byte-for-byte in shape (reference §1.4), raised as `SimHttpError`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class SimHttpError(Exception):
    """Abort a simulated request with `status` and the exact JSON `body` Evolution would send."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def envelope(status: int, message: Any, error: str | None = None) -> dict[str, Any]:
    return {"status": status, "error": error or HTTPStatus(status).phrase, "response": {"message": message}}


def http_error(status: int, message: Any) -> SimHttpError:
    return SimHttpError(status, envelope(status, message))


def bad_request(*messages: Any) -> SimHttpError:
    """Controller-level 400: `message` is the list of exception arguments."""
    return http_error(400, list(messages))


def validation_failed(errors: list[str]) -> SimHttpError:
    """JSON-schema 400: one list of messages inside the message list."""
    return http_error(400, [errors])


def unauthorized() -> SimHttpError:
    return http_error(401, "Unauthorized")


def instance_not_found(name: str) -> SimHttpError:
    return http_error(404, [f'The "{name}" instance does not exist'])


def name_in_use(name: str) -> SimHttpError:
    return http_error(403, [f'This name "{name}" is already in use.'])


def route_not_found(method: str, path: str) -> SimHttpError:
    return http_error(404, [f"Cannot {method} {path}"])


def runtime_error(message: str) -> SimHttpError:
    """A raw JS error reaching the global handler: 500 with a plain-string message."""
    return http_error(500, message)


def connection_closed() -> SimHttpError:
    return runtime_error("Connection Closed")


def swallowed() -> SimHttpError:
    """connect/restart catch their exception and answer HTTP 200 with it `toString()`-ed."""
    return SimHttpError(200, {"error": True, "message": "[object Object]"})


def malformed_json(detail: str) -> SimHttpError:
    """body-parser sets a status but no `error`, so the handler falls back to its default text."""
    return SimHttpError(400, envelope(400, detail, error="Internal Server Error"))

"""Typed Evolution API errors and `parse_error`, which accepts every error envelope Evolution 2.3.x emits.

Evolution wraps errors as `{"status", "error", "response": {"message": ...}}`, but `message` may be a
string, a list, a list of lists or a list of `{jid, exists, number}` objects; `/chat/whatsappNumbers` drops
the `response` wrapper and `/instance/connect|restart` answer HTTP 200 `{"error": true, "message": "[object
Object]"}` (reference §1.4). Callers branch on the exception class, `.reason` (stable machine string) and
`.retryable` ("a later retry may succeed"; `EvolutionClient.send_text` says what is safe to resend).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

OBJECT_OBJECT = "[object Object]"  # an exception object `toString()`-ed by Evolution: the cause is lost


class EvolutionError(Exception):
    """Any failure talking to Evolution. `status` is None when no HTTP response was received."""

    default_reason = "error"
    default_retryable = False

    def __init__(
        self,
        status: int | None,
        error: str,
        messages: list[str],
        raw: Any = None,
        *,
        reason: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.messages = messages
        self.raw = raw
        self.reason = reason or self.default_reason
        self.retryable = self.default_retryable if retryable is None else retryable
        detail = "; ".join(messages) or "(no message)"
        super().__init__(f"{status if status is not None else '-'} {error}: {detail}")


class EvolutionUnauthorized(EvolutionError):
    """401: missing or wrong `apikey` (Evolution also answers 401 when its token lookup hits a DB error)."""

    default_reason = "unauthorized"


class EvolutionNotFound(EvolutionError):
    """404: unknown instance (checked before auth) or unknown route."""

    default_reason = "not_found"


class EvolutionNameInUse(EvolutionError):
    """403 on create: the instance name is already taken."""

    default_reason = "name_in_use"


class EvolutionBadRequest(EvolutionError):
    """400 that is not one of the specific cases below: validation (list of lists) or a controller check."""

    default_reason = "bad_request"


class NotOnWhatsApp(EvolutionError):
    """400 `[{jid, exists: false, number}]`: the target has no WhatsApp account. Permanent."""

    default_reason = "not_on_whatsapp"

    @property
    def numbers(self) -> list[str]:
        """The rejected numbers as Evolution echoed them."""
        entries = _not_on_whatsapp_entries(_envelope_message(self.raw))
        return [str(entry.get("number", entry.get("jid", ""))) for entry in entries]


class ConnectionClosed(EvolutionError):
    """The instance's WhatsApp socket is down (400 `Error: Connection Closed` or 500 `Connection Closed`).

    Retryable after the caller re-checks `connection_state` and reconnects.
    """

    default_reason = "connection_closed"
    default_retryable = True


class EvolutionServerError(EvolutionError):
    """Any other 5xx."""

    default_reason = "server_error"
    default_retryable = True


class EvolutionSwallowedError(EvolutionError):
    """HTTP 200 `{"error": true, "message": "[object Object]"}` from connect/restart; the cause is lost."""

    default_reason = "swallowed_error"


class EvolutionTimeout(EvolutionError):
    """The request may have reached Evolution but no complete answer came back: its outcome is unknown.

    The client sets `retryable=False` when the call was a write (a send may have gone out).
    """

    default_reason = "timeout"
    default_retryable = True


class EvolutionUnavailable(EvolutionError):
    """Evolution could not be reached at all (refused, DNS, connect timeout): the request was never sent."""

    default_reason = "unavailable"
    default_retryable = True


def parse_error(status_code: int, body: Any) -> EvolutionError:
    """Turn an HTTP status and a body (parsed JSON, raw bytes/str or None) into the matching typed error."""
    body = _decode(body)
    message = _envelope_message(body)
    messages = _flatten(message)
    error = _error_text(status_code, body)

    def make(cls: type[EvolutionError], **overrides: Any) -> EvolutionError:
        return cls(status_code, error, messages, body, **overrides)

    if 200 <= status_code < 300 and isinstance(body, dict) and body.get("error") is True:
        return make(EvolutionSwallowedError)
    if status_code == 401:
        return make(EvolutionUnauthorized)
    if status_code == 403:
        return make(EvolutionNameInUse)
    if status_code == 404:
        return make(EvolutionNotFound)
    missing = _not_on_whatsapp_entries(message) if status_code == 400 else []
    if missing:
        texts = [f"{entry.get('number', entry.get('jid'))} is not on WhatsApp" for entry in missing]
        return NotOnWhatsApp(status_code, error, texts, body)
    if (status_code == 400 or status_code >= 500) and any("connection closed" in m.lower() for m in messages):
        return make(ConnectionClosed)
    if status_code == 503 and isinstance(body, dict) and body.get("code") == "LICENSE_REQUIRED":
        return make(EvolutionServerError, reason="license_required", retryable=False)
    if status_code >= 500:
        return make(EvolutionServerError)
    if 400 <= status_code < 500:
        return make(EvolutionBadRequest)
    return make(EvolutionError, reason="unexpected_response")


def unexpected_response(what: str, body: Any) -> EvolutionError:
    """A 2xx whose body breaks the contract; not retryable (for sends, the message probably went out)."""
    return EvolutionError(200, "Unexpected response", [what], body, reason="bad_response")


def _decode(body: Any) -> Any:
    """Parse bytes/str bodies as JSON when possible; keep the text otherwise."""
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _envelope_message(body: Any) -> Any:
    """`response.message` when wrapped, top-level `message` otherwise (whatsappNumbers, connect/restart)."""
    if isinstance(body, dict):
        response = body.get("response")
        if isinstance(response, dict) and "message" in response:
            return response["message"]
        if "message" in body:
            return body["message"]
        return None
    return body


def _error_text(status_code: int, body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _flatten(message: Any) -> list[str]:
    """Strings, lists, lists of lists and objects all become a flat list of readable strings."""
    if message is None:
        return []
    if isinstance(message, str):
        return [message]
    if isinstance(message, list):
        return [text for item in message for text in _flatten(item)]
    if isinstance(message, dict):
        return [json.dumps(message, ensure_ascii=False, sort_keys=True)] if message else []
    return [str(message)]


def _not_on_whatsapp_entries(message: Any) -> list[dict[str, Any]]:
    if not isinstance(message, list):
        return []
    return [item for item in message if isinstance(item, dict) and item.get("exists") is False]

"""Sync httpx client for the Evolution 2.3.x routes Mirage uses (reference §2, §3, §4.2; rich sends and groups
in `rich_client`).

Authentication is the `apikey` header: each per-instance method takes an optional `token` (the instance's
`hash`) and falls back to the global key. Every failure is raised as an `errors.EvolutionError` subclass.

Retry rules, chosen so that a retry can never send a message twice:
- reads (`connection_state`, `fetch_instances`, `find_webhook`) retry on unreachable server, timeouts and 5xx;
- every other call retries only when the request provably never reached Evolution (connect refused, DNS,
  connect timeout → `EvolutionUnavailable`). A read timeout, a dropped connection or a 5xx is raised at once:
  for sends the outcome is unknown and the caller decides (normally: mark the message failed/unknown and let
  webhooks correct it, since a later `send.message`/`messages.update` for the key proves it went out).
  Such a write `EvolutionTimeout` carries `retryable=False` so generic retry code leaves it alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from mirage_app.evolution.errors import (
    OBJECT_OBJECT,
    EvolutionBadRequest,
    EvolutionServerError,
    EvolutionTimeout,
    EvolutionUnavailable,
    NotOnWhatsApp,
    parse_error,
    unexpected_response,
)
from mirage_app.evolution.models import CreatedInstance, InstanceState, NumberCheck, QrCode, SentMessage
from mirage_app.evolution.rich_client import RichActionsMixin, api_path
from mirage_app.evolution.rich_models import QuotedRef
from mirage_app.evolution.webhook import WEBHOOK_EVENTS, normalise_event_name

PROXY_TEST_READ_S = 150.0  # Evolution tests a proxy without a timeout of its own (reference §14.3)
PRESENCES = ("unavailable", "available", "composing", "recording", "paused")
Safety = Literal["read", "write"]


class EvolutionClient(RichActionsMixin):
    """One Evolution server. Thread-safe (httpx.Client is); use as a context manager or call `close()`.

    `timeout` is the default per-request timeout in seconds. sendText/sendPresence hold the HTTP response for
    their `delay`, so their read timeout is `delay + send_read_margin_s` (30 s per the reference).
    `attempts`/`backoff_s` bound the retries described in the module docstring.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        send_read_margin_s: float = 30.0,
        attempts: int = 3,
        backoff_s: float = 0.25,
    ) -> None:
        self._api_key = api_key
        self._timeout = timeout
        self._send_read_margin_s = send_read_margin_s
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EvolutionClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- instance lifecycle -------------------------------------------------------------------------------

    def create_instance(
        self,
        name: str,
        *,
        token: str | None = None,
        qrcode: bool = True,
        webhook_url: str | None = None,
        webhook_headers: Mapping[str, str] | None = None,
        webhook_events: Iterable[str] | None = None,
        by_events: bool = False,
        settings: Mapping[str, Any] | None = None,
    ) -> CreatedInstance:
        """Create a Baileys instance (global key only). `token` chooses the instance apikey, else generated.

        `settings` are create-time settings such as `{"readStatus": True}`, which an instance needs to receive
        status posts (Evolution drops broadcasts otherwise) or `{"groupsIgnore": False}`.

        The webhook goes in the nested object with an explicit `events` list (empty = all): omitting `events`
        makes Evolution fail the create with a TypeError.
        """
        body: dict[str, Any] = {**(settings or {}), "instanceName": name, "integration": "WHATSAPP-BAILEYS"}
        body["qrcode"] = qrcode
        if token is not None:
            body["token"] = token
        if webhook_url is not None:
            body["webhook"] = _webhook_body(webhook_url, webhook_headers, webhook_events, by_events, True)
        return CreatedInstance.from_body(self._call("POST", "/instance/create", "write", None, json=body))

    def welcome(self) -> dict[str, Any]:
        """`GET /`: Evolution's greeting with its version; open without a key and without a licence."""
        body = self._call("GET", "/", "read", None)
        if not isinstance(body, dict):
            raise unexpected_response("GET / must return Evolution's welcome object", body)
        return body

    def connect(self, name: str, number: str | None = None, *, token: str | None = None) -> QrCode | InstanceState:
        """Start pairing: a `QrCode` (with a pairing code when `number` is given) or, if open, the state."""
        params = {"number": number} if number else None
        body = self._call("GET", api_path("instance", "connect", name), "write", token, params=params)
        return (
            InstanceState.from_body(body) if isinstance(body, dict) and "instance" in body else QrCode.from_body(body)
        )

    def connection_state(self, name: str, *, token: str | None = None) -> InstanceState:
        """Evolution's view of the socket; it may say `open` after WhatsApp silently dropped it."""
        return InstanceState.from_body(self._call("GET", api_path("instance", "connectionState", name), "read", token))

    def fetch_instances(self, name: str | None = None, *, token: str | None = None) -> list[dict[str, Any]]:
        """Raw Prisma `Instance` rows (plain dicts: `name`, `connectionStatus`, `ownerJid`, `token`, ...)."""
        params = {"instanceName": name} if name else None
        body = self._call("GET", "/instance/fetchInstances", "read", token, params=params)
        if not isinstance(body, list):
            raise unexpected_response("fetchInstances must return a list", body)
        return body

    def logout(self, name: str, *, token: str | None = None) -> None:
        """Unlink the phone; the instance stays registered. 400 `EvolutionBadRequest` when already closed."""
        self._call("DELETE", api_path("instance", "logout", name), "write", token)

    def delete(self, name: str, *, token: str | None = None) -> None:
        """Log out if needed, then remove the instance and free its name."""
        self._call("DELETE", api_path("instance", "delete", name), "write", token)

    def restart(self, name: str, *, token: str | None = None) -> InstanceState:
        """Reconnect the socket (POST, not the documented PUT); if closed: `EvolutionSwallowedError`."""
        return InstanceState.from_body(self._call("POST", api_path("instance", "restart", name), "write", token))

    def set_presence(self, name: str, presence: str, *, token: str | None = None) -> None:
        """The instance's own global presence (e.g. `available`)."""
        _check_presence(presence)
        self._call("POST", api_path("instance", "setPresence", name), "write", token, json={"presence": presence})

    # -- webhook configuration ----------------------------------------------------------------------------

    def set_webhook(
        self,
        name: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        events: Iterable[str] | None = None,
        by_events: bool = False,
        enabled: bool = True,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Store the instance webhook; returns the Prisma `Webhook` row (plain dict). Empty `events` = all."""
        body = {"webhook": _webhook_body(url, headers, events, by_events, enabled)}
        row = self._call("POST", api_path("webhook", "set", name), "write", token, json=body)
        if not isinstance(row, dict):
            raise unexpected_response("webhook/set must return the webhook row", row)
        return row

    def find_webhook(self, name: str, *, token: str | None = None) -> dict[str, Any] | None:
        """The stored `Webhook` row, or None when the instance has none."""
        row = self._call("GET", api_path("webhook", "find", name), "read", token)
        return row if isinstance(row, dict) else None

    # -- proxy (reference §14) ---------------------------------------------------------------------------

    def set_proxy(
        self,
        name: str,
        *,
        host: str,
        port: int,
        protocol: str,
        username: str = "",
        password: str = "",
        token: str | None = None,
    ) -> dict[str, Any]:
        """Store and test the instance's proxy (takes effect at the next connect: call `restart`). Works around
        2.3.7's bugs: credentials always sent, even empty (else a 201 stores nothing), and percent-encoded (the
        proxy URL is built unencoded); the port as a string. Evolution's own test has no timeout, hence the long
        read timeout. A failed test raises EvolutionBadRequest `["Invalid proxy"]`."""
        body = {
            "enabled": True,
            "host": host,
            "port": str(port),
            "protocol": protocol,
            "username": quote(username, safe=""),
            "password": quote(password, safe=""),
        }
        timeout = httpx.Timeout(self._timeout, read=PROXY_TEST_READ_S)
        return self._call("POST", api_path("proxy", "set", name), "write", token, json=body, timeout=timeout)

    def disable_proxy(self, name: str, *, token: str | None = None) -> None:
        """Switch the instance's proxy off (the four required keys must still be there and not all empty)."""
        body = {"enabled": False, "host": "x", "port": "0", "protocol": "http", "username": "", "password": ""}
        self._call("POST", api_path("proxy", "set", name), "write", token, json=body)

    def find_proxy(self, name: str, *, token: str | None = None) -> dict[str, Any] | None:
        """The stored Proxy row (password in clear: never log it), or None when the instance has none."""
        row = self._call("GET", api_path("proxy", "find", name), "read", token)
        return row if isinstance(row, dict) else None

    # -- messaging ----------------------------------------------------------------------------------------

    def send_text(
        self,
        name: str,
        number: str,
        text: str,
        delay_ms: int | None = None,
        quoted: QuotedRef | None = None,
        *,
        token: str | None = None,
    ) -> SentMessage:
        """Send a text; Evolution shows "typing…" for `delay_ms` and holds the response that long.

        Never resent automatically unless the request provably did not reach Evolution. On `EvolutionTimeout`
        or `EvolutionServerError` the message may or may not have gone out: do not blindly resend.
        `NotOnWhatsApp` is permanent; `ConnectionClosed` means re-check the instance before retrying.
        """
        body: dict[str, Any] = {"number": number, "text": text}
        if delay_ms is not None:
            body["delay"] = int(delay_ms)
        if quoted is not None:  # full key and content: Evolution quotes without a DB lookup (reference §12.5)
            body["quoted"] = quoted.to_body()
        timeout = self._send_timeout(delay_ms)
        sent = self._call("POST", api_path("message", "sendText", name), "write", token, json=body, timeout=timeout)
        return SentMessage.from_body(sent)

    def send_presence(self, name: str, number: str, presence: str, delay_ms: int, *, token: str | None = None) -> None:
        """Show `presence` (e.g. `composing`) to `number` for `delay_ms`, then `paused`; blocks that long.

        A closed socket is a 400 `ConnectionClosed`; a number without WhatsApp raises `NotOnWhatsApp`."""
        _check_presence(presence)
        body = {"number": number, "presence": presence, "delay": int(delay_ms)}
        timeout = self._send_timeout(delay_ms)
        try:
            self._call("POST", api_path("chat", "sendPresence", name), "write", token, json=body, timeout=timeout)
        except EvolutionBadRequest as exc:
            # sendPresence checks the number inside its try: "not on WhatsApp" arrives as `[object Object]`
            if exc.messages == [OBJECT_OBJECT]:
                raise NotOnWhatsApp(exc.status, exc.error, [f"{number} is not on WhatsApp"], exc.raw) from exc
            raise

    def mark_read(
        self, name: str, remote_jid: str, msg_id: str, from_me: bool = False, *, token: str | None = None
    ) -> None:
        """Send the blue ticks for one message. `@lid` JIDs are silently skipped by Evolution."""
        body = {"readMessages": [{"remoteJid": remote_jid, "fromMe": from_me, "id": msg_id}]}
        self._call("POST", api_path("chat", "markMessageAsRead", name), "write", token, json=body)

    def whatsapp_numbers(self, name: str, numbers: Iterable[str], *, token: str | None = None) -> list[NumberCheck]:
        """Which numbers have WhatsApp. Never use in bulk: mass checks are a known ban trigger (SPEC §9)."""
        body = {"numbers": list(numbers)}
        return NumberCheck.list_from_body(
            self._call("POST", api_path("chat", "whatsappNumbers", name), "write", token, json=body)
        )

    # -- transport ----------------------------------------------------------------------------------------

    def _send_timeout(self, delay_ms: int | None) -> httpx.Timeout:
        read = (delay_ms or 0) / 1000 + self._send_read_margin_s
        return httpx.Timeout(self._timeout, read=read)

    def _call(
        self,
        method: str,
        path: str,
        safety: Safety,
        token: str | None,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Any:
        """One logical call with the retry policy of its `safety` class; returns the parsed JSON body."""
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=self._backoff_s, max=max(self._backoff_s, 2.0)),
            retry=retry_if_exception(_RETRY_WHEN[safety]),
            reraise=True,
        )
        headers = {"apikey": token or self._api_key}
        url = absolute_url(self._http.base_url, path)
        request = self._http.build_request(
            method, url, json=json, params=params, headers=headers, timeout=timeout or self._timeout
        )
        return retrying(self._send, request, safety)

    def _send(self, request: httpx.Request, safety: Safety) -> Any:
        try:
            response = self._http.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise EvolutionUnavailable(None, type(exc).__name__, [str(exc)]) from exc
        except httpx.TimeoutException as exc:
            raise EvolutionTimeout(None, type(exc).__name__, [str(exc)], retryable=safety == "read") from exc
        except httpx.TransportError as exc:  # connection broke mid-exchange: outcome unknown, like a timeout
            raise EvolutionTimeout(
                None, type(exc).__name__, [str(exc)], reason="connection_lost", retryable=safety == "read"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 300 or (isinstance(body, dict) and body.get("error") is True):
            raise parse_error(response.status_code, body)
        return body


@lru_cache(maxsize=4096)
def absolute_url(base: httpx.URL, path: str) -> httpx.URL:
    """`path` under `base` exactly as httpx joins a relative path to a client's base URL, parsed once per route and
    instance (httpx parses both URLs again on every request: a tenth of a send's client CPU)."""
    relative = httpx.URL(path)
    return base.copy_with(raw_path=base.raw_path + relative.raw_path.lstrip(b"/"))


def _retry_read(exc: BaseException) -> bool:
    return isinstance(exc, EvolutionUnavailable | EvolutionTimeout | EvolutionServerError) and exc.retryable


def _retry_unsent(exc: BaseException) -> bool:
    return isinstance(exc, EvolutionUnavailable)


_RETRY_WHEN: dict[Safety, Callable[[BaseException], bool]] = {"read": _retry_read, "write": _retry_unsent}


def _check_presence(presence: str) -> None:
    if presence not in PRESENCES:
        raise ValueError(f"presence must be one of {', '.join(PRESENCES)}")


def _webhook_body(
    url: str,
    headers: Mapping[str, str] | None,
    events: Iterable[str] | None,
    by_events: bool,
    enabled: bool,
) -> dict[str, Any]:
    """Nested v2 webhook object. Names are checked locally: one bad name makes Evolution reject the set."""
    names = [normalise_event_name(event) for event in events or ()]
    unknown = sorted(set(names) - set(WEBHOOK_EVENTS))
    if unknown:
        raise ValueError(f"unknown webhook events: {', '.join(unknown)}")
    return {
        "enabled": enabled,
        "url": url,
        "headers": dict(headers or {}),
        "byEvents": by_events,
        "base64": False,
        "events": names,
    }

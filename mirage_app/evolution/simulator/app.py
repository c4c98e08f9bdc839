"""The simulator's HTTP face: Evolution's routes, guard order (404 → 403 → 401), envelopes and status codes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mirage_app.evolution.simulator import envelope
from mirage_app.evolution.simulator.calls import Call, Handler, before_commit, typing
from mirage_app.evolution.simulator.control import control_routes
from mirage_app.evolution.simulator.envelope import SimHttpError
from mirage_app.evolution.simulator.rich import group_jid_of
from mirage_app.evolution.simulator.rich_routes import RICH_ROUTES, send_rich
from mirage_app.evolution.simulator.state import SimulatorState

EVOLUTION_VERSION = "2.3.7"
Guard = Literal["none", "instance", "create"]


async def _welcome(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, {
        "status": 200,
        "message": "Welcome to the Evolution API, it is working!",
        "version": EVOLUTION_VERSION,
        "clientName": "evolution_exchange",
        "manager": f"{call.base_url}/manager",
        "documentation": "https://doc.evolution-api.com",
        "whatsappWebVersion": "2.3000.1023204200",
    }


async def _create(state: SimulatorState, call: Call) -> tuple[int, Any]:
    created = state.lifecycle.create(call.body)
    if "qrcode" in created:
        await asyncio.sleep(state.config.qr_wait_s)  # Evolution waits for Baileys' first QR
    return 201, created


async def _connect(state: SimulatorState, call: Call) -> tuple[int, Any]:
    was_closed = state.core.instance(call.name).status == "close"
    result = state.lifecycle.connect(call.name, call.query.get("number"))
    if was_closed:
        await asyncio.sleep(state.config.qr_wait_s)
    return 200, result


async def _connection_state(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.lifecycle.connection_state(call.name)


async def _fetch(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.lifecycle.fetch(call.apikey, call.query)


async def _logout(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.lifecycle.logout(call.name)


async def _delete(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.lifecycle.delete(call.name)


async def _restart(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.lifecycle.restart(call.name)


async def _set_presence(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, state.lifecycle.set_presence(call.name, call.body)


async def _set_webhook(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, state.lifecycle.set_webhook(call.name, call.body)


async def _find_webhook(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.lifecycle.find_webhook(call.name)


async def _set_proxy(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, await state.proxies.set(call.name, call.body)


async def _find_proxy(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.proxies.find(call.name)


async def _send_text(state: SimulatorState, call: Call) -> tuple[int, Any]:
    if isinstance(call.body, dict) and isinstance(call.body.get("number"), str) and group_jid_of(call.body["number"]):
        return await send_rich(state, state.rich.prepare_group_text(call.name, call.body))
    outgoing = state.messaging.prepare_text(call.name, call.body)
    await typing(state, outgoing.delay_ms)
    before_commit(state)
    return 201, state.messaging.commit_text(outgoing)


async def _send_presence(state: SimulatorState, call: Call) -> tuple[int, Any]:
    record = state.messaging.prepare_presence(call.name, call.body)
    await typing(state, record["delay"])
    before_commit(state)
    return 201, state.messaging.commit_presence(record)


async def _mark_read(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, state.messaging.mark_read(call.name, call.body)


async def _whatsapp_numbers(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.messaging.whatsapp_numbers(call.name, call.body)


ROUTES: list[tuple[str, str, Handler, Guard]] = [
    ("GET", "/", _welcome, "none"),
    ("POST", "/instance/create", _create, "create"),
    ("GET", "/instance/connect/{name}", _connect, "instance"),
    ("GET", "/instance/connectionState/{name}", _connection_state, "instance"),
    ("GET", "/instance/fetchInstances", _fetch, "none"),  # auth inside: tokens filter the listing
    ("DELETE", "/instance/logout/{name}", _logout, "instance"),
    ("DELETE", "/instance/delete/{name}", _delete, "instance"),
    ("POST", "/instance/restart/{name}", _restart, "instance"),
    ("POST", "/instance/setPresence/{name}", _set_presence, "instance"),
    ("POST", "/webhook/set/{name}", _set_webhook, "instance"),
    ("GET", "/webhook/find/{name}", _find_webhook, "instance"),
    ("POST", "/proxy/set/{name}", _set_proxy, "instance"),
    ("GET", "/proxy/find/{name}", _find_proxy, "instance"),
    ("POST", "/message/sendText/{name}", _send_text, "instance"),
    ("POST", "/chat/sendPresence/{name}", _send_presence, "instance"),
    ("POST", "/chat/markMessageAsRead/{name}", _mark_read, "instance"),
    ("POST", "/chat/whatsappNumbers/{name}", _whatsapp_numbers, "instance"),
    *RICH_ROUTES,
]


def create_app(state: SimulatorState, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """The simulator as an ASGI app; its lifespan stops the webhook worker on shutdown.

    `extra_routes` adds control routes that need more than the state (the pool's `/_sim/pool`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.close()

    routes = [
        Route(path, _endpoint(state, handler, guard), methods=[method]) for method, path, handler, guard in ROUTES
    ]
    return Starlette(
        routes=routes + control_routes(state) + (extra_routes or []),
        exception_handlers={404: _no_route, 405: _no_route, Exception: _crash},
        lifespan=lifespan,
    )


def _endpoint(state: SimulatorState, handler: Handler, guard: Guard) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        faults = state.faults
        overload_s, _ = state.core.overload()
        if faults.latency_ms or overload_s:
            await asyncio.sleep(faults.latency_ms / 1000 + overload_s)
        if state.core.chance(faults.error_5xx_rate):
            return _json(500, envelope.envelope(500, "Simulated internal error"))
        try:
            call = await _read_call(request)
            _run_guard(state, guard, call)
            status, payload = await handler(state, call)
        except SimHttpError as exc:
            status, payload = exc.status, exc.body
        if state.core.chance(faults.timeout_rate):  # the work is done, but the answer never arrives in time
            await asyncio.sleep(faults.hang_s)
            return _json(500, envelope.envelope(500, "Simulated timeout"))
        return _json(status, payload)

    return endpoint


def _run_guard(state: SimulatorState, guard: Guard, call: Call) -> None:
    """instanceExistsGuard → instanceLoggedGuard → apikey, as `index.router.ts` chains them."""
    if guard == "instance":
        with state.core.lock:
            state.core.instance(call.name)
        state.lifecycle.authorize(call.apikey, call.name)
    elif guard == "create":
        state.lifecycle.ensure_name_free(call.body.get("instanceName") if isinstance(call.body, dict) else None)
        state.lifecycle.authorize(call.apikey)


async def _read_call(request: Request) -> Call:
    body: Any = {}
    raw = await request.body()
    if raw and "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(raw, parse_constant=_reject_constant)
        except ValueError as exc:
            raise envelope.malformed_json(_js_json_error(raw, exc)) from exc
    return Call(
        name=request.path_params.get("name", ""),
        body=body,
        query=dict(request.query_params),
        apikey=request.headers.get("apikey"),
        base_url=str(request.base_url).rstrip("/"),
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]} in JSON")  # JSON.parse rejects NaN/Infinity


def _js_json_error(raw: bytes, exc: ValueError) -> str:
    """Node's JSON.parse wording for the body-parser error."""
    text = raw.decode("utf-8", errors="replace")
    position = getattr(exc, "pos", None)
    if position is None or position >= len(text):
        return "Unexpected end of JSON input"
    return f"Unexpected token {text[position]} in JSON at position {position}"


def _json(status: int, payload: Any) -> JSONResponse:
    return JSONResponse(payload, status_code=status)


async def _no_route(request: Request, exc: Exception) -> Response:
    """Express' 404 for unknown paths and for known paths with another method (e.g. PUT restart)."""
    error = envelope.route_not_found(request.method, request.url.path)
    return _json(error.status, error.body)


async def _crash(request: Request, exc: Exception) -> Response:
    """An unexpected error reaches Evolution's global handler as a 500 with the plain error message."""
    return _json(500, envelope.envelope(500, str(exc) or type(exc).__name__))

"""`/_sim/*` control endpoints: drive simulated phones, humans and faults from another process (no auth).

Errors are `{"error": "..."}`: 400 for bad input, or the Evolution envelope for an unknown instance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mirage_app.evolution.simulator.envelope import SimHttpError

if TYPE_CHECKING:
    from mirage_app.evolution.simulator.state import SimulatorState

Action = Callable[[Request, dict[str, Any]], Any]


def control_routes(state: SimulatorState) -> list[Route]:
    def scan(request: Request, data: dict[str, Any]) -> Any:
        name = request.path_params["name"]
        return {"instance": name, "phone": state.scan(name, data.get("phone_number"), data.get("profile_name"))}

    def rotate_qr(request: Request, data: dict[str, Any]) -> Any:
        return state.rotate_qr(request.path_params["name"])

    def drop(request: Request, data: dict[str, Any]) -> Any:
        state.drop_connection(request.path_params["name"], int(data.get("status_reason", 428)))
        return {"dropped": request.path_params["name"]}

    def add_human(request: Request, data: dict[str, Any]) -> Any:
        return asdict(state.add_human(**data))

    def inbound(request: Request, data: dict[str, Any]) -> Any:
        return {"key_id": state.inject_inbound(**data)}

    def faults(request: Request, data: dict[str, Any]) -> Any:
        if request.method == "POST":
            state.set_faults(**data)
        return asdict(state.faults)

    def snapshot(request: Request, data: dict[str, Any]) -> Any:
        return state.snapshot()

    def wait_idle(request: Request, data: dict[str, Any]) -> Any:
        return {"idle": state.wait_idle(float(data.get("timeout", 5.0)))}

    return [
        Route("/_sim/instances/{name}/scan", control_endpoint(scan), methods=["POST"]),
        Route("/_sim/instances/{name}/rotate_qr", control_endpoint(rotate_qr), methods=["POST"]),
        Route("/_sim/instances/{name}/drop", control_endpoint(drop), methods=["POST"]),
        Route("/_sim/humans", control_endpoint(add_human), methods=["POST"]),
        Route("/_sim/inbound", control_endpoint(inbound), methods=["POST"]),
        Route("/_sim/faults", control_endpoint(faults), methods=["GET", "POST"]),
        Route("/_sim/state", control_endpoint(snapshot), methods=["GET"]),
        Route("/_sim/wait_idle", control_endpoint(wait_idle, blocking=True), methods=["POST"]),
    ]


def control_endpoint(action: Action, *, blocking: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap `action(request, json_body)` as an endpoint; `blocking` runs it in a worker thread."""

    async def endpoint(request: Request) -> Response:
        try:
            data = await request.json() if await request.body() else {}
            if not isinstance(data, dict):
                raise ValueError("body must be a JSON object")
            if blocking:  # keep the event loop free while waiting on the delivery worker
                result = await run_in_threadpool(action, request, data)
            else:
                result = action(request, data)
        except SimHttpError as exc:
            return JSONResponse(exc.body, status_code=exc.status)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(result)

    return endpoint

"""What every route handler gets (`Call`) and the pacing shared by the send routes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mirage_app.evolution.simulator import envelope

if TYPE_CHECKING:
    from mirage_app.evolution.simulator.state import SimulatorState


@dataclass(frozen=True)
class Call:
    """What a route handler needs from the request."""

    name: str  # the `{instanceName}` path parameter ("" on routes without one)
    body: Any
    query: dict[str, str]
    apikey: str | None
    base_url: str


Handler = Callable[["SimulatorState", Call], Awaitable[tuple[int, Any]]]


def before_commit(state: SimulatorState) -> None:
    """A server that crashed during the typing delay sends nothing; an overloaded one drops a share of sends
    (see the `config` module docstring)."""
    if state.core.down:
        raise envelope.connection_closed()  # nobody hears this answer: the connection was aborted
    _, failure_rate = state.core.overload()
    if state.core.chance(failure_rate):
        raise envelope.connection_closed()


async def typing(state: SimulatorState, delay_ms: float | None) -> None:
    """Evolution holds the response while it shows "typing…"/"recording…"; tests usually switch that off."""
    if state.config.honour_delay and delay_ms:
        await asyncio.sleep(delay_ms / 1000)

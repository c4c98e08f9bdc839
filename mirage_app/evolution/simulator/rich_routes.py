"""Route handlers of the rich actions and groups; `app.ROUTES` includes `RICH_ROUTES`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from mirage_app.evolution.simulator.calls import Call, Handler, before_commit, typing
from mirage_app.evolution.simulator.rich import RichSend

if TYPE_CHECKING:
    from mirage_app.evolution.simulator.state import SimulatorState


async def send_rich(state: SimulatorState, send: RichSend) -> tuple[int, Any]:
    """Hold the response for the delay (presence `composing`/`recording`), then send."""
    await typing(state, send.delay_ms if send.presence else None)
    before_commit(state)
    return 201, state.rich.commit(send)


async def _send_media(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return await send_rich(state, state.rich.prepare_media(call.name, call.body))


async def _send_voice(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return await send_rich(state, state.rich.prepare_voice(call.name, call.body))


async def _send_sticker(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return await send_rich(state, state.rich.prepare_sticker(call.name, call.body))


async def _send_location(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return await send_rich(state, state.rich.prepare_location(call.name, call.body))


async def _send_contact(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return await send_rich(state, state.rich.prepare_contact(call.name, call.body))


async def _send_reaction(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, state.reactions.send(call.name, call.body)


async def _send_status(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, state.status.send(call.name, call.body)


async def _update_message(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.edits.update(call.name, call.body)


async def _group_create(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, state.groups.create(call.name, call.body)


async def _fetch_all_groups(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.groups.fetch_all(call.name, call.query)


async def _participants(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.groups.participants(call.name, call.query)


async def _update_participants(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 201, state.groups.update_participants(call.name, call.query, call.body)


async def _leave_group(state: SimulatorState, call: Call) -> tuple[int, Any]:
    return 200, state.groups.leave(call.name, call.query)


RICH_ROUTES: list[tuple[str, str, Handler, Literal["instance"]]] = [
    ("POST", "/message/sendMedia/{name}", _send_media, "instance"),
    ("POST", "/message/sendWhatsAppAudio/{name}", _send_voice, "instance"),
    ("POST", "/message/sendSticker/{name}", _send_sticker, "instance"),
    ("POST", "/message/sendLocation/{name}", _send_location, "instance"),
    ("POST", "/message/sendContact/{name}", _send_contact, "instance"),
    ("POST", "/message/sendReaction/{name}", _send_reaction, "instance"),
    ("POST", "/message/sendStatus/{name}", _send_status, "instance"),
    ("POST", "/chat/updateMessage/{name}", _update_message, "instance"),
    ("POST", "/group/create/{name}", _group_create, "instance"),
    ("GET", "/group/fetchAllGroups/{name}", _fetch_all_groups, "instance"),
    ("GET", "/group/participants/{name}", _participants, "instance"),
    ("POST", "/group/updateParticipant/{name}", _update_participants, "instance"),
    ("DELETE", "/group/leaveGroup/{name}", _leave_group, "instance"),
]

"""Fuzz: whatever JSON arrives, normalise() returns a NormalisedEvent or raises MalformedEvent, nothing else."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirage_app.evolution.webhook import MalformedEvent, NormalisedEvent, normalise
from tests.evolution import reference_payloads as ref
from tests.evolution import rich_payloads as rp

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
event_names = st.sampled_from(
    [
        "messages.upsert",
        "send.message",
        "messages.update",
        "qrcode.updated",
        "connection.update",
        "MESSAGES_UPSERT",
        "messages.edited",
        "send.message.update",
        "messages.delete",
        "groups.upsert",
        "group-participants.update",
        "presence.update",
    ]
) | st.text(max_size=20)
field_names = st.sampled_from(
    ["key", "id", "keyId", "remoteJid", "remoteJidAlt", "participant", "participantAlt", "fromMe", "message",
     "conversation", "extendedTextMessage", "text", "messageTimestamp", "low", "high", "status", "pushName",
     "qrcode", "code", "base64", "pairingCode", "state", "statusReason", "wuid", "messageType", "imageMessage",
     "audioMessage", "reactionMessage", "contextInfo", "stanzaId", "quotedMessage", "fileSha256", "seconds", "ptt",
     "caption", "mimetype", "locationMessage", "contactMessage", "editedMessage", "type", "timestampMs",
     "participants", "action", "subject", "presences", "lastKnownPresence", "0", "1"]
)  # fmt: skip
shaped_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(field_names, children, max_size=5),
    max_leaves=25,
)


def _mutations(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A real payload with a few fields replaced by arbitrary values, reaching deep branches."""
    return st.dictionaries(field_names, shaped_values, max_size=3).map(
        lambda changes: base | {"data": _merge(base["data"], changes)}
    )


def _merge(data: Any, changes: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        return changes
    merged = dict(data)
    for name, value in changes.items():
        if isinstance(merged.get("key"), dict) and name in merged["key"]:
            merged["key"] = merged["key"] | {name: value}
        else:
            merged[name] = value
    return merged


def _deep_mutations(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Replace one value somewhere inside the payload's data with an arbitrary one."""
    paths = list(_paths(base["data"], ()))
    return st.tuples(st.sampled_from(paths), shaped_values).map(
        lambda change: base | {"data": _set(base["data"], *change)}
    )


def _paths(value: Any, prefix: tuple[Any, ...]) -> Any:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = _set(value[path[0]], path[1:], new)
    return copy


payloads = (
    json_values
    | st.fixed_dictionaries({"event": event_names, "instance": json_values, "data": shaped_values})
    | st.sampled_from([ref.UPSERT, ref.UPSERT_LID, ref.UPSERT_GROUP, ref.SEND_MESSAGE, ref.QR, ref.OPEN]).flatmap(
        _mutations
    )
    | st.sampled_from(["SERVER_ACK", "READ"]).map(ref.status_update).flatmap(_mutations)
    | st.sampled_from([p for p in rp.ALL if isinstance(p["data"], dict)]).flatmap(_mutations)
    | st.sampled_from(rp.ALL).flatmap(_deep_mutations)
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads)
def test_normalise_only_raises_malformed_event(payload: Any) -> None:
    try:
        event = normalise(payload)
    except MalformedEvent:
        return
    assert isinstance(event, NormalisedEvent)
    assert event.kind in (
        "message", "message_status", "message_edit", "message_delete", "group", "presence", "qr", "connection", "other"
    )  # fmt: skip
    assert isinstance(event.instance, str)

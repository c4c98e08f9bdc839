"""Fuzz: whatever JSON arrives, normalise() returns a NormalisedEvent or raises MalformedEvent, nothing else."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirage_app.evolution.webhook import MalformedEvent, NormalisedEvent, normalise
from tests.evolution import reference_payloads as ref

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
event_names = st.sampled_from(
    ["messages.upsert", "send.message", "messages.update", "qrcode.updated", "connection.update", "MESSAGES_UPSERT"]
) | st.text(max_size=20)
field_names = st.sampled_from(
    ["key", "id", "keyId", "remoteJid", "remoteJidAlt", "participant", "participantAlt", "fromMe", "message",
     "conversation", "extendedTextMessage", "text", "messageTimestamp", "low", "high", "status", "pushName",
     "qrcode", "code", "base64", "pairingCode", "state", "statusReason", "wuid", "messageType"]
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


payloads = (
    json_values
    | st.fixed_dictionaries({"event": event_names, "instance": json_values, "data": shaped_values})
    | st.sampled_from([ref.UPSERT, ref.UPSERT_LID, ref.UPSERT_GROUP, ref.SEND_MESSAGE, ref.QR, ref.OPEN]).flatmap(
        _mutations
    )
    | st.sampled_from(["SERVER_ACK", "READ"]).map(ref.status_update).flatmap(_mutations)
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads)
def test_normalise_only_raises_malformed_event(payload: Any) -> None:
    try:
        event = normalise(payload)
    except MalformedEvent:
        return
    assert isinstance(event, NormalisedEvent)
    assert event.kind in ("message", "message_status", "qr", "connection", "other")
    assert isinstance(event.instance, str)

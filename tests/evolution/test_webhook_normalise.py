"""webhook.normalise on the real payload shapes of the reference, and the small helpers around it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mirage_app.evolution.webhook import (
    STATUS_RANK,
    MalformedEvent,
    event_suffix,
    map_status,
    normalise,
    normalise_event_name,
    status_advances,
)
from tests.evolution import reference_payloads as ref


@pytest.mark.parametrize("name", ["messages.upsert", "MESSAGES_UPSERT", "messages-upsert", "/messages-upsert"])
def test_event_names_normalise(name: str) -> None:
    assert normalise_event_name(name) == "MESSAGES_UPSERT"
    assert event_suffix(name) == "messages-upsert"


def test_event_suffix_of_dashed_names() -> None:
    assert event_suffix("group-participants.update") == "group-participants-update"
    assert event_suffix("typebot.change-status") == "typebot-change-status"


@pytest.mark.parametrize("bad", ["", "  ", "messages upsert", "ação", None, 3])
def test_bad_event_names(bad: object) -> None:
    with pytest.raises(MalformedEvent):
        normalise_event_name(bad)


def test_incoming_text() -> None:
    event = normalise(ref.UPSERT)
    assert (event.kind, event.event, event.instance) == ("message", "MESSAGES_UPSERT", "acme-sales")
    assert event.wa_msg_id == "3A554E20ECABF3D45BB2"
    assert event.remote_jid == "5511988887777@s.whatsapp.net"
    assert event.phone == "5511988887777"
    assert event.from_me is False
    assert event.text == "Oi, tudo bem?"
    assert event.push_name == "Maria"
    assert event.timestamp == datetime(2025, 10, 21, 14, 6, 1, tzinfo=UTC)
    assert event.is_group is False
    assert event.status == "delivered"
    assert event.raw is ref.UPSERT


def test_lid_prefers_remote_jid_alt() -> None:
    event = normalise(ref.UPSERT_LID)
    assert event.remote_jid == "5511997529604@s.whatsapp.net"
    assert event.phone == "5511997529604"


def test_lid_without_alt_keeps_lid_and_has_no_phone() -> None:
    payload = ref.body("messages.upsert", {"key": {"remoteJid": "232366454870257@lid", "fromMe": False, "id": "X"}})
    event = normalise(payload)
    assert (event.remote_jid, event.phone, event.text, event.timestamp) == ("232366454870257@lid", None, None, None)


def test_v1_extended_text_and_string_timestamp() -> None:
    event = normalise(ref.UPSERT_V1_EXTENDED)
    assert event.text == "typed on the phone"
    assert event.from_me is True
    assert event.timestamp == datetime.fromtimestamp(1717689097, UTC)
    assert event.status is None


def test_group_message_author_and_long_timestamp() -> None:
    event = normalise(ref.UPSERT_GROUP)
    assert event.is_group is True
    assert event.remote_jid == "120363029388654192@g.us"
    assert event.phone == "5511977776666"
    assert event.timestamp == datetime.fromtimestamp(1761055561, UTC)


def test_send_message_is_an_outgoing_message() -> None:
    event = normalise(ref.SEND_MESSAGE)
    assert (event.kind, event.from_me, event.status) == ("message", True, "sent")
    assert event.wa_msg_id == "3EB02BDF6F19D73AB79438"
    assert event.text == "Hello from the API"


@pytest.mark.parametrize(
    ("evolution", "mirage"),
    [
        ("SERVER_ACK", "server_ack"),
        ("DELIVERY_ACK", "delivered"),
        ("READ", "read"),
        ("PLAYED", "read"),
        ("ERROR", "failed"),
        ("PENDING", "sent"),
        ("DELETED", None),
        ("SOMETHING_NEW", None),
    ],
)
def test_status_updates(evolution: str, mirage: str | None) -> None:
    event = normalise(ref.status_update(evolution))
    assert event.kind == "message_status"
    assert event.wa_msg_id == "3EB02BDF6F19D73AB79438"
    assert event.status == mirage
    assert event.phone == "5511988887777"
    assert event.from_me is True


def test_status_update_v1_key_object() -> None:
    payload = ref.body("messages.update", {"key": {"id": "ABC", "remoteJid": "5511@s.whatsapp.net"}, "status": 3})
    event = normalise(payload)
    assert (event.wa_msg_id, event.status) == ("ABC", "delivered")


def test_status_rank_only_moves_forward() -> None:
    assert list(STATUS_RANK) == ["queued", "sent", "failed", "server_ack", "delivered", "read"]
    assert status_advances(None, "sent")
    assert status_advances("sent", "server_ack")
    assert status_advances("sent", "failed")
    assert status_advances("failed", "delivered")
    assert not status_advances("read", "delivered")
    assert not status_advances("delivered", "delivered")
    assert not status_advances("read", None)
    assert map_status(2) == "server_ack"


def test_qr_code() -> None:
    event = normalise(ref.QR)
    assert (event.kind, event.qr_code, event.qr_base64) == (
        "qr",
        "2@y8eK...,...",
        "data:image/png;base64,iVBORw0KGgo...",
    )
    assert event.pairing_code is None
    assert event.qr_limit_reached is False


def test_qr_limit_reached() -> None:
    event = normalise(ref.QR_LIMIT)
    assert (event.kind, event.qr_limit_reached, event.qr_code) == ("qr", True, None)


def test_connection_states() -> None:
    opened = normalise(ref.OPEN)
    assert (opened.kind, opened.state, opened.status_reason, opened.wuid) == (
        "connection",
        "open",
        200,
        "5511999990000",
    )
    assert opened.profile_name == "Acme Sales"
    assert normalise(ref.CONNECTING).state == "connecting"
    refused = normalise(ref.REFUSED)
    assert (refused.state, refused.status_reason, refused.is_ban_like) == ("refused", 428, False)


@pytest.mark.parametrize(
    ("reason", "ban_like", "logged_out"),
    [(401, False, True), (402, True, False), (403, True, False), (406, True, False)],
)
def test_close_reasons(reason: int, ban_like: bool, logged_out: bool) -> None:
    event = normalise(ref.closed(reason))
    assert (event.state, event.is_ban_like, event.logged_out) == ("close", ban_like, logged_out)


def test_presence() -> None:
    event = normalise(ref.PRESENCE)
    assert (event.kind, event.phone, event.presence) == ("presence", "5511988887777", "composing")


@pytest.mark.parametrize("payload", [ref.STATUS_INSTANCE, ref.LOGOUT])
def test_other_events(payload: dict) -> None:
    event = normalise(payload)
    assert event.kind == "other"
    assert event.instance == "acme-sales"


def test_by_events_style_names_are_accepted() -> None:
    assert normalise(ref.UPSERT | {"event": "MESSAGES_UPSERT"}).kind == "message"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"instance": "a", "data": {}},
        {"event": "messages.upsert", "data": {}},
        ref.body("messages.upsert", None),
        ref.body("messages.upsert", {"key": {"remoteJid": "x@s.whatsapp.net", "fromMe": False}}),
        ref.body("messages.upsert", {"key": {"id": "1", "remoteJid": 5}}),
        ref.body("messages.upsert", {"key": {"id": "1", "remoteJid": "x", "fromMe": "no"}}),
        ref.body("messages.upsert", {"key": {"id": "1", "remoteJid": "x"}, "messageTimestamp": 10**30}),
        ref.body("messages.upsert", {"key": {"id": "1", "remoteJid": "x"}, "messageTimestamp": "soon"}),
        ref.body("messages.update", {"status": "READ"}),
        ref.body("qrcode.updated", {"qrcode": {"base64": "x"}}),
        ref.body("qrcode.updated", {}),
        ref.body("connection.update", {"statusReason": 401}),
        ref.body("connection.update", {"state": "close", "statusReason": "soon"}),
    ],
)
def test_malformed_payloads(payload: object) -> None:
    with pytest.raises(MalformedEvent):
        normalise(payload)

"""webhook.normalise on rich-action shapes: media, voice, reactions, quotes, groups, status, edits, deletes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mirage_app.evolution.webhook import MalformedEvent, normalise
from mirage_app.evolution.webhook_content import wa_bytes, wa_int
from tests.evolution import rich_payloads as rp
from tests.evolution.reference_payloads import body


def test_sent_image() -> None:
    event = normalise(rp.SENT_IMAGE)
    assert (event.kind, event.content_kind, event.from_me, event.status) == ("message", "image", True, "sent")
    assert (event.text, event.caption, event.media_mime) == ("olha que fofo", "olha que fofo", "image/jpeg")
    assert event.media_sha256 == rp.SHA.hex() and event.media_base64 is None
    assert (event.phone, event.group_jid, event.is_status, event.quoted_wa_msg_id) == (
        "5511988887777",
        None,
        False,
        None,
    )


def test_received_image_with_base64_bytes_and_body() -> None:
    event = normalise(rp.RECEIVED_IMAGE_B64)
    assert event.media_sha256 == rp.SHA.hex()  # base64-encoded fileSha256 (2.1/2.2) reads the same
    assert event.media_base64 == "aGVsbG8="


def test_voice_and_plain_audio() -> None:
    voice = normalise(rp.RECEIVED_VOICE)
    assert (voice.content_kind, voice.media_seconds, voice.media_mime, voice.text) == (
        "voice",
        8,
        "audio/ogg; codecs=opus",
        "",
    )
    assert normalise(rp.RECEIVED_AUDIO).content_kind == "audio"


def test_sticker_quoting_an_image() -> None:
    event = normalise(rp.RECEIVED_STICKER_QUOTING_IMAGE)
    assert (event.content_kind, event.text) == ("sticker", "")
    assert (event.quoted_wa_msg_id, event.quoted_text) == ("3EB0B5C72FAD50804DAF26", "a foto")


def test_reaction_sent_and_removed() -> None:
    sent = normalise(rp.SENT_REACTION)
    assert (sent.content_kind, sent.reaction_target_id, sent.reaction_text, sent.text) == (
        "reaction",
        "3EB07F687BA29993B52BA3",
        "👍",
        "",
    )
    removed = normalise(rp.RECEIVED_REACTION_REMOVED)
    assert (removed.reaction_target_id, removed.reaction_text) == ("3EB07F687BA29993B52BA4", "")


def test_text_reply_quote_in_top_level_context() -> None:
    event = normalise(rp.RECEIVED_QUOTE)
    assert (event.content_kind, event.text) == ("text", "sim, pode ser amanhã")
    assert (event.quoted_wa_msg_id, event.quoted_text) == ("3EB0B5C72FAD50804DAF26", "vamos marcar?")


def test_location_contact_document_poll() -> None:
    location = normalise(rp.RECEIVED_LOCATION)
    assert location.content_kind == "location"
    assert location.location == {"lat": -23.55, "lng": -46.63, "name": "Sé", "address": "SP"}
    contact = normalise(rp.RECEIVED_CONTACT)
    assert contact.contact_card == {"display_name": "Ana", "vcard": rp.VCARD} and contact.text == ""
    document = normalise(rp.RECEIVED_DOCUMENT)
    assert (document.content_kind, document.text, document.media_mime) == ("document", "o relatório", "application/pdf")
    assert normalise(rp.RECEIVED_POLL).content_kind == "poll"


def test_group_message_author_from_participant_alt() -> None:
    event = normalise(rp.GROUP_VOICE)
    assert (event.is_group, event.group_jid, event.remote_jid) == (True, rp.GROUP, rp.GROUP)
    assert (event.author_phone, event.phone, event.content_kind) == ("5511999990000", "5511999990000", "voice")


def test_group_message_pn_addressing() -> None:
    key = rp.GROUP_KEY | {
        "participant": "5511977776666@s.whatsapp.net",
        "participantAlt": "555@lid",
        "addressingMode": "pn",
    }
    event = normalise(body("messages.upsert", rp.message(key, {"conversation": "oi"}, "conversation")))
    assert event.author_phone == "5511977776666"


def test_group_send_has_no_author() -> None:
    event = normalise(rp.GROUP_SENT_TEXT)
    assert (event.group_jid, event.author_phone, event.phone, event.from_me) == (rp.GROUP, None, None, True)


def test_status_post() -> None:
    event = normalise(rp.RECEIVED_STATUS)
    assert (event.is_status, event.phone, event.author_phone, event.text) == (True, None, "5511988887777", "bom dia ☀️")


def test_edit_at_receiver_and_sender() -> None:
    received = normalise(rp.EDITED)
    assert (received.kind, received.wa_msg_id, received.text, received.revoked) == (
        "message_edit",
        "3EB0D2E1F0A9B8C7D6E5F4",
        "sim, depois de amanhã",
        False,
    )
    assert received.timestamp == datetime.fromtimestamp(1733412460.123, UTC)
    sent = normalise(rp.SEND_MESSAGE_UPDATE)
    assert (sent.kind, sent.wa_msg_id, sent.text, sent.from_me) == (
        "message_edit",
        "3EB0D2E1F0A9B8C7D6E5F4",
        "sim, depois de amanhã",
        True,
    )
    revoked = normalise(rp.REVOKED)
    assert (revoked.kind, revoked.revoked, revoked.text) == ("message_edit", True, None)


def test_delete_sender_row_and_receiver_key() -> None:
    sender = normalise(rp.DELETE_SENDER)
    assert (sender.kind, sender.wa_msg_id, sender.from_me, sender.phone) == (
        "message_delete",
        "3EB0D2E1F0A9B8C7D6E5F4",
        True,
        "5511988887777",
    )
    receiver = normalise(rp.DELETE_RECEIVER)
    assert (receiver.wa_msg_id, receiver.from_me, receiver.phone) == ("3EB0D2E1F0A9B8C7D6E5F4", False, "5511999990000")


def test_group_events() -> None:
    upsert = normalise(rp.GROUPS_UPSERT)
    assert (upsert.kind, upsert.group_jid, upsert.group_action, upsert.group_subject) == (
        "group",
        rp.GROUP,
        "create",
        "Warm A",
    )
    assert upsert.group_participants == ("5511999990000", "5511988887777")
    assert upsert.author_phone == "5511999990000"
    update = normalise(rp.PARTICIPANTS_UPDATE)
    assert (update.group_action, update.group_participants) == ("add", ("5511977776666",))
    legacy = body("group-participants.update", {"id": rp.GROUP, "participants": ["123@lid"], "action": "remove"})
    assert normalise(legacy).group_participants == ("123@lid",)


def test_wa_encodings() -> None:
    assert wa_bytes({"0": 1, "1": 255}, "x") == b"\x01\xff"
    assert wa_bytes("Af8=", "x") == b"\x01\xff"
    assert wa_int({"low": -1754441906, "high": 403, "unsigned": False}, "x") == 1733412345678
    assert wa_int("1733412460123", "x") == 1733412460123


@pytest.mark.parametrize(
    "payload",
    [
        body("messages.upsert", rp.message(rp.RECEIVED, {"imageMessage": {"fileSha256": {"0": 300}}}, "x")),
        body("messages.upsert", rp.message(rp.RECEIVED, {"imageMessage": {"fileSha256": {"1": 3}}}, "x")),
        body("messages.upsert", rp.message(rp.RECEIVED, {"audioMessage": {"seconds": "eight"}}, "x")),
        body("messages.upsert", rp.message(rp.RECEIVED, {"reactionMessage": {"text": "👍"}}, "x")),
        body("messages.upsert", rp.message(rp.RECEIVED, {"imageMessage": "nope"}, "x")),
        body("messages.upsert", rp.message(rp.RECEIVED, {"conversation": "x"}, "x", contextInfo={"stanzaId": 3})),
        body("messages.edited", {"type": "REVOKE"}),
        body("messages.delete", {"status": "DELETED"}),
        body("groups.upsert", []),
        body("group-participants.update", {"id": "5511@s.whatsapp.net", "action": "add", "participants": []}),
        body("presence.update", {"id": rp.PEER, "presences": {rp.PEER: "composing"}}),
    ],
)
def test_malformed_rich_shapes(payload: dict) -> None:
    with pytest.raises(MalformedEvent):
        normalise(payload)

"""Contract: rich sends over real HTTP with the client, and what the sender and the receiver see (§12.12)."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.rich_models import MessageKey, QuotedRef
from mirage_app.evolution.simulator import SimulatorServer
from mirage_app.evolution.simulator.media import tone_ogg
from mirage_app.evolution.webhook import normalise
from tests.evolution.conftest import fast_config, make_client


def png_b64(color: str = "red", size: tuple[int, int] = (8, 6)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


VOICE = tone_ogg(1.5)
VOICE_B64 = base64.b64encode(VOICE).decode()


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorServer]:
    """Acks and receptions right away; instance B receives status posts."""
    with SimulatorServer(config=fast_config()) as server:
        yield server


@pytest.fixture
def pair(sim: SimulatorServer, client: EvolutionClient, name: str) -> tuple[str, str, str, str]:
    """(instance a, phone a, instance b, phone b), both open."""
    a, b = name + "-a", name + "-b"
    client.create_instance(a, qrcode=False)
    client.create_instance(b, qrcode=False, settings={"readStatus": True})
    return a, sim.scan(a, profile_name="Alice"), b, sim.scan(b, profile_name="Bruno")


def events(sim: SimulatorServer, instance: str, event: str) -> list[dict[str, Any]]:
    assert sim.wait_idle(5)
    return [e["data"] for e in sim.events(instance, event)]


def as_body(sim: SimulatorServer, instance: str, event: str, data: Any) -> dict[str, Any]:
    return {"event": event, "instance": instance, "data": data}


def test_image_with_caption_reaches_the_peer(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, _, b, phone_b = pair
    sent = client.send_media(
        a, phone_b, media_b64=png_b64(), mimetype="image/png", file_name="cat.png", caption="olha", delay_ms=10
    )
    assert (sent.message_type, sent.status, sent.remote_jid) == ("imageMessage", "PENDING", f"{phone_b}@s.whatsapp.net")
    image = sent.raw["message"]["imageMessage"]
    assert image["mimetype"] == "image/png" and image["caption"] == "olha"  # the file name's type, bytes are JPEG
    assert image["fileLength"]["unsigned"] is True and set(image["fileSha256"]) == {str(i) for i in range(32)}
    assert (image["width"], image["height"]) == (8, 6)
    assert sent.raw["contextInfo"]["disappearingMode"] == {"initiator": 0}
    assert sim.wait_idle(5)
    (record,) = [m for m in sim.messages(b) if m.key_id == sent.key_id]
    jpeg = bytes(image["fileSha256"][str(i)] for i in range(32))
    assert record.media_sha256 == jpeg.hex() and record.media_size == image["fileLength"]["low"]
    (upsert,) = events(sim, b, "messages.upsert")
    event = normalise(as_body(sim, b, "messages.upsert", upsert))
    assert (event.content_kind, event.caption, event.media_sha256) == ("image", "olha", jpeg.hex())
    acks = [u["status"] for u in events(sim, a, "messages.update")]
    assert acks == ["SERVER_ACK", "DELIVERY_ACK", "READ"]


def test_voice_note_is_ptt_with_seconds_and_played(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, phone_a, b, phone_b = pair
    sent = client.send_voice(a, phone_b, audio_b64=VOICE_B64, delay_ms=5)
    audio = sent.raw["message"]["audioMessage"]
    assert (audio["ptt"], audio["seconds"], audio["mimetype"]) == (True, 2, "audio/ogg; codecs=opus")
    (upsert,) = events(sim, b, "messages.upsert")
    event = normalise(as_body(sim, b, "messages.upsert", upsert))
    assert (event.content_kind, event.media_seconds, event.phone) == ("voice", 2, phone_a)
    assert event.media_sha256 == hashlib.sha256(VOICE).hexdigest()
    acks = [u["status"] for u in events(sim, a, "messages.update")]
    assert acks == ["SERVER_ACK", "DELIVERY_ACK", "READ", "PLAYED"]


def test_base64_webhook_carries_the_file(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, _, b, phone_b = pair
    client.set_webhook(b, "http://127.0.0.1:9/none", events=[])
    sim.state.core.instances[b].webhook.base64 = True  # webhook/set `base64: true`
    client.send_voice(a, phone_b, audio_b64=VOICE_B64)
    (upsert,) = events(sim, b, "messages.upsert")
    assert base64.b64decode(upsert["message"]["base64"]) == VOICE


def test_sticker_becomes_webp(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, _, b, phone_b = pair
    sent = client.send_sticker(a, phone_b, sticker_b64=png_b64("blue"))
    assert sent.message_type == "stickerMessage" and sent.raw["message"]["stickerMessage"]["mimetype"] == "image/webp"
    assert sim.wait_idle(5)
    (record,) = [m for m in sim.messages(b) if m.key_id == sent.key_id]
    assert record.message_type == "stickerMessage" and record.media_size
    assert normalise(as_body(sim, b, "messages.upsert", events(sim, b, "messages.upsert")[0])).content_kind == "sticker"


def test_reaction_and_its_removal(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, phone_a, b, phone_b = pair
    sent = client.send_text(a, phone_b, "bom dia")
    reaction = client.send_reaction(b, key=MessageKey(sent.key_id, f"{phone_a}@s.whatsapp.net", False), emoji="❤️")
    assert reaction.message_type == "reactionMessage" and "contextInfo" not in reaction.raw
    assert reaction.raw["message"]["reactionMessage"]["senderTimestampMs"] > 0  # a plain number at the sender
    client.send_reaction(b, key=MessageKey(sent.key_id, f"{phone_a}@s.whatsapp.net", False), emoji="")
    received = [normalise(as_body(sim, a, "messages.upsert", d)) for d in events(sim, a, "messages.upsert")]
    assert [(e.content_kind, e.reaction_target_id, e.reaction_text) for e in received] == [
        ("reaction", sent.key_id, "❤️"),
        ("reaction", sent.key_id, ""),
    ]
    inner = events(sim, a, "messages.upsert")[0]["message"]["reactionMessage"]
    assert inner["key"]["fromMe"] is True  # normalised to the receiver's view: its own message
    assert set(inner["senderTimestampMs"]) == {"low", "high", "unsigned"}
    assert [u["status"] for u in events(sim, b, "messages.update")] == []  # reactions get no acks


def test_quoted_reply_reaches_the_peer(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, phone_a, b, phone_b = pair
    first = client.send_text(a, phone_b, "vamos marcar?")
    (upsert,) = events(sim, b, "messages.upsert")
    quoted = QuotedRef(MessageKey.from_body(upsert["key"]), upsert["message"])
    reply = client.send_text(b, phone_a, "sim, amanhã", quoted=quoted)
    assert reply.raw["contextInfo"]["stanzaId"] == first.key_id
    assert reply.raw["contextInfo"]["participant"] == f"{phone_a}@s.whatsapp.net"
    got = normalise(as_body(sim, a, "messages.upsert", events(sim, a, "messages.upsert")[-1]))
    assert (got.text, got.quoted_wa_msg_id, got.quoted_text) == ("sim, amanhã", first.key_id, "vamos marcar?")


def test_quote_by_unknown_id_alone_is_dropped_silently(
    sim: SimulatorServer, client: EvolutionClient, pair: tuple
) -> None:
    a, _, _, phone_b = pair
    response = client._http.post(
        f"/message/sendText/{a}",
        json={"number": phone_b, "text": "x", "quoted": {"key": {"id": "3EB0UNKNOWN"}}},
        headers={"apikey": sim.api_key},
    )
    assert response.status_code == 201 and "stanzaId" not in response.json()["contextInfo"]


def test_location_and_contact(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, _, b, phone_b = pair
    location = client.send_location(a, phone_b, latitude=-23.55, longitude=-46.63, place_name="Sé", address="SP")
    assert location.raw["message"]["locationMessage"]["degreesLatitude"] == -23.55
    contact = client.send_contact(
        a, phone_b, full_name="Ana Souza", wuid="5511977776666", phone_number="+55 11 97777-6666"
    )
    card = contact.raw["message"]["contactMessage"]
    assert card["displayName"] == "Ana Souza"
    assert "item1.TEL;waid=5511977776666:+55 11 97777-6666" in card["vcard"]
    got = [normalise(as_body(sim, b, "messages.upsert", d)) for d in events(sim, b, "messages.upsert")]
    assert [e.content_kind for e in got] == ["location", "contact"]
    assert got[0].location == {"lat": -23.55, "lng": -46.63, "name": "Sé", "address": "SP"}


def test_edit_a_sent_text(sim: SimulatorServer, client: EvolutionClient, pair: tuple) -> None:
    a, _, b, phone_b = pair
    sent = client.send_text(a, phone_b, "amanha")
    edited = client.update_message(a, sent.remote_jid, key=sent.key, text="amanhã")
    assert (edited.target_id, edited.text, edited.status) == (sent.key_id, "amanhã", "PENDING")
    assert edited.raw["message"]["protocolMessage"]["type"] == "MESSAGE_EDIT"
    (update,) = events(sim, a, "send.message.update")
    assert (update["type"], update["key"]["id"]) == (14, sent.key_id)
    sender = normalise(as_body(sim, a, "send.message.update", update))
    assert (sender.kind, sender.wa_msg_id, sender.text) == ("message_edit", sent.key_id, "amanhã")
    (received,) = events(sim, b, "messages.edited")
    receiver = normalise(as_body(sim, b, "messages.edited", received))
    assert (receiver.kind, receiver.wa_msg_id, receiver.text) == ("message_edit", sent.key_id, "amanhã")
    assert events(sim, b, "messages.update")[-1]["status"] == "SERVER_ACK"


def test_text_status_reaches_listed_instances_with_read_status(
    sim: SimulatorServer, client: EvolutionClient, pair: tuple, name: str
) -> None:
    a, phone_a, b, phone_b = pair
    client.create_instance(name + "-c", qrcode=False)  # readStatus off: Evolution drops broadcasts
    phone_c = sim.scan(name + "-c")
    sent = client.send_status(
        a, kind="text", content="bom dia ☀️", background_color="#1E88E5", font=1, jid_list=[phone_b, phone_c]
    )
    assert (sent.remote_jid, sent.message_type) == ("status@broadcast", "conversation")
    (upsert,) = events(sim, b, "messages.upsert")
    event = normalise(as_body(sim, b, "messages.upsert", upsert))
    assert (event.is_status, event.author_phone, event.text, event.phone) == (True, phone_a, "bom dia ☀️", None)
    assert events(sim, name + "-c", "messages.upsert") == []
    assert events(sim, a, "messages.update") == []  # no acks for status


def test_rich_sends_to_humans_can_be_answered_in_kind(name: str) -> None:
    config = fast_config(human_voice_back_probability=1.0, human_react_probability=1.0, human_quote_probability=1.0)
    with SimulatorServer(config=config) as server, make_client(server.url, server.api_key) as evolution:
        evolution.create_instance(name, qrcode=False)
        server.scan(name)
        human = server.add_human("5511970000001", "Duda", reply_probability=1.0, optout_probability=0.0)
        voice = evolution.send_voice(name, human.phone, audio_b64=VOICE_B64)
        text = evolution.send_text(name, human.phone, "oi")
        assert server.wait_idle(5)
        got = [normalise({"event": "messages.upsert", "instance": name, "data": e["data"]}) for e in
               server.events(name, "messages.upsert")]  # fmt: skip
        kinds = {e.content_kind for e in got}
        assert kinds == {"voice", "reaction"}
        reaction = next(e for e in got if e.content_kind == "reaction")
        assert reaction.reaction_target_id == text.key_id and voice.key_id != text.key_id
        assert next(e for e in got if e.content_kind == "voice").media_seconds == 1


def test_humans_quote_what_they_answer(name: str) -> None:
    config = fast_config(human_quote_probability=1.0)
    with SimulatorServer(config=config) as server, make_client(server.url, server.api_key) as evolution:
        evolution.create_instance(name, qrcode=False)
        server.scan(name)
        human = server.add_human("5511970000002", "Edu", reply_probability=1.0, optout_probability=0.0)
        sent = evolution.send_text(name, human.phone, "tudo bem?")
        assert server.wait_idle(5)
        (data,) = [e["data"] for e in server.events(name, "messages.upsert")]
        reply = normalise({"event": "messages.upsert", "instance": name, "data": data})
        assert (reply.content_kind, reply.quoted_wa_msg_id, reply.quoted_text) == ("text", sent.key_id, "tudo bem?")
        assert reply.text in human.reply_texts

"""Contract: every error shape the rich-actions reference lists (§11.2, §11.3, §12.x), over real HTTP."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import ConnectionClosed, EvolutionBadRequest, EvolutionServerError, NotOnWhatsApp
from mirage_app.evolution.rich_models import MessageKey
from mirage_app.evolution.simulator import SimulatorServer
from mirage_app.evolution.simulator.media import is_base64, is_url
from mirage_app.evolution.simulator.reactions import is_single_emoji
from tests.evolution.test_rich_routes import VOICE_B64, png_b64

NOT_IMAGE = base64.b64encode(b"this is not a picture").decode()
NOT_AUDIO = base64.b64encode(b"nor is this a sound, at all").decode()
STRANGER = "5511000000002"


@pytest.fixture
def opened(sim: SimulatorServer, client: EvolutionClient, name: str) -> tuple[str, str]:
    """(instance, a peer phone that is on WhatsApp)."""
    client.create_instance(name, qrcode=False)
    sim.scan(name)
    return name, sim.add_human(f"55119{abs(hash(name)) % 10**8:08d}", "Duda", reply_probability=0.0).phone


def _post(sim: SimulatorServer, path: str, body: Any) -> httpx.Response:
    return httpx.post(sim.url + path, json=body, headers={"apikey": sim.api_key})


def _message(response: httpx.Response) -> Any:
    return response.json()["response"]["message"]


@pytest.mark.parametrize(
    ("route", "body", "status", "message"),
    [
        ("sendMedia", {"number": "{p}", "media": "{img}"}, 400, [['instance requires property "mediatype"']]),
        ("sendMedia", {"number": 5511, "mediatype": "image", "media": "{img}"}, 400, [["Invalid format"]]),
        ("sendMedia", {"number": "{p}", "mediatype": "sticker", "media": "{img}"}, 400,
         [["mediatype is not one of enum values: image,document,video,audio"]]),
        ("sendMedia", {"number": "{p}", "mediatype": "image", "media": "data:image/png;base64,AAAA"}, 400,
         ["Owned media must be a url or base64"]),
        ("sendMedia", {"number": "{p}", "mediatype": "image", "media": "http://localhost:8080/a.jpg"}, 400,
         ["Owned media must be a url or base64"]),
        ("sendMedia", {"number": "{p}", "mediatype": "document", "media": "{img}"}, 400,
         ["For base64 the file name must be informed."]),
        ("sendMedia", {"number": "{p}", "mediatype": "image", "media": "{bad}"}, 500,
         ["Error: Input buffer contains unsupported image format"]),
        ("sendMedia", {"number": STRANGER, "mediatype": "image", "media": "{img}"}, 400,
         [{"jid": f"{STRANGER}@s.whatsapp.net", "exists": False, "number": STRANGER}]),
        ("sendMedia", {"number": "{p}", "mediatype": "image", "media": "{img}", "delay": 1.5}, 400,
         [["Enter a value in milliseconds"]]),
        ("sendWhatsAppAudio", {"number": "{p}", "audio": "not base64!"}, 400,
         ["Owned media must be a url, base64, or valid file with buffer"]),
        ("sendWhatsAppAudio", {"number": "{p}", "audio": "{noise}"}, 500,
         ["Error: ffmpeg exited with code 1: Invalid data found when processing input"]),
        ("sendSticker", {"number": "{p}", "sticker": "a b"}, 400, ["Owned media must be a url or base64"]),
        ("sendSticker", {"number": "{p}", "sticker": "{bad}"}, 500, "Input buffer contains unsupported image format"),
        ("sendReaction", {"key": {"id": "X", "remoteJid": "{p}@s.whatsapp.net"}, "reaction": "👍"}, 400,
         [['key requires property "fromMe"']]),
        ("sendReaction", {"key": {"id": "X", "remoteJid": "{p}@s.whatsapp.net", "fromMe": True}, "reaction": "👍👍"},
         400, ["Reaction must be a single emoji or empty string"]),
        ("sendReaction", {"key": {"id": "X", "remoteJid": f"{STRANGER}@s.whatsapp.net", "fromMe": True},
                          "reaction": "👍"}, 400,
         [{"jid": f"{STRANGER}@s.whatsapp.net", "exists": False, "number": f"{STRANGER}@s.whatsapp.net"}]),
        ("sendLocation", {"number": "{p}", "latitude": 1, "longitude": 2, "address": ""}, 400,
         [['instance requires property "name"']]),
        ("sendLocation", {"number": "{p}", "latitude": "1", "longitude": 2, "name": "", "address": ""}, 400,
         [["latitude is not of a type(s) number"]]),
        ("sendContact", {"number": "{p}", "contact": [{"fullName": "Ana"}]}, 400,
         [['contact[0] requires property "phoneNumber"']]),
        ("sendContact", {"number": "{p}", "contact": [{"fullName": "Ana", "phoneNumber": "123"}]}, 400,
         [["contact[0].phoneNumber does not meet minimum length of 10"]]),
        ("sendContact", {"number": "{p}", "contact": [{"fullName": "A", "phoneNumber": "5511977776666",
                                                        "wuid": "abcdefghijk"}]},
         400, [['"wuid" must be a numeric string']]),
        ("sendStatus", {"type": "story", "content": "x"}, 400,
         [["type is not one of enum values: text,image,audio,video"]]),
        ("sendStatus", {"type": "text"}, 400, ["Content is required"]),
        ("sendStatus", {"type": "text", "content": "x", "font": 1}, 400, ["Background color is required"]),
        ("sendStatus", {"type": "text", "content": "x", "backgroundColor": "#000000", "font": 0}, 400,
         ["Font is required"]),
        ("sendStatus", {"type": "text", "content": "x", "backgroundColor": "#000000", "font": 1}, 400,
         ["StatusJidList is required"]),
        ("sendStatus", {"type": "text", "content": "x", "backgroundColor": "#000000", "font": 1,
                        "statusJidList": ["abc"]}, 400, [['"statusJidList" must be an array of numeric strings']]),
    ],
)  # fmt: skip
def test_send_error_shapes(
    sim: SimulatorServer, opened: tuple[str, str], route: str, body: dict, status: int, message: Any
) -> None:
    instance, phone = opened
    filled = _fill(body, {"{p}": phone, "{img}": png_b64(), "{bad}": NOT_IMAGE, "{noise}": NOT_AUDIO})
    response = _post(sim, f"/message/{route}/{instance}", filled)
    assert (response.status_code, _message(response)) == (status, message)
    assert response.json()["error"] == ("Bad Request" if status == 400 else "Internal Server Error")


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, str):
        for marker, replacement in values.items():
            value = value.replace(marker, replacement)
    return value


def test_client_maps_rich_errors(sim: SimulatorServer, client: EvolutionClient, opened: tuple[str, str]) -> None:
    instance, phone = opened
    with pytest.raises(EvolutionServerError) as broken:
        client.send_media(instance, phone, media_b64=NOT_IMAGE, mimetype="image/png", file_name="x.png")
    assert broken.value.status == 500
    with pytest.raises(NotOnWhatsApp):
        client.send_voice(instance, STRANGER, audio_b64=VOICE_B64)
    with pytest.raises(EvolutionBadRequest) as bad:
        client.send_reaction(instance, key=MessageKey("X", f"{phone}@s.whatsapp.net", False), emoji="a")
    assert bad.value.messages == ["Reaction must be a single emoji or empty string"]
    sim.set_faults(disconnect=[instance])
    with pytest.raises(ConnectionClosed):
        client.send_sticker(instance, phone, sticker_b64=png_b64())


def test_media_is_prepared_before_the_recipient_check(sim: SimulatorServer, opened: tuple[str, str]) -> None:
    """A bad body is a 500 even when the number is not on WhatsApp (§11.1 step 3)."""
    instance, _ = opened
    response = _post(
        sim, f"/message/sendMedia/{instance}", {"number": STRANGER, "mediatype": "image", "media": NOT_IMAGE}
    )
    assert response.status_code == 500


def test_edit_errors(sim: SimulatorServer, client: EvolutionClient, opened: tuple[str, str]) -> None:
    instance, phone = opened
    jid = f"{phone}@s.whatsapp.net"
    unknown = {"number": phone, "key": {"id": "3EB0NOPE", "remoteJid": jid, "fromMe": True}, "text": "x"}
    response = _post(sim, f"/chat/updateMessage/{instance}", unknown)
    assert (response.status_code, _message(response)) == (400, ["Message not compatible"])
    sent = client.send_text(instance, phone, "oi")
    mismatch = {"number": "5511988880000", "key": sent.key.to_body(), "text": "x"}
    response = _post(sim, f"/chat/updateMessage/{instance}", mismatch)
    assert (response.status_code, _message(response)) == (400, ["RemoteJid does not match"])
    response = _post(sim, f"/chat/updateMessage/{instance}", {})
    assert (response.status_code, _message(response)) == (
        500,
        "Cannot read properties of undefined (reading 'replace')",
    )
    response = _post(sim, f"/chat/updateMessage/{instance}", {"number": phone, "key": {"id": "x"}, "text": "y"})
    assert response.status_code == 400 and _message(response) == [
        ['key requires property "remoteJid"', 'key requires property "fromMe"']
    ]


def test_status_picture_needs_a_url(sim: SimulatorServer, opened: tuple[str, str]) -> None:
    instance, phone = opened
    body = {"type": "image", "content": png_b64(), "statusJidList": [f"{phone}@s.whatsapp.net"]}
    response = _post(sim, f"/message/sendStatus/{instance}", body)
    assert response.status_code == 400 and _message(response)[0].startswith("TypeError: Failed to parse URL")
    body["content"] = "https://cdn.example.com/a.jpg"
    assert _post(sim, f"/message/sendStatus/{instance}", body).status_code == 201


@pytest.mark.parametrize("emoji", ["👍", "👍🏽", "❤️", "❤", "🇧🇷", "👨‍👩‍👧", "1️⃣", "©", "☺"])
def test_single_emoji_accepted(emoji: str) -> None:
    assert is_single_emoji(emoji)


@pytest.mark.parametrize("text", ["👍👍", " 👍", "😂 ", "a", "1", "🇧🇷🇧🇷"])
def test_not_a_single_emoji(text: str) -> None:
    assert not is_single_emoji(text)


@pytest.mark.parametrize(
    ("value", "url", "b64"),
    [
        ("https://cdn.example.com/a.jpg", True, False),
        ("example.com/a.jpg", True, False),
        ("http://localhost:8080/a.jpg", False, False),
        ("http://minio:9000/b/a.jpg", False, False),
        ("http://127.0.0.1:8080/a.jpg", True, False),
        ("https://x.com/" + "a" * 2100, False, False),
        ("aGVsbG8=", False, True),
        ("data:image/png;base64,AAAA", False, False),
        ("", False, True),
    ],
)
def test_media_acceptance(value: str, url: bool, b64: bool) -> None:
    assert (is_url(value), is_base64(value)) == (url, b64)

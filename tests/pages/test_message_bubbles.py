"""How a listed message reads on screen, in both languages: the file's address on the backend, a voice note's
length, the quote box's words for a quoted file, the status badge, a group's speaker."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mirage_app.i18n import catalog
from mirage_app.services.message_history import MessageItem
from mirage_app.states.bubbles import bubble, voice_length

PT, EN = catalog("pt-BR"), catalog("en")
MEDIA = uuid.uuid4()
ITEM = MessageItem(
    id=uuid.uuid4(),
    wa_msg_id="w1",
    created_at=datetime(2026, 12, 6, 14, 0, tzinfo=UTC),
    direction="out",
    kind="text",
    body="bom dia",
    status="read",
    error=None,
    from_number_id=uuid.uuid4(),
    to_number_id=uuid.uuid4(),
    from_label="Ana",
    to_label="Bia",
    group_label=None,
    media_id=None,
    edited=False,
    quoted_body=None,
    quoted_kind=None,
)


def _bubble(tr, item=ITEM, **kw):
    return bubble(tr, item, backend="http://localhost:8000", stamp=lambda when: when.strftime("%H:%M"), **kw)


def test_a_voice_note_plays_from_the_backend_with_its_length():
    b = _bubble(PT, replace(ITEM, kind="voice", body="", media_id=MEDIA, voice_seconds=67.4))
    assert b.media_url == f"http://localhost:8000/api/media/{MEDIA}/file"
    assert (b.kind, b.duration, b.body) == ("voice", "1:07", "")


def test_a_deleted_file_has_no_address():
    assert _bubble(PT, replace(ITEM, kind="image", body="olha", media_id=None)).media_url == ""


@pytest.mark.parametrize(
    ("tr", "kind", "body", "shown"),
    [
        (PT, "voice", "", "🎤 Mensagem de voz"),
        (EN, "voice", "", "🎤 Voice note"),
        (PT, "image", "", "📷 Foto"),
        (EN, "image", "the view", "the view"),  # a captioned picture is quoted by its caption
        (EN, "sticker", "", "Sticker"),
        (PT, "text", "tudo certo?", "tudo certo?"),
        (PT, "location", "", "📍 Localização"),
        (EN, "contact", "", "👤 Contact card"),
    ],
)
def test_the_quote_box_says_what_was_quoted(tr, kind, body, shown):
    assert _bubble(tr, replace(ITEM, quoted_kind=kind, quoted_body=body)).quote == shown


def test_reactions_edits_and_statuses_read_in_words():
    b = _bubble(EN, replace(ITEM, reactions=["👍", "😂"], edited=True, status="delivered"))
    assert (b.reactions, b.edited, b.status_label, b.at) == (["👍", "😂"], True, "Delivered", "14:00")
    assert _bubble(PT, ITEM, status_kind="message_status").status_label == "Lida"


def test_a_group_message_names_its_speaker_and_group():
    b = _bubble(PT, replace(ITEM, group_label="Amigos", to_label=None, to_number_id=None))
    assert (b.in_group, b.sender, b.recipient) == (True, "Ana", "Amigos")


def test_cards_carry_their_fields():
    loc = replace(ITEM, kind="location", body="", location={"name": "Padaria", "address": "Rua A"})
    card = replace(ITEM, kind="contact", body="", contact_card={"full_name": "Ana", "phone": "+5511"})
    assert (_bubble(PT, loc).place, _bubble(PT, loc).address) == ("Padaria", "Rua A")
    assert (_bubble(PT, card).card_name, _bubble(PT, card).card_phone) == ("Ana", "+5511")


def test_voice_length():
    assert [voice_length(s) for s in (None, 0, 0.4, 7.4, 59.6, 180)] == ["", "", "0:01", "0:07", "1:00", "3:00"]

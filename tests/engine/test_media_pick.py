"""`pick_asset`: a number never sends the same file twice to the same partner (a number or a group); when the
library runs out, a new file is drawn (or, for a voice note, spoken from the turn's text) and kept."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import text

from mirage_app.base.permissions import Actor
from mirage_app.core.db import app_engine, tenant_connection, tenant_session
from mirage_app.engine import media_pick
from mirage_app.models import (
    Conversation,
    ConversationMode,
    Message,
    MessageDirection,
    MessageKind,
    UserRole,
    WarmingGroup,
)
from mirage_app.services import media_library
from tests.conftest import make_number
from tests.media.samples import audio, picture


def _record_send(tenant, from_id, partner, asset_id, kind, *, group=False) -> None:
    """The message the engine writes when it sends the file (what the unique index counts)."""
    with tenant_session(tenant) as s:
        s.add(Message(tenant_id=tenant, from_number_id=from_id, to_number_id=None if group else partner,
                      group_id=partner if group else None, direction=MessageDirection.outbound, kind=kind,
                      media_id=asset_id))  # fmt: skip
        s.commit()


@pytest.fixture
def pair(tenant_a):
    return make_number(tenant_a, "A"), make_number(tenant_a, "B")


def _library(tenant, n: int) -> set[uuid.UUID]:
    op = Actor(tenant_id=tenant, role=UserRole.operator, label="op@test")
    return {media_library.upload(op, f"{i}.png", picture("PNG", (40 + i, 40)), "image").id for i in range(n)}


def test_the_library_first_never_the_same_file_twice_then_new_drawings(tenant_a, pair):
    a, b = pair
    library = _library(tenant_a, 3)
    rng = random.Random(1)
    picked = []
    for _ in range(5):
        with tenant_session(tenant_a) as s:
            asset = media_pick.pick_asset(s, tenant_a, a, b, "image", rng)
            s.commit()
        assert asset is not None and asset not in picked
        picked.append(asset)
        _record_send(tenant_a, a, b, asset, MessageKind.image)
    assert set(picked[:3]) == library  # the uploads go out first
    with tenant_session(tenant_a) as s:
        origins = s.execute(text("SELECT origin, kind::text FROM media_assets WHERE id = ANY(:ids)"),
                            {"ids": picked[3:]}).all()  # fmt: skip
    assert sorted(origins) == [("generated", "image"), ("generated", "image")]


def test_another_partner_or_sender_still_gets_the_library(tenant_a, pair):
    a, b = pair
    c = make_number(tenant_a, "C")
    (only,) = _library(tenant_a, 1)
    _record_send(tenant_a, a, b, only, MessageKind.image)
    with tenant_session(tenant_a) as s:
        assert media_pick.pick_asset(s, tenant_a, a, c, "image", random.Random(2)) == only
        assert media_pick.pick_asset(s, tenant_a, b, a, "image", random.Random(2)) == only
        assert media_pick.pick_asset(s, tenant_a, a, b, "image", random.Random(2)) != only


def _group(tenant) -> uuid.UUID:
    with tenant_session(tenant) as s:
        conversation = Conversation(tenant_id=tenant, name="Grupo", mode=ConversationMode.group)
        s.add(conversation)
        s.flush()
        group = WarmingGroup(tenant_id=tenant, conversation_id=conversation.id, subject="Amigos")
        s.add(group)
        s.commit()
        return group.id


def test_groups_count_as_one_partner(tenant_a, pair):
    a, b = pair
    group = _group(tenant_a)
    (only,) = _library(tenant_a, 1)
    _record_send(tenant_a, a, group, only, MessageKind.image, group=True)
    with tenant_session(tenant_a) as s:
        assert media_pick.pick_asset(s, tenant_a, a, group, "image", random.Random(3)) != only
        assert media_pick.pick_asset(s, tenant_a, b, group, "image", random.Random(3)) == only  # another member


def test_archived_files_are_never_picked(tenant_a, pair):
    a, b = pair
    (only,) = _library(tenant_a, 1)
    _record_send(tenant_a, make_number(tenant_a, "X"), a, only, MessageKind.image)
    op = Actor(tenant_id=tenant_a, role=UserRole.operator, label="op@test")
    assert media_library.delete(op, only).archived
    with tenant_session(tenant_a) as s:
        assert media_pick.pick_asset(s, tenant_a, a, b, "image", random.Random(4)) not in (only, None)


def test_stickers_are_drawn_when_the_library_has_none_through_the_engines_connection(tenant_a, pair):
    a, b = pair
    with app_engine().connect() as conn, tenant_connection(conn, tenant_a) as s:
        first = media_pick.pick_asset(s, tenant_a, a, b, "sticker", random.Random(5))
        s.commit()
    _record_send(tenant_a, a, b, first, MessageKind.sticker)
    with app_engine().connect() as conn, tenant_connection(conn, tenant_a) as s:
        second = media_pick.pick_asset(s, tenant_a, a, b, "sticker", random.Random(5))  # the same seed again
        s.commit()
    assert first and second and first != second
    with tenant_session(tenant_a) as s:
        rows = s.execute(text("SELECT mime, width, origin FROM media_assets ORDER BY created_at")).all()
    assert rows == [("image/webp", 512, "generated")] * 2


def test_a_voice_note_says_the_turns_text_and_is_always_new(tenant_a, pair):
    a, b = pair
    op = Actor(tenant_id=tenant_a, role=UserRole.operator, label="op@test")
    uploaded = media_library.upload(op, "oi.wav", audio("WAV", "PCM_16"), "voice").id
    ids = []
    for _ in range(2):
        with tenant_session(tenant_a) as s:
            ids.append(media_pick.pick_asset(s, tenant_a, a, b, "voice", random.Random(6),
                                             text_for_voice="Oi, tudo bem? Saindo agora.", locale="pt-BR"))  # fmt: skip
            s.commit()
    assert len({*ids, uploaded}) == 3
    with tenant_session(tenant_a) as s:
        row = s.execute(text("SELECT content_text, origin, duration_s FROM media_assets WHERE id = :i"),
                        {"i": ids[0]}).one()  # fmt: skip
    assert row.content_text == "Oi, tudo bem? Saindo agora." and row.origin == "generated" and row.duration_s > 1
    with tenant_session(tenant_a) as s:  # no text to say: the library's voice notes
        assert media_pick.pick_asset(s, tenant_a, a, b, "voice", random.Random(7)) in {*ids, uploaded}


def test_a_kind_that_is_not_media_is_refused(tenant_a, pair):
    a, b = pair
    with pytest.raises(ValueError):
        with tenant_session(tenant_a) as s:
            media_pick.pick_asset(s, tenant_a, a, b, "video", random.Random(8))

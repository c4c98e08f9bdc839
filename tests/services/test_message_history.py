"""What a listed message shows (services.message_history): reactions on their target (the latest per reacting
number, a removed one gone), quotes with the quoted text, edits as the corrected text, files, cards, group
speakers; reaction and edit rows never listed on their own; one statement, under row-level security."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

from mirage_app.base.errors import NotFound
from mirage_app.base.permissions import Actor
from mirage_app.core.db import app_engine, tenant_session
from mirage_app.models import UserRole
from mirage_app.services import conversations as conv
from mirage_app.services import instances
from mirage_app.services.message_history import CONVERSATION_SCOPE, load_items
from tests.conftest import make_numbers

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _msg(s, tenant, c, a, b, wa, body, *, kind="text", at=0, ref=None, meta=None, media=None, group=None):
    s.execute(
        text(
            "INSERT INTO messages (tenant_id, conversation_id, from_number_id, to_number_id, wa_msg_id, body, kind, "
            "ref_wa_msg_id, meta, media_id, group_id, direction, status, created_at) VALUES (:t, :c, :a, :b, :wa, "
            ":body, CAST(:kind AS message_kind), :ref, CAST(:meta AS jsonb), :media, :g, 'out', 'read', :at)"
        ),
        {
            "t": tenant,
            "c": c,
            "a": a,
            "b": None if group else b,
            "wa": wa,
            "body": body,
            "kind": kind,
            "ref": ref,
            "meta": json.dumps(meta or {}),
            "media": media,
            "g": group,
            "at": T0 + timedelta(seconds=at),
        },
    )


def _asset(s, tenant, kind="voice", seconds=None) -> uuid.UUID:
    data = uuid.uuid4().bytes
    return s.execute(
        text(
            "INSERT INTO media_assets (tenant_id, kind, name, mime, size_bytes, sha256, data, duration_s, tags, "
            "origin, content_text) VALUES (:t, CAST(:k AS media_kind), 'f', 'audio/ogg', 16, :sha, :d, :sec, '[]', "
            "'upload', '') RETURNING id"
        ),
        {"t": tenant, "k": kind, "sha": hashlib.sha256(data).hexdigest(), "d": data, "sec": seconds},
    ).scalar()


@pytest.fixture
def chat(admin_actor):
    tenant = admin_actor.tenant_id
    a, b = make_numbers(tenant, 2, prefix="H")
    c = conv.create_conversation(admin_actor, "Rich", "pair")
    with tenant_session(tenant) as s:
        voice = _asset(s, tenant, "voice", seconds=7.4)
        picture = _asset(s, tenant, "image")
        _msg(s, tenant, c.id, a, b, "w1", "bom dia!")
        _msg(s, tenant, c.id, b, a, "r1", "👍", kind="reaction", at=1, ref="w1")
        _msg(s, tenant, c.id, a, b, "r2", "❤️", kind="reaction", at=2, ref="w1")
        _msg(s, tenant, c.id, a, b, "r3", "", kind="reaction", at=3, ref="w1")  # a takes its ❤️ back
        _msg(s, tenant, c.id, b, a, "w2", "", kind="voice", at=4, media=voice)
        _msg(s, tenant, c.id, a, b, "w3", "que legal", at=5, ref="w2", meta={"quoted": {"wa_msg_id": "w2"}})
        _msg(s, tenant, c.id, b, a, "w4", "tuod certo", at=6)
        _msg(s, tenant, c.id, b, a, "e1", "tudo certo", kind="edit", at=8, ref="w4")
        _msg(s, tenant, c.id, a, b, "w5", "olha isso", kind="image", at=9, media=picture)
        loc = {"location": {"lat": -23.5, "lng": -46.6, "name": "Padaria Estrela", "address": "Rua A, 10"}}
        _msg(s, tenant, c.id, b, a, "w6", "", kind="location", at=10, meta=loc)
        card = {"contact_card": {"full_name": "Ana Souza", "phone": "+5511988887777"}}
        _msg(s, tenant, c.id, a, b, "w7", "", kind="contact", at=11, meta=card)
        _msg(s, tenant, c.id, b, a, "w8", "kkk", at=12, ref="gone", meta={"quoted": {"body": "antiga", "kind": "text"}})
        s.commit()
    return c, a, b, voice, picture


def test_each_item_shows_what_it_is(admin_actor, chat):
    c, _, _, voice, picture = chat
    items = {m.wa_msg_id: m for m in conv.recent_messages(admin_actor, c.id)}
    assert set(items) == {f"w{i}" for i in range(1, 9)}  # reactions and edits are not items of their own
    assert items["w1"].reactions == ["👍"]  # b's stays, a's was taken back
    assert items["w2"].kind == "voice" and items["w2"].media_id == voice and items["w2"].voice_seconds == 7.4
    assert (items["w3"].quoted_kind, items["w3"].quoted_body) == ("voice", "")
    assert items["w4"].body == "tudo certo" and items["w4"].edited
    assert items["w5"].media_id == picture and items["w5"].body == "olha isso"
    assert items["w6"].location["name"] == "Padaria Estrela"
    assert items["w7"].contact_card == {"full_name": "Ana Souza", "phone": "+5511988887777"}
    # the quoted message is not stored here: the text the engine kept with the reply
    assert (items["w8"].quoted_kind, items["w8"].quoted_body) == ("text", "antiga")
    assert not items["w1"].edited and items["w1"].quoted_kind is None


def test_a_numbers_history_reads_the_same(admin_actor, chat):
    _, a, _, _, _ = chat
    items = {m.wa_msg_id: m for m in instances.recent_messages(admin_actor, a)}
    assert items["w1"].reactions == ["👍"] and items["w4"].body == "tudo certo" and "r1" not in items


def test_one_statement_for_the_whole_page(admin_actor, chat):
    c = chat[0]
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if "FROM messages" in statement:
            seen.append(statement)

    engine = app_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        conv.recent_messages(admin_actor, c.id, limit=5)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 1


def test_the_newest_page_still_carries_its_reactions(admin_actor, chat):
    c = chat[0]
    items = conv.recent_messages(admin_actor, c.id, limit=2)
    assert [m.wa_msg_id for m in items] == ["w8", "w7"]
    with tenant_session(admin_actor.tenant_id) as s:
        assert len(load_items(s, CONVERSATION_SCOPE, c.id, 500)) == 8


def test_another_tenant_sees_nothing(chat, tenant_b):
    c = chat[0]
    other = Actor(tenant_id=tenant_b, role=UserRole.admin, label="b@test", mfa_enabled=True)
    with tenant_session(tenant_b) as s:
        assert load_items(s, CONVERSATION_SCOPE, c.id, 50) == []  # row-level security, even with the id
    with pytest.raises(NotFound):
        conv.recent_messages(other, c.id)


def test_a_viewer_reads_it(chat, admin_actor):
    c = chat[0]
    viewer = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.viewer, label="v@test")
    assert len(conv.recent_messages(viewer, c.id)) == 8


def test_a_group_message_names_its_group_and_speaker(admin_actor):
    tenant = admin_actor.tenant_id
    a, _, d = make_numbers(tenant, 3, prefix="G")
    c = conv.create_conversation(admin_actor, "Grupo", "pair")
    with tenant_session(tenant) as s:
        g = s.execute(
            text(
                "INSERT INTO warming_groups (tenant_id, conversation_id, subject, description, state) "
                "VALUES (:t, :c, 'Amigos do bairro', '', 'active') RETURNING id"
            ),
            {"t": tenant, "c": c.id},
        ).scalar()
        _msg(s, tenant, c.id, a, None, "g1", "bom dia, grupo", group=g)
        _msg(s, tenant, c.id, d, None, "g2", "😂", kind="reaction", at=1, ref="g1", group=g)
        s.commit()
    (item,) = conv.recent_messages(admin_actor, c.id)
    assert (item.from_label, item.group_label, item.reactions) == ("G0", "Amigos do bairro", ["😂"])

"""The media library: uploads judged by their bytes, one asset per file, tenants apart, viewers read and operators
change, delete archives what messages show."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mirage_app.base.errors import NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.models import Message, MessageDirection, MessageKind, UserRole
from mirage_app.services import media_library, media_starter
from tests.conftest import make_number
from tests.media.samples import audio, picture


def _actor(tenant, role=UserRole.operator) -> Actor:
    return Actor(tenant_id=tenant, role=role, label=f"{role}@test")


def _send(tenant, asset_id, kind=MessageKind.image) -> None:
    """A message that shows the file (a number sent it to another)."""
    a, b = make_number(tenant, "A"), make_number(tenant, "B")
    with tenant_session(tenant) as s:
        s.add(Message(tenant_id=tenant, from_number_id=a, to_number_id=b, direction=MessageDirection.outbound,
                      kind=kind, media_id=asset_id))  # fmt: skip
        s.commit()


def test_upload_list_retag_and_serve(tenant_a):
    op = _actor(tenant_a)
    view = media_library.upload(op, "C:\\fotos\\praia.png", picture("PNG"), "image", "Praia, verão praia")
    assert (view.kind, view.mime, view.name, view.origin) == ("image", "image/jpeg", "praia.png", "upload")
    assert view.tags == ["praia", "verão"] and view.width == 64 and not view.duplicate
    assert view.url == f"/api/media/{view.id}/file"
    voice = media_library.upload(op, "audio.wav", audio("WAV", "PCM_16", seconds=2), "voice")
    assert voice.mime.startswith("audio/ogg") and voice.duration_s == pytest.approx(2, abs=0.1)
    assert [v.id for v in media_library.list_assets(op)] == [voice.id, view.id]
    assert [v.id for v in media_library.list_assets(op, kind="voice")] == [voice.id]
    assert [v.id for v in media_library.list_assets(op, tag="PRAIA")] == [view.id]
    assert media_library.update_tags(op, view.id, ["mar"]).tags == ["mar"]
    mime, data = media_library.file_of(op, view.id)
    assert mime == "image/jpeg" and data[:3] == b"\xff\xd8\xff"
    assert media_library.file_of(tenant_a, view.id) == (mime, data)  # the system's own read
    with tenant_session(tenant_a) as s:
        actions = s.execute(text("SELECT action FROM audit_log WHERE entity = 'media_asset' ORDER BY at")).scalars()
        assert list(actions) == ["media.upload", "media.upload", "media.tags"]


def test_the_same_bytes_are_one_asset_and_a_reupload_merges_tags(tenant_a):
    op = _actor(tenant_a)
    first = media_library.upload(op, "a.wav", audio("WAV", "PCM_16"), "voice", ["oi"])
    again = media_library.upload(op, "b.wav", audio("WAV", "PCM_16"), "voice", ["tchau"])
    assert again.id == first.id and again.duplicate and again.tags == ["oi", "tchau"] and again.name == "a.wav"
    assert len(media_library.list_assets(op)) == 1


def test_refusals_carry_their_code_on_the_file_field(tenant_a):
    op = _actor(tenant_a)
    with pytest.raises(ValidationFailed) as caught:
        media_library.upload(op, "x.png", b"%PDF-1.4", "image")
    assert (caught.value.code, caught.value.field) == ("media.rejected.unsupported_type", "file")
    with pytest.raises(ValidationFailed) as caught:
        media_library.upload(op, "x.png", b"\x00" * (2 * 1024 * 1024), "sticker")
    assert caught.value.code == "media.rejected.too_large" and "1 MB" in caught.value.message
    with pytest.raises(ValidationFailed) as caught:
        media_library.upload(op, "x.png", picture("PNG"), "video")
    assert caught.value.code == "media.kind_invalid"
    with pytest.raises(ValidationFailed) as caught:
        media_library.upload(op, "x.png", picture("PNG"), "image", ["no spaces allowed!"])
    assert caught.value.code == "media.tags_invalid"


def test_tenants_never_see_each_others_files(tenant_a, tenant_b):
    mine = media_library.upload(_actor(tenant_a), "a.png", picture("PNG"), "image")
    theirs = media_library.upload(_actor(tenant_b), "a.png", picture("PNG"), "image")
    assert mine.id != theirs.id and not theirs.duplicate  # the same bytes, one asset in each tenant
    other = _actor(tenant_b)
    assert [v.id for v in media_library.list_assets(other)] == [theirs.id]
    for call in (media_library.file_of, media_library.delete, media_library.get_asset, media_library.usage):
        with pytest.raises(NotFound):
            call(other, mine.id)
    with pytest.raises(NotFound):
        media_library.file_of(other, "not-a-uuid")


def test_viewers_read_and_only_operators_change(tenant_a):
    asset = media_library.upload(_actor(tenant_a), "a.png", picture("PNG"), "image")
    viewer = _actor(tenant_a, UserRole.viewer)
    assert media_library.list_assets(viewer)[0].id == asset.id
    assert media_library.file_of(viewer, asset.id)[0] == "image/jpeg"
    for change in (
        lambda: media_library.upload(viewer, "b.png", picture("GIF"), "image"),
        lambda: media_library.update_tags(viewer, asset.id, ["x"]),
        lambda: media_library.delete(viewer, asset.id),
    ):
        with pytest.raises(PermissionDenied):
            change()


def test_delete_removes_an_unsent_file_and_archives_one_messages_show(tenant_a):
    op = _actor(tenant_a)
    unsent = media_library.upload(op, "a.png", picture("PNG"), "image")
    sent = media_library.upload(op, "b.gif", picture("GIF"), "sticker")
    _send(tenant_a, sent.id, MessageKind.sticker)
    assert media_library.usage(op, sent.id) == 1
    assert media_library.delete(op, unsent.id) == media_library.Deleted(archived=False, messages=0)
    with pytest.raises(NotFound):
        media_library.get_asset(op, unsent.id)
    assert media_library.delete(op, sent.id) == media_library.Deleted(archived=True, messages=1)
    assert media_library.list_assets(op) == []
    archived = media_library.list_assets(op, include_archived=True)
    assert [(v.id, v.messages) for v in archived] == [(sent.id, 1)] and archived[0].archived_at is not None
    assert media_library.file_of(op, sent.id)[0] == "image/webp"  # the messages still show it
    restored = media_library.upload(op, "b.gif", picture("GIF"), "sticker")  # uploading it again brings it back
    assert restored.id == sent.id and restored.archived_at is None


def test_the_demo_starter_library(tenant_a):
    op = _actor(tenant_a)
    assert media_starter.load_starter_library(op) == 10
    views = media_library.list_assets(op, tag="demo")
    kinds = sorted(v.kind for v in views)
    assert kinds == ["image"] * 4 + ["sticker"] * 4 + ["voice"] * 2
    assert all(v.origin == "generated" for v in views)
    assert {v.content_text for v in views if v.kind == "voice"} == set(media_starter.VOICE_LINES["pt-BR"])
    assert media_starter.load_starter_library(op) == 0  # loading it again adds nothing

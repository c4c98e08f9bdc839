"""The media library page's words: a delete says how many messages show the file (archive) or that none does
(delete for good), in both languages; sizes and lengths read as people write them."""

from __future__ import annotations

from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.i18n import catalog
from mirage_app.states.media import _size, delete_view

PT, EN = catalog("pt-BR"), catalog("en")


def test_a_file_messages_show_is_archived_and_the_dialog_says_how_many():
    impact = Impact("por-do-sol.jpg", (Dependent("message", "3", Effect.kept),), archive=True)
    view = delete_view(PT, impact, "m-1")
    assert (view.title, view.confirm_label, view.archive) == ("Arquivar “por-do-sol.jpg”?", "Arquivar", True)
    assert view.lines == ["3 mensagens mostram o arquivo: ele é arquivado, continua nelas e nunca mais é enviado."]
    one = delete_view(EN, Impact("a.ogg", (Dependent("message", "1", Effect.kept),), archive=True), "m-2")
    assert one.lines == ["1 message shows it: the file is archived, stays in that message and is never sent again."]


def test_an_unused_file_is_deleted_for_good():
    view = delete_view(EN, Impact("kkk.webp"), "m-3")
    assert (view.title, view.confirm_label, view.archive) == ("Delete “kkk.webp”?", "Delete", False)
    assert view.lines == ["No message shows it: it is deleted for good."]


def test_sizes():
    assert [_size(n) for n in (10, 31_000, 2_500_000)] == ["1 KB", "30 KB", "2.4 MB"]

"""Deactivating a user, revoking an invitation or an API key asks first and says what stops working, in both
languages."""

from __future__ import annotations

import pytest

from mirage_app.base.impact import Dependent, Impact
from mirage_app.i18n import catalog
from mirage_app.states.confirming import confirm_view
from mirage_app.states.settings import ENDINGS

PT, EN = catalog("pt-BR"), catalog("en")


def _view(tr, kind: str, name: str):
    ending = ENDINGS[kind]
    impact = Impact(name, (Dependent(ending.ends, name, ending.effect),))
    return confirm_view(tr, impact, f"{kind}:1", verb=ending.verb)


def test_deactivating_a_user_says_their_sessions_end():
    view = _view(PT, "user", "ana@empresa.com")
    assert (view.title, view.confirm_label) == ("Desativar “ana@empresa.com”?", "Desativar")
    assert view.lines == ["As sessões abertas de ana@empresa.com terminam, e essa pessoa não consegue mais entrar."]
    assert view.target_id == "user:1" and view.open and not view.blocked


def test_revoking_a_key_says_scripts_stop():
    view = _view(EN, "key", "CRM")
    assert (view.title, view.confirm_label) == ("Revoke “CRM”?", "Revoke")
    assert view.lines == ["Scripts and integrations using the key “CRM” stop working at once."]


@pytest.mark.parametrize("tr", [PT, EN])
@pytest.mark.parametrize("kind", sorted(ENDINGS))
def test_every_ending_is_worded(tr, kind):
    view = _view(tr, kind, "x")
    assert "{" not in view.title + view.confirm_label + "".join(view.lines)
    assert view.confirm_label == tr[f"confirm.verb.{ENDINGS[kind].verb}"]

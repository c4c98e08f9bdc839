"""Plan limits met on the screens (issue 18): each page's own event handler, against the real database, shows the
limit and the use where the person typed, and stores nothing. (The API's 409s are in
tests/services/test_plan_limits.py, the outreach engine's daily limit in tests/engine/test_tenant_plans.py, and the
number dialog in a real browser in tests/browser/test_platform.py.)"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.pages.contacts import ContactForm, ContactsState
from mirage_app.services import api_keys, conversations, platform
from mirage_app.states.auth import AuthState
from mirage_app.states.conversation import ConversationState
from mirage_app.states.settings import SettingsState
from tests.security.test_state_setters import _handler, _state, _toast_text


@pytest.fixture
def screen(monkeypatch, admin_actor):
    """A page's state as the tenant's admin drives it (how the browser's session resolves is not this test's
    subject; every service call is real)."""
    monkeypatch.setattr(AuthState, "_actor", lambda self: admin_actor)
    return _state


def _limit(tenant, **limits) -> None:
    platform.set_overrides(platform.CLI_OPERATOR, tenant, limits)


def _count(tenant, sql: str) -> int:
    with tenant_session(tenant) as s:
        return s.execute(text(sql)).scalar()


def test_a_new_contact_past_the_limit_says_so_in_the_form(screen, admin_actor):
    tenant = admin_actor.tenant_id
    _limit(tenant, contacts=0)
    state = screen(ContactsState)
    state.form = ContactForm(wa_number="+5511933330001", display_name="Ana")
    _handler(ContactsState, "save")(state)
    assert state.form_error == "Limite de contatos do seu plano: 0. Cadastrados: 0."
    assert _count(tenant, "SELECT count(*) FROM contacts") == 0


def test_switching_on_a_conversation_past_the_limit_toasts_it_and_stays_off(screen, admin_actor):
    tenant = admin_actor.tenant_id
    paused = conversations.create_conversation(admin_actor, "Pausada")
    _limit(tenant, active_conversations=0)
    state = screen(ConversationState)
    state.conversation_id = str(paused.id)
    feedback = _handler(ConversationState, "toggle_active")(state, True)
    assert "Limite de conversas ativas do seu plano: 0. Ativas agora: 0." in _toast_text(feedback)
    assert not state.active
    assert _count(tenant, "SELECT count(*) FROM conversations WHERE active") == 0


def test_an_invitation_past_the_user_limit_says_so_under_the_address(screen, admin_actor):
    tenant = admin_actor.tenant_id
    _limit(tenant, users=0)
    state = screen(SettingsState)
    _handler(SettingsState, "invite")(state, {"email": f"nova-{uuid.uuid4().hex[:6]}@example.com", "role": "viewer"})
    assert state.invite_error == "Limite de usuários do seu plano (convites incluídos): 0. Ocupados: 0."
    assert state.invite_link == ""
    assert _count(tenant, "SELECT count(*) FROM invitations") == 0


def test_a_key_past_the_limit_says_so_under_its_name(screen, admin_actor):
    tenant = admin_actor.tenant_id
    api_keys.create_key(admin_actor, "primeira")
    _limit(tenant, api_keys=1)
    state = screen(SettingsState)
    _handler(SettingsState, "create_key")(state, {"name": "segunda"})
    assert state.key_error == "Limite de chaves de API do seu plano: 1. Em uso: 1."
    assert state.new_key == ""
    assert [key.name for key in api_keys.list_keys(admin_actor)] == ["primeira"]

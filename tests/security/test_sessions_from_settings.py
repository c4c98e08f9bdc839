"""The sessions card of Settings → Security and the admin's "end sessions" on the users card, driven through the
settings state's own event handlers against the real database (issue 14, finding 9): the list marks this session,
each ending asks first and names what ends, and the service decides (a session the person does not own, their
current one, or an admin's action without the right, changes nothing)."""

from __future__ import annotations

import pytest

from mirage_app.i18n import formats
from mirage_app.models import UserRole
from mirage_app.services import auth
from mirage_app.states.auth import AuthState
from mirage_app.states.settings import SettingsState
from tests.security.test_state_setters import _handler, _state, _toast_text

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


def _sign_in(user, clock, ip, agent=None):
    token = auth.login(user.email, user.password, ip=ip, user_agent=agent, clock=clock).session_token
    return token, auth.resolve_session(token, clock=clock)


@pytest.fixture
def acting_as(monkeypatch):
    """The settings state as the given actor would drive it (how the browser's session resolves is not this test's
    subject; every service call below is real)."""

    def _as(actor):
        monkeypatch.setattr(AuthState, "_actor", lambda self: actor)
        state = _state(SettingsState)
        assert _handler(SettingsState, "on_load")(state) is None  # loaded without an error toast
        return state

    return _as


def _event(state, name, *args):
    return _handler(SettingsState, name)(state, *args)


def test_the_list_marks_this_session_and_names_each_browser(tenant_a, make_user, clock, new_ip, acting_as):
    user = make_user(tenant_a, UserRole.viewer)
    laptop_ip = new_ip()
    _, laptop = _sign_in(user, clock, laptop_ip, FIREFOX)
    _sign_in(user, clock, new_ip())  # a client that sent no User-Agent
    _, phone = _sign_in(user, clock, new_ip(), IPHONE)
    state = acting_as(phone)
    rows = {row.id: row for row in state.session_rows}
    assert len(rows) == 3 and [row.current for row in state.session_rows].count(True) == 1
    assert rows[str(phone.session_id)].current and rows[str(phone.session_id)].browser == "Safari · iOS"
    mine = rows[str(laptop.session_id)]
    assert (mine.browser, mine.ip, mine.label) == ("Firefox · Linux", laptop_ip, f"Firefox · Linux ({laptop_ip})")
    assert mine.started == formats.stamp(clock.now(), state.tenant_tz, "pt-BR")  # the tenant's zone, pt-BR default
    assert "Navegador desconhecido" in {row.browser for row in state.session_rows}


def test_ending_another_session_asks_first_then_ends_only_it(tenant_a, make_user, clock, new_ip, acting_as):
    user = make_user(tenant_a, UserRole.operator)
    laptop_ip = new_ip()
    laptop_token, laptop = _sign_in(user, clock, laptop_ip, FIREFOX)
    phone_token, phone = _sign_in(user, clock, new_ip(), IPHONE)
    state = acting_as(phone)

    assert _event(state, "ask_delete", f"session:{laptop.session_id}") is None
    assert state.confirm.open and state.confirm.title == f"Encerrar a sessão “Firefox · Linux ({laptop_ip})”?"
    assert state.confirm.lines == [
        f"Esse navegador, Firefox · Linux ({laptop_ip}), sai da conta e volta para a tela de entrada."
    ]
    _event(state, "cancel_delete")
    assert auth.resolve_session(laptop_token, clock=clock) is not None  # cancelling ends nothing

    _event(state, "ask_delete", f"session:{laptop.session_id}")
    assert "Sessão encerrada." in _toast_text(_event(state, "delete"))
    assert not state.confirm.open
    assert auth.resolve_session(laptop_token, clock=clock) is None
    assert [row.id for row in state.session_rows] == [str(phone.session_id)]  # the card reloaded

    # This session ends by signing out, not from the list (a crafted event is refused by the service).
    _event(state, "ask_delete", f"session:{phone.session_id}")
    assert "Sessão encerrada." not in _toast_text(_event(state, "delete"))
    assert auth.resolve_session(phone_token, clock=clock) is not None


def test_nobody_ends_a_colleagues_session_from_their_card(tenant_a, make_user, clock, new_ip, acting_as):
    user, colleague = make_user(tenant_a, UserRole.admin, mfa_on=True), make_user(tenant_a, UserRole.operator)
    colleague_token, theirs = _sign_in(colleague, clock, new_ip(), FIREFOX)
    state = acting_as(user.actor())
    _event(state, "ask_delete", f"session:{theirs.session_id}")  # not in the person's list: nothing is named
    answer = _event(state, "delete")
    assert "Sessão encerrada." not in _toast_text(answer) and "não encontrad" in _toast_text(answer).lower()
    assert auth.resolve_session(colleague_token, clock=clock) is not None


def test_sign_out_everywhere_else_says_how_many_and_keeps_this_one(tenant_a, make_user, clock, new_ip, acting_as):
    user = make_user(tenant_a, UserRole.viewer)
    others = [_sign_in(user, clock, new_ip(), FIREFOX)[0] for _ in range(2)]
    current_token, current = _sign_in(user, clock, new_ip(), IPHONE)
    state = acting_as(current)

    _event(state, "ask_delete", "other_sessions:")
    assert (state.confirm.title, state.confirm.confirm_label) == (
        "Sair de todas as outras sessões?",
        "Encerrar as outras",
    )
    assert state.confirm.lines[0].startswith("Sessões que terminam: 2.")
    assert "Você saiu de todas as outras sessões." in _toast_text(_event(state, "delete"))
    assert all(auth.resolve_session(token, clock=clock) is None for token in others)
    assert auth.resolve_session(current_token, clock=clock) is not None
    assert [row.current for row in state.session_rows] == [True]  # the card now shows only this session


def test_an_admin_ends_every_session_of_a_user(tenant_a, make_user, clock, new_ip, acting_as):
    admin, operator = make_user(tenant_a, UserRole.admin, mfa_on=True), make_user(tenant_a, UserRole.operator)
    tokens = [_sign_in(operator, clock, new_ip(), FIREFOX)[0] for _ in range(2)]
    state = acting_as(admin.actor())

    _event(state, "ask_delete", f"sessions_of:{operator.id}")
    assert state.confirm.title == f"Encerrar as sessões de “{operator.email}”?"
    assert state.confirm.lines == [f"{operator.email} sai da conta em todos os aparelhos e pode entrar de novo."]
    assert "As sessões dessa pessoa foram encerradas." in _toast_text(_event(state, "delete"))
    assert all(auth.resolve_session(token, clock=clock) is None for token in tokens)
    assert operator.email in {row.email for row in state.user_rows}  # signed out, not deactivated


@pytest.mark.parametrize("role", [UserRole.operator, UserRole.viewer])
def test_only_an_admin_ends_someone_elses_sessions(tenant_a, make_user, clock, new_ip, acting_as, role):
    someone, target = make_user(tenant_a, role), make_user(tenant_a, UserRole.admin)
    token, _ = _sign_in(target, clock, new_ip(), FIREFOX)
    _, mine = _sign_in(someone, clock, new_ip(), IPHONE)
    state = acting_as(mine)
    _event(state, "ask_delete", f"sessions_of:{target.id}")  # sent straight over the websocket
    assert "As sessões dessa pessoa foram encerradas." not in _toast_text(_event(state, "delete"))
    assert auth.resolve_session(token, clock=clock) is not None

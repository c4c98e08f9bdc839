"""Event handlers that set a state var by name accept only the names and values they expect (issue 14, finding
5): a client on the websocket choosing `user_role`, `session_token` or `router`, or `period="abc"`, changes
nothing and gets a generic error toast."""

from __future__ import annotations

import uuid

import pytest

from mirage_app.logic.event_args import accepted, one_of, text_up_to, uuid_or_empty
from mirage_app.pages.conversation_participants import PAIR_SIDES, ParticipantsState
from mirage_app.pages.metrics import FILTERS as METRICS_FILTERS
from mirage_app.pages.metrics import MetricsState
from mirage_app.pages.outreach_targets import FILTERS as TARGET_FILTERS
from mirage_app.pages.outreach_targets import TargetsState
from mirage_app.states.settings import TABS, SettingsState

AN_ID = str(uuid.uuid4())
FORBIDDEN_NAMES = ["user_role", "session_token", "router", "permissions", "__class__", "period ", ""]


def _state(cls):
    """A state instance as the backend holds one (its root and parents created with it)."""
    root = cls.get_root_state()(_reflex_internal_init=True)
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _handler(cls, name):
    return cls.event_handlers[name].fn


def _toast_text(spec) -> str:
    return str(spec.args)


# -- the pure checks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORBIDDEN_NAMES)
def test_unknown_names_are_refused(name):
    assert accepted(METRICS_FILTERS, name, "admin") is None
    assert accepted(TARGET_FILTERS, name, "admin") is None
    assert accepted(PAIR_SIDES, name, AN_ID) is None


@pytest.mark.parametrize(
    ("fields", "name", "value", "expected"),
    [
        (METRICS_FILTERS, "period", "7", ("period", "7")),
        (METRICS_FILTERS, "period", ["30"], ("period", "30")),  # a select's one-item list
        (METRICS_FILTERS, "period", "abc", None),
        (METRICS_FILTERS, "period", "365", None),
        (METRICS_FILTERS, "number_id", AN_ID, ("number_id", AN_ID)),
        (METRICS_FILTERS, "number_id", "", ("number_id", "")),
        (METRICS_FILTERS, "number_id", "1; DROP TABLE numbers", None),
        (METRICS_FILTERS, "conversation_id", AN_ID.replace("-", ""), None),  # only the canonical form
        (METRICS_FILTERS, "conversation_id", 42, None),
        (METRICS_FILTERS, "conversation_id", [AN_ID, AN_ID], None),
        (TARGET_FILTERS, "status", "paused", ("status", "paused")),
        (TARGET_FILTERS, "status", "", ("status", "")),
        (TARGET_FILTERS, "status", "admin", None),
        (TARGET_FILTERS, "policy_id", "not-an-id", None),
        (TARGET_FILTERS, "search", "Ana 11 9", ("search", "Ana 11 9")),
        (TARGET_FILTERS, "search", "a\x00b", None),
        (TARGET_FILTERS, "search", "x" * 101, None),
        (PAIR_SIDES, "pair_b", AN_ID, ("pair_b", AN_ID)),
        (PAIR_SIDES, "pair_c", AN_ID, None),
    ],
)
def test_values_are_checked_by_kind(fields, name, value, expected):
    assert accepted(fields, name, value) == expected


def test_the_checks():
    assert uuid_or_empty("") and uuid_or_empty(AN_ID) and not uuid_or_empty("{" + AN_ID + "}")
    assert one_of("a", "b")("a") and not one_of("a", "b")("c")
    assert text_up_to(3)("abc") and not text_up_to(3)("abcd") and not text_up_to(3)("\ud800")


# -- the handlers themselves ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "handler"), [(MetricsState, "set_filter"), (TargetsState, "set_filter")])
@pytest.mark.parametrize(
    ("name", "value"), [("user_role", "admin"), ("session_token", "stolen"), ("router", "x"), ("period", "abc")]
)
def test_the_filter_handlers_refuse_other_vars(cls, handler, name, value):
    state = _state(cls)
    watched = ("user_role", "session_token", "permissions", "period", "router")  # finding 1 may remove session_token
    before = {var: getattr(state, var, None) for var in watched}
    answer = _handler(cls, handler)(state, name, value)
    assert "Algo deu errado." in _toast_text(answer)  # the generic message in the page's language (pt-BR default)
    assert {var: getattr(state, var, None) for var in watched} == before


@pytest.mark.parametrize("side", ["role", "_a", "a.b", 1])
def test_the_pair_picker_refuses_other_vars(side):
    state = _state(ParticipantsState)
    answer = _handler(ParticipantsState, "set_pair")(state, side, AN_ID)
    assert "Algo deu errado." in _toast_text(answer)
    assert (state.pair_a, state.pair_b) == ("", "")


def test_the_pair_picker_takes_a_number_id():
    state = _state(ParticipantsState)
    assert _handler(ParticipantsState, "set_pair")(state, "a", AN_ID) is None
    assert state.pair_a == AN_ID


def test_the_settings_tab_is_one_the_page_has():
    state = _state(SettingsState)
    _handler(SettingsState, "set_tab")(state, "users")
    _handler(SettingsState, "set_tab")(state, "user_role")
    assert state.tab == "users" and set(TABS) >= {"security", "users"}

"""The conversation screens say where an error is and what a delete does, in words, in both languages."""

from __future__ import annotations

import pytest

from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.components.conversation import impact_view
from mirage_app.i18n import catalog
from mirage_app.logic.form_fields import NotANumber
from mirage_app.pages.conversation_schedule import ScheduleDay, cell_name
from mirage_app.pages.conversation_topics import period_bound

PT, EN = catalog("pt-BR"), catalog("en")


def test_a_schedule_field_reads_as_day_and_cell():
    assert cell_name("sat.evening_end", PT) == "Sábado · Noite (fim)"
    assert cell_name("sun.pause_min", PT) == "Domingo · pausa mínima"
    assert cell_name("mon.max_rounds_per_window", EN) == "Monday · rounds per window"
    assert cell_name("tue.morning_start", EN) == "Tuesday · Morning (start)"
    assert cell_name("wed", EN) == "Wednesday"
    assert cell_name("", PT) == cell_name("name", PT) == ""  # not a cell of the grid: no prefix


def test_a_number_cell_that_is_not_a_number_is_named():
    times = {f"{p}_{k}": v for p in ("morning", "afternoon", "evening") for k, v in
             (("enabled", True), ("start", "08:00"), ("end", "09:00"))}  # fmt: skip
    day = ScheduleDay(day="fri", label="Sexta", **times, max_rounds_per_window="2", pause_min="x", pause_max="5")
    with pytest.raises(NotANumber) as err:
        day.as_payload()
    assert err.value.field == "fri.pause_min"


def test_the_delete_dialog_says_what_goes_and_what_stays():
    kept = Impact("Vendas", (Dependent("round", "1", Effect.kept), Dependent("message", "38", Effect.kept)), True)
    view = impact_view(PT, kept, "id-1")
    assert view.lines[1:] == ["1 rodada fica no histórico.", "38 mensagens continuam no histórico dos números."]
    assert view.lines[0].startswith("Ela tem histórico, então é arquivada")
    assert (view.title, view.confirm_label, view.blocked) == ("Arquivar “Vendas”?", "Arquivar", False)

    paused = impact_view(EN, Impact("Ana", (Dependent("conversation", "Sales", Effect.deactivated),)), "p", "remove")
    assert paused.title == "Remove “Ana”?" and paused.lines == [
        "“Sales” will be paused: without this participant it can no longer run."
    ]
    removal = impact_view(EN, Impact("Ana", ()), "p-1", verb="remove")
    assert (removal.title, removal.lines) == ("Remove “Ana”?", ["Nothing else depends on it."])


def test_a_topic_period_is_whole_days_in_the_tenant_zone():
    start = period_bound("2026-11-29", "America/Sao_Paulo")
    end = period_bound("2026-11-30", "America/Sao_Paulo", 1)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-29T00:00:00-03:00", "2026-12-01T00:00:00-03:00")
    assert period_bound("", "America/Sao_Paulo") is None

"""Issue 13 on the conversation screens, in a real browser: deletes ask first and a conversation with history is
archived (it stops, leaves the list, its rounds and messages stay); viewers get read-only settings and schedule; a
schedule error names the day and marks the input; the live feed reads in the tenant's zone; screenshots at 1440 and
390 px in both languages (tests/browser/screenshots/conversations/, git-ignored).

The data is written by this module's `seed` in its own process against the app's database (`python -m
tests.browser.test_conversations_page <admin email>`), the way `seed_states` does.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import run_beside_app, screenshot, set_language_cookie, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ZONE = "America/Sao_Paulo"
VIEWER_EMAIL = "vera.conversas@mirage.local"
VIEWER_PASSWORD = "Viewer-Conversas-2026!"


# -- seed (runs in its own process with the app's runtime environment) --------------------------------------------


def seed(admin_email: str) -> dict:
    from sqlalchemy import text

    from mirage_app.core.db import tenant_session
    from mirage_app.models import NumberStatus, UserRole
    from mirage_app.services import conversations, users
    from tests.browser.seed_states import admin_actor
    from tests.conftest import make_number

    actor = admin_actor(admin_email)
    with tenant_session(actor.tenant_id) as s:
        s.execute(text("UPDATE tenants SET timezone = :z"), {"z": ZONE})
        s.commit()
    numbers = {label: make_number(actor.tenant_id, label, status)
               for label, status in (("Ana", NumberStatus.connected), ("Beto", NumberStatus.connected),
                                     ("Caio", NumberStatus.disconnected))}  # fmt: skip
    busy = conversations.create_conversation(actor, "Com histórico", "round_robin")
    for label in ("Ana", "Beto"):
        conversations.add_participant(actor, busy.id, number_id=numbers[label])
    conversations.create_topic(actor, busy.id, "o jogo de ontem")
    conversations.create_topic(actor, busy.id, "a chuva")
    sent_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    with tenant_session(actor.tenant_id) as s:
        round_id = s.execute(
            text("INSERT INTO rounds (tenant_id, conversation_id, planned_turns, turns_done, state, window_key, "
                 "participants, started_at) VALUES (:t, :c, 2, 2, 'done', 'w', :p, :at) RETURNING id"),
            {"t": actor.tenant_id, "c": busy.id, "at": sent_at,
             "p": json.dumps([{"label": "Ana"}, {"label": "Beto"}])},
        ).scalar()  # fmt: skip
        for i, (a, b, body, phase) in enumerate(
            (("Ana", "Beto", "Bom dia! Viu o jogo?", "greeting"), ("Beto", "Ana", "Vi sim, que golaço", "answer"))
        ):
            s.execute(
                text("INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, "
                     "body, status, meta, created_at) VALUES (:t, :c, :r, :a, :b, :body, 'read', :meta, :at)"),
                {"t": actor.tenant_id, "c": busy.id, "r": round_id, "a": numbers[a], "b": numbers[b], "body": body,
                 "meta": json.dumps({"phase": phase}), "at": sent_at + timedelta(seconds=i)},
            )  # fmt: skip
        # Active without being due: the scheduler leaves it alone, the screens see an active conversation.
        s.execute(text("UPDATE conversations SET active = true, next_due_at = NULL WHERE id = :c"), {"c": busy.id})
        s.commit()
    quiet = conversations.create_conversation(actor, "Sem histórico", "pair")
    invitation = users.invite(actor, VIEWER_EMAIL, UserRole.viewer)
    users.accept_invitation(invitation.token, VIEWER_PASSWORD, "pt-BR", "Vera")
    return {"busy": str(busy.id), "quiet": str(quiet.id), "sent_at": sent_at.isoformat()}


@pytest.fixture(scope="module")
def seeded(running_app, admin_settled) -> dict:
    return run_beside_app(running_app, "-m", "tests.browser.test_conversations_page", admin_settled.email)


# -- helpers ---------------------------------------------------------------------------------------------------------


def _row(page: Page, name: str):
    return page.locator("#conversations-table tbody tr", has_text=name)


# -- tests -----------------------------------------------------------------------------------------------------------


def test_live_feed_topics_and_participants_in_the_tenant_zone(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    sent_at = datetime.fromisoformat(seeded["sent_at"])
    local, utc = sent_at.astimezone(ZoneInfo(ZONE)).strftime("%H:%M:%S"), sent_at.strftime("%H:%M:%S")
    base = f"{url}/conversations/{seeded['busy']}"
    page.goto(base + "/topics")
    feed = page.locator("#live-feed")
    expect(feed).to_contain_text(local, timeout=30_000)
    assert utc not in feed.inner_text()
    expect(feed).to_contain_text("saudação")  # the phase in words
    expect(feed).to_contain_text("Lida")  # the status in words
    expect(page.locator("#zone-label")).to_contain_text(ZONE)  # the header says it once for every time shown
    expect(page.locator("#live-rounds")).to_contain_text("Concluída")
    # An active conversation talks about one topic at a time.
    expect(page.locator("#topics")).to_contain_text("ativo agora")
    expect(page.locator("#topics").get_by_text("ativo agora")).to_have_count(1)
    screenshot(page, "conversations", "topics-pt")

    # A disconnected number may join, with a warning in the picker and after adding it. On the inactive
    # conversation: a change to an active one's participants makes it due, and the engine would then run a round
    # that the archive test's counts ("1 rodada") do not expect.
    page.goto(f"{url}/conversations/{seeded['quiet']}/participants")
    picker = page.locator("#participant-number")
    expect(picker.locator("option", has_text="Caio")).to_contain_text("só fala quando conectar")
    picker.select_option(label="Caio (Desconectado) — só fala quando conectar")
    page.locator("#participant-add").click()
    expect(page.get_by_text(re.compile("Caio está desconectado"))).to_be_visible(timeout=30_000)
    expect(page.locator("#participants")).to_contain_text("Caio")
    # Removing asks first.
    page.locator(".participant-row", has_text="Caio").locator(".participant-remove").click()
    expect(page.locator("#participant-dialog")).to_contain_text("Remover “Caio”?")
    page.locator("#participant-confirm").click()
    expect(page.locator("#participants")).not_to_contain_text("Caio", timeout=30_000)
    screenshot(page, "conversations", "participants-pt")


def test_schedule_errors_name_the_day_and_mark_the_input(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    page.goto(f"{url}/conversations/{seeded['quiet']}/schedule")
    expect(page.locator("#schedule-zone")).to_contain_text(ZONE)
    expect(page.locator("#schedule-window")).to_be_visible()
    saturday = page.locator("#schedule-grid tbody tr", has_text="Sábado")
    if saturday.locator("button[role=checkbox]").nth(2).get_attribute("data-state") != "checked":
        saturday.locator("button[role=checkbox]").nth(2).click()
    saturday.locator(".schedule-evening_start input").fill("22:00")
    saturday.locator(".schedule-evening_end input").fill("19:00")
    page.locator("#schedule-save").click()
    error = page.locator("#schedule-error")
    expect(error).to_contain_text("Sábado · Noite (fim)", timeout=30_000)
    expect(error).to_contain_text("A janela precisa terminar depois de começar")
    expect(saturday.locator(".schedule-evening_end input")).to_have_attribute("aria-invalid", "true")
    expect(saturday.locator(".schedule-evening_start input")).to_have_attribute("aria-invalid", "false")
    screenshot(page, "conversations", "schedule-error-pt")

    saturday.locator(".schedule-evening_end input").fill("23:00")
    sunday = page.locator("#schedule-grid tbody tr", has_text="Domingo")
    sunday.locator(".schedule-pause_min input").fill("0")
    sunday.locator(".schedule-pause_max input").fill("0")
    page.locator("#schedule-save").click()
    expect(error).to_contain_text("Domingo · pausa mínima", timeout=30_000)
    expect(sunday.locator(".schedule-pause_min input")).to_have_attribute("aria-invalid", "true")


def test_viewers_read_settings_and_schedule_without_editing(running_app, page: Page, seeded):
    url = running_app.url
    sign_in(page, running_app, VIEWER_EMAIL, VIEWER_PASSWORD)
    base = f"{url}/conversations/{seeded['quiet']}"
    page.goto(base + "/settings")
    expect(page.locator("#readonly-notice")).to_be_visible(timeout=30_000)
    for field in ("#setting-min_delay_s", "#setting-openai_model", "#setting-temperature"):
        expect(page.locator(field)).to_be_disabled()
    expect(page.locator("#settings-save")).to_have_count(0)
    expect(page.locator("#conversation-active")).to_be_disabled()

    page.goto(base + "/schedule")
    expect(page.locator("#schedule-grid")).to_be_visible(timeout=30_000)
    expect(page.locator("#schedule-save")).to_have_count(0)
    expect(page.locator("#schedule-grid input").first).to_be_disabled()
    expect(page.locator("#schedule-grid button[role=checkbox]").first).to_be_disabled()

    page.goto(base + "/topics")
    expect(page.locator("#topic-add")).to_have_count(0)
    expect(page.locator("#topic-rotation-save")).to_have_count(0)
    page.goto(url + "/conversations")
    expect(page.locator("#conversation-new")).to_have_count(0)
    expect(page.locator(".conversation-delete")).to_have_count(0)


def test_screenshots_in_both_languages(running_app, admin_page: Page, seeded):
    """Before the delete test removes the conversation with history (tests run in file order)."""
    page, url = admin_page, running_app.url
    for code in ("pt-BR", "en"):
        set_language_cookie(page, url, code)
        page.goto(url + "/conversations")
        expect(page.locator("#conversations-table")).to_be_visible(timeout=30_000)
        screenshot(page, "conversations", f"list-{code}")
        page.locator("#conversation-new").click()
        expect(page.locator("#conversation-cancel")).to_be_visible()
        screenshot(page, "conversations", f"new-dialog-{code}")
        page.locator("#conversation-cancel").click()
        expect(page.locator("#conversation-cancel")).to_have_count(0)
        for tab in ("settings", "schedule", "participants", "topics"):
            page.goto(f"{url}/conversations/{seeded['busy']}/{tab}")
            expect(page.locator("#conversation-name")).to_contain_text("Com histórico", timeout=30_000)
            screenshot(page, "conversations", f"{tab}-{code}")
    set_language_cookie(page, url, "pt-BR")


def test_deletes_ask_first_and_a_conversation_with_history_is_archived(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    page.goto(url + "/conversations")
    busy = _row(page, "Com histórico")
    expect(busy).to_contain_text("Rodízio")  # the mode in words, not "round_robin"

    # No history: cancel leaves it, confirm deletes it.
    _row(page, "Sem histórico").locator(".conversation-delete").click()
    expect(page.locator("#conversation-dialog")).to_contain_text("Excluir “Sem histórico”?")
    expect(page.locator("#conversation-impact")).to_contain_text("Nada mais depende disto")
    page.get_by_role("button", name="Cancelar").click()
    expect(page.locator("#conversation-dialog")).to_have_count(0)
    expect(_row(page, "Sem histórico")).to_have_count(1)
    _row(page, "Sem histórico").locator(".conversation-delete").click()
    page.locator("#conversation-confirm").click()
    expect(page.get_by_text("Conversa excluída.")).to_be_visible(timeout=30_000)
    expect(_row(page, "Sem histórico")).to_have_count(0)

    # Active with history: archived, not erased; the dialog says it stops and what stays.
    expect(busy.locator("button[role=switch]")).to_have_attribute("data-state", "checked")
    busy.locator(".conversation-delete").click()
    expect(page.locator("#conversation-dialog")).to_contain_text("Arquivar “Com histórico”?")
    impact = page.locator("#conversation-impact")
    expect(impact).to_contain_text("para de rodar")
    expect(impact).to_contain_text("1 rodada fica no histórico")
    expect(impact).to_contain_text("2 mensagens continuam no histórico dos números")
    screenshot(page, "conversations", "archive-dialog-pt")
    expect(page.locator("#conversation-confirm")).to_have_text("Arquivar")
    page.locator("#conversation-confirm").click()
    expect(page.get_by_text("Conversa arquivada: as rodadas e mensagens continuam.")).to_be_visible(timeout=30_000)
    expect(_row(page, "Com histórico")).to_have_count(0)

    # The archived conversation is one switch away, inactive, with its history.
    page.locator("#conversations-show-archived").click()
    archived = _row(page, "Com histórico")
    expect(archived).to_contain_text("Arquivada", timeout=30_000)
    expect(archived.locator(".conversation-delete")).to_have_count(0)
    screenshot(page, "conversations", "archived-list-pt")
    page.goto(f"{url}/conversations/{seeded['busy']}/settings")
    expect(page.locator("#conversation-active")).to_be_disabled(timeout=30_000)
    expect(page.locator("#live-feed")).to_contain_text("Vi sim, que golaço")


if __name__ == "__main__":
    print(json.dumps(seed(sys.argv[1])))

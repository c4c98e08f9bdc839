"""Issue 15 in demo mode, live: the demo's numbers talk in every kind (a playable voice note, a picture, a sticker, a
reaction on its message, a quoted reply) as the engine sends them, and its warming group of three numbers talks.

Setup goes straight to the running app's database (personas that act a lot, windows open all day, no pause between
rounds) except the group, which is made on the screens; what is asserted is what the page shows while the engine
runs."""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import app_db, daytime_zone, engine_friendly_tenant, screenshot, set_language_cookie

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KINDS = {
    "voice note": "#live-feed audio",
    "picture": "#live-feed img.msg-thumb",
    "sticker": "#live-feed img.msg-sticker",
    "reaction": "#live-feed .reaction-badge",
    "quoted reply": "#live-feed .quote-box",
}
EAGER = {
    "Ana Souza": '{"stickers": 0.7, "pictures": 0.4, "reactions": 1, "quotes": 1, "group_talk": 0.9}',
    "Bruno Lima": '{"voice_notes": 0.8, "reactions": 1, "quotes": 1, "group_talk": 0.9}',
    "Carla Mendes": '{"pictures": 0.4, "stickers": 0.7, "voice_notes": 0.1, "reactions": 1, "quotes": 1}',
}  # fmt: skip
LIVE_S = 420
SCHEDULE_SQL = (
    "UPDATE conversation_schedule SET morning_enabled = true, morning_start = CAST(:m1 AS time), "
    "morning_end = CAST(:m2 AS time), afternoon_enabled = true, afternoon_start = CAST(:a1 AS time), "
    "afternoon_end = CAST(:a2 AS time), evening_enabled = true, evening_start = CAST(:e1 AS time), "
    "evening_end = CAST(:e2 AS time), max_rounds_per_window = 50, pause_between_rounds_min = 0, "
    "pause_between_rounds_max = 0 WHERE conversation_id = ANY(CAST(:ids AS uuid[]))"
)


def _windows(hour: int) -> tuple[str, ...]:
    """Morning, afternoon and evening covering the day, no edge within the next hour (the tick starts no round in a
    window's last minutes)."""
    if hour == 0:
        return ("00:00", "02:00", "02:00", "03:00", "03:00", "23:59")
    edge = f"{min(hour + 2, 23):02d}:00" if hour < 22 else "02:00"
    return ("00:00", "01:00", "01:00", edge, edge, "23:59")


def _group_of_three(page: Page, url: str) -> str:
    """A new conversation in "warming group" mode with three connected numbers, made on the conversations screens;
    its id. (Earlier tests of the run may have logged a demo number out, so any three connected numbers.)"""
    page.goto(url + "/conversations")
    page.locator("#conversation-new").click()
    page.locator("#conversation-name-input").fill("Turma do bairro")
    page.locator("#conversation-mode").click()
    page.get_by_role("option", name="Grupo de aquecimento").click()
    page.locator("#conversation-create").click()
    expect(page).to_have_url(re.compile(r"/participants$"), timeout=30_000)
    for _ in range(3):
        options = page.locator("#participant-number option", has_text="(Conectado)")
        expect(options.first).to_be_attached(timeout=30_000)
        label = options.first.inner_text()
        page.locator("#participant-number").select_option(label=label)
        page.locator("#participant-add").click()
        expect(page.locator("#participants")).to_contain_text(label.rsplit(" (", 1)[0])
    group_id = page.url.rstrip("/").split("/")[-2]
    page.goto(f"{url}/conversations/{group_id}/settings")
    expect(page.locator("#conversation-group")).to_contain_text("(3 ", timeout=30_000)
    return group_id


def test_the_demo_talks_in_every_kind_live(running_app, admin_mfa, demo_loaded, admin_page: Page, console_errors):
    page, app = admin_page, running_app
    zone = daytime_zone()
    engine_friendly_tenant(
        page, app, zone, settle_hours_after_pairing="0", min_delay_s="0", max_delay_s="1", hourly_burst_limit="1000"
    )
    for name, habits in EAGER.items():
        app_db(app, "UPDATE personas SET habits = CAST(:h AS jsonb) WHERE name = :n", h=habits, n=name)
    app_db(app, "UPDATE numbers SET active_days = 30 WHERE label LIKE 'Demo %'")  # mature: every action allowed
    rows = app_db(app, "SELECT id, name FROM conversations WHERE name IN ('Maturação diária', 'Turma do café')")
    ids = {name: str(cid) for cid, name in rows}
    assert set(ids) == {"Maturação diária", "Turma do café"}
    m1, m2, a1, a2, e1, e2 = _windows(datetime.now(ZoneInfo(zone)).hour)
    app_db(app, SCHEDULE_SQL, m1=m1, m2=m2, a1=a1, a2=a2, e1=e1, e2=e2, ids=list(ids.values()))
    try:
        app_db(
            app,
            "UPDATE conversations SET active = true, next_due_at = now() WHERE id = ANY(CAST(:ids AS uuid[]))",
            ids=list(ids.values()),
        )
        set_language_cookie(page, app.url, "pt-BR")
        page.goto(f"{app.url}/conversations/{ids['Maturação diária']}/settings")
        expect(page.locator("#live-feed")).to_be_visible(timeout=60_000)
        seen: dict[str, float] = {}
        deadline = time.monotonic() + LIVE_S
        while len(seen) < len(KINDS) and time.monotonic() < deadline:
            for kind, selector in KINDS.items():
                if kind not in seen and page.locator(selector).count() > 0:
                    seen[kind] = time.monotonic()
                    if kind == "voice note":  # playable: the browser reads the note's length from the file
                        duration = page.locator(selector).first.evaluate(
                            "a => new Promise(ok => { if (a.readyState >= 1) ok(a.duration);"
                            " a.addEventListener('loadedmetadata', () => ok(a.duration)); a.load(); })"
                        )
                        assert duration > 0.3, duration
                    if kind in ("picture", "sticker"):  # the file loaded from the backend, under the CSP
                        loaded = page.locator(selector).first.evaluate("i => i.complete && i.naturalWidth")
                        assert loaded, kind
            page.wait_for_timeout(2_000)
        assert set(seen) == set(KINDS), f"never shown live: {sorted(set(KINDS) - set(seen))}"
        screenshot(page, "rich", "demo-live-pt-BR", part=page.locator("#live-feed"))

        # The pair conversation has shown what it had to: its numbers now make a warming group, through the screens.
        app_db(app, "UPDATE conversations SET active = false WHERE id = CAST(:c AS uuid)", c=ids["Maturação diária"])
        group_id = _group_of_three(page, app.url)
        ids["group"] = group_id
        app_db(app, "UPDATE numbers SET active_days = 30 WHERE status = 'connected'")  # mature enough for groups
        app_db(app, SCHEDULE_SQL, m1=m1, m2=m2, a1=a1, a2=a2, e1=e1, e2=e2, ids=[group_id])
        page.locator("#conversation-active").click()  # switched on from the page, as an operator does
        expect(page.locator("#conversation-group")).to_contain_text(re.compile("Grupo no WhatsApp"), timeout=30_000)
        speakers = page.locator("#live-feed .speaker")
        deadline = time.monotonic() + LIVE_S
        names: set[str] = set()
        while len(names) < 3 and time.monotonic() < deadline:
            names |= {text.strip() for text in speakers.all_inner_texts()}  # everyone who spoke, as the feed scrolls
            page.wait_for_timeout(2_000)
        group = app_db(app, "SELECT state::text, group_jid, error FROM warming_groups WHERE conversation_id = :c",
                       c=group_id)  # fmt: skip
        sent = app_db(
            app,
            "SELECT m.status::text, m.error, m.wait_reason, count(*) FROM messages m JOIN warming_groups g "
            "ON g.id = m.group_id WHERE g.conversation_id = :c GROUP BY 1, 2, 3",
            c=group_id,
        )
        assert len(names) == 3, f"the group's speakers: {sorted(names)}; group {group}; its messages {sent}"
        assert group[0][0] == "active" and group[0][1].endswith("@g.us")
        expect(page.locator("#conversation-group")).to_contain_text("(3 ")
        screenshot(page, "rich", "demo-group-pt-BR", part=page.locator("#live-feed"))
    finally:  # the rest of the suite reads the demo as it was loaded: stop the rounds, the tenant's zone back
        app_db(app, "UPDATE conversations SET active = false, next_due_at = NULL WHERE id = ANY(CAST(:ids AS uuid[]))",
               ids=list(ids.values()))  # fmt: skip
        app_db(app, "UPDATE tenants SET timezone = 'America/Sao_Paulo'")

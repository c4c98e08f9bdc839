"""Issue 5 in a real browser: personas, a 3-number conversation with a schedule and topics, activated in demo
mode; the round's messages appear live on the conversation page."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import daytime_zone, engine_friendly_tenant

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WEEKDAYS_PT = ["Domingo", "Segunda", "Terça", "Quarta", "Quinta", "Sexta", "Sábado"]


def _connect(page: Page, url: str, label: str) -> None:
    page.goto(url + "/instances")
    page.locator("#connect-number").click()
    page.locator("#instance-label").fill(label)
    page.locator("#instance-create").click()
    expect(page.locator("#qr-image")).to_be_visible(timeout=30_000)
    page.locator("#simulate-scan").click()
    expect(page.locator("#connect-dialog")).to_be_hidden(timeout=30_000)


def _day_windows(hour: int) -> list[str]:
    """Morning, afternoon and evening (start, end) covering a day, with an edge at least an hour after `hour`
    (only after 22:00 does the day's own end come sooner)."""
    if hour == 0:
        return ["00:00", "02:00", "02:00", "03:00", "03:00", "23:59"]
    edge = f"{min(hour + 2, 23):02d}:00" if hour < 22 else "02:00"
    return ["00:00", "01:00", "01:00", edge, edge, "23:59"]


def test_conversation_runs_live(running_app, admin_mfa, admin_page: Page, admin):
    page, url = admin_page, running_app.url
    # Pacing that a test can watch: midday in the tenant's zone, no quiet hours, no humanised waits.
    zone = daytime_zone()
    engine_friendly_tenant(page, running_app, zone, settle_hours_after_pairing="0", min_delay_s="0", max_delay_s="1")

    for name, greeting in (("Lia", "Bom dia, gente!"), ("Téo", "Opa, bom dia")):
        page.goto(url + "/personas")
        page.locator("#persona-new").click()
        page.locator("#persona-name").fill(name)
        page.locator("#persona-greeting_morning").fill(greeting)
        page.locator("#persona-preview").click()
        expect(page.locator("#preview-text")).not_to_be_empty(timeout=30_000)
        page.locator("#persona-save").click()
        expect(page.locator("#persona-grid")).to_contain_text(name)

    labels = ["Conv A", "Conv B", "Conv C"]
    for label in labels:
        _connect(page, url, label)

    page.goto(url + "/conversations")
    page.locator("#conversation-new").click()
    page.locator("#conversation-name-input").fill("Ao vivo")
    page.locator("#conversation-mode").click()
    page.get_by_role("option", name="Rodízio").click()
    page.locator("#conversation-create").click()
    expect(page).to_have_url(re.compile(r"/participants$"), timeout=30_000)
    for label in labels:
        page.locator("#participant-number").select_option(label=f"{label} (Conectado)")
        page.locator("#participant-add").click()
        expect(page.locator("#participants")).to_contain_text(label)

    # Today's row covers the whole day, and the window open now lasts at least another hour (the tick starts no
    # round in a window's last 15 minutes).
    page.goto(page.url.replace("/participants", "/schedule"))
    now = datetime.now(ZoneInfo(zone))
    row = page.locator("#schedule-grid tbody tr", has_text=WEEKDAYS_PT[(now.weekday() + 1) % 7])
    checks = row.locator("button[role=checkbox]")
    for i in range(3):
        if checks.nth(i).get_attribute("data-state") != "checked":
            checks.nth(i).click()
    times = row.locator("input[type=time]")
    for i, value in enumerate(_day_windows(now.hour)):
        times.nth(i).fill(value)
    page.locator("#schedule-save").click()
    expect(page.get_by_text("Agenda salva.")).to_be_visible(timeout=30_000)  # applied before we move on
    expect(page.locator("#schedule-error")).to_have_count(0)

    page.goto(page.url.replace("/schedule", "/topics"))
    page.locator("#topic-seed").fill("o jogo de ontem")
    page.locator("#topic-add").click()
    expect(page.locator("#topics")).to_contain_text("o jogo de ontem")

    page.locator("#conversation-active").click()
    expect(page.locator("#conversation-active")).to_have_attribute("data-state", "checked")
    # The scheduler ticks every minute; the first turn then goes through the simulator and back by webhook.
    expect(page.locator("#live-feed")).to_be_visible(timeout=150_000)
    expect(page.locator("#live-feed")).to_contain_text("Conv", timeout=30_000)

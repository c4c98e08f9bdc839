"""One definition of each total, in a real browser: after the demo loader (which says what it changed), the overview's
7-day figures equal /metrics' and the sum of the number cards; /metrics writes its days in the page's language; a
queued message in a number's history says why it waits and until when. Screenshots of / and /metrics at 1440 and
390 px in both languages go to tests/browser/screenshots/totals/ (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from mirage_app.i18n import catalog, formats
from tests.browser.conftest import app_db, run_beside_app, screenshot, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CARD_WEEK = re.compile(r"7 dias \(enviadas / recebidas\)\s*(\d+) / (\d+)")


def _number(locator) -> int:
    """The count a figure shows, with or without its noun ("337", "337 recebidas": counts read through
    `formats.count`)."""
    text = locator.inner_text().strip()
    found = re.fullmatch(r"\D*?(\d+)\D*", text)
    assert found, f"no single count in {text!r}"
    return int(found.group(1))


@contextmanager
def _fresh_tab(page: Page) -> Iterator[Page]:
    """A new tab of the same signed-in browser: its page state starts empty (Reflex keeps state per tab), so what it
    shows once filled comes from the page's own load, not from an earlier visit."""
    tab = page.context.new_page()
    try:
        yield tab
    finally:
        tab.close()


def _metrics(page: Page, url: str, today: date) -> tuple[int, int]:
    with _fresh_tab(page) as tab:
        tab.goto(url + "/metrics")
        # The totals and the chart come from one load: today's bar label on the chart means the totals are in.
        expect(tab.locator("#chart-per-day")).to_contain_text(formats.day(today, "pt-BR"), timeout=60_000)
        return _number(tab.locator("#metric-sent")), _number(tab.locator("#metric-received"))


def _overview(page: Page, url: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """(the KPIs' 7-day sent and received, the same summed over the number cards)."""
    with _fresh_tab(page) as tab:
        tab.goto(url + "/")
        # The cards and the KPIs come from one load: in a fresh tab, a card means both are in.
        expect(tab.locator(".instance-card").first).to_be_visible(timeout=30_000)
        kpis = _number(tab.locator("#kpi-week")), _number(tab.locator("#kpi-week-received"))
        cards = [CARD_WEEK.search(card.inner_text()) for card in tab.locator(".instance-card").all()]
    assert all(cards), "every card shows its 7-day sent / received"
    return kpis, (sum(int(m.group(1)) for m in cards), sum(int(m.group(2)) for m in cards))


# The 7-day activity of numbers that have no card (archived or erased by earlier tests of the run), by the service's
# own definition, as one JSON line: the cards' sum plus it is the tenant's total.
WITHOUT_CARD = """
import json, sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo
from mirage_app.core.db import tenant_session
from mirage_app.models import Number, Tenant
from mirage_app.services.metrics import number_activity
from tests.browser.seed_states import admin_actor
actor = admin_actor(sys.argv[1])
with tenant_session(actor.tenant_id) as s:
    tz = ZoneInfo(s.get(Tenant, actor.tenant_id).timezone)
    live = {n.id for n in s.query(Number).filter(Number.archived_at.is_(None))}
    hidden = [a for number_id, a in number_activity(s, tz, datetime.now(UTC)).items() if number_id not in live]
print(json.dumps({"sent": sum(a.sent_week for a in hidden), "received": sum(a.received_week for a in hidden)}))
"""


def _without_card(running_app, email: str) -> tuple[int, int]:
    hidden = run_beside_app(running_app, "-c", WITHOUT_CARD, email)
    return hidden["sent"], hidden["received"]


def test_totals_agree_and_waits_say_why(running_app, admin, demo_loaded, admin_page: Page, console_errors):
    page, url = admin_page, running_app.url
    # `demo_loaded` clicked the button first and checked what it said; a second click is told it is already there.
    page.goto(url + "/metrics")
    expect(page.locator("#load-demo")).to_be_visible(timeout=180_000)  # the embedded default runs in demo mode
    page.locator("#load-demo").click()
    expect(page.get_by_text(catalog("pt-BR")["demo.already_loaded"])).to_be_visible(timeout=60_000)

    # Days in the page's language and the tenant's zone.
    tz = app_db(running_app, "SELECT timezone FROM tenants ORDER BY created_at LIMIT 1")[0].timezone
    today = datetime.now(UTC).astimezone(formats.tz_of(tz)).date()
    expect(page.locator("#chart-per-day")).to_contain_text(formats.day(today, "pt-BR"), timeout=30_000)

    # The demo conversation keeps running: read both pages again until no message landed in between.
    hidden = _without_card(running_app, admin.email)
    for _ in range(6):
        metrics = _metrics(page, url, today)
        kpis, on_cards = _overview(page, url)
        cards = (on_cards[0] + hidden[0], on_cards[1] + hidden[1])
        if metrics == kpis == cards and metrics == _metrics(page, url, today):
            break
    assert metrics == kpis == cards, f"/metrics {metrics}, overview {kpis}, cards {on_cards} + without a card {hidden}"
    assert metrics[0] > 0 and metrics[1] > 0  # warming messages are received by the tenant's other numbers

    # A queued message says why it waits and until when.
    number = app_db(
        running_app,
        "SELECT id, tenant_id, label FROM numbers WHERE label LIKE 'Demo%' AND archived_at IS NULL ORDER BY label",
    )
    sender, receiver = number[0], number[1]
    until = datetime.now(UTC) + timedelta(minutes=40)
    app_db(
        running_app,
        "INSERT INTO messages (tenant_id, from_number_id, to_number_id, direction, body, status, meta, created_at, "
        "send_after, wait_reason) VALUES (:t, :a, :b, 'out', 'Mensagem retida', 'queued', '{}', now(), "
        ":u, 'hourly_cap:10/10')",
        t=sender.tenant_id,
        a=sender.id,
        b=receiver.id,
        u=until,
    )
    page.goto(url + "/instances")
    card = page.locator(".instance-card", has_text=sender.label)
    expect(card).to_be_visible(timeout=30_000)
    card.get_by_role("button", name="Mensagens").click()
    held = page.locator("#message-list .bubble", has_text="Mensagem retida")
    expect(held.locator(".wait-reason")).to_have_text(
        f"Limite por hora usado 10/10 · até {formats.stamp(until, tz, 'pt-BR', now=datetime.now(UTC))}", timeout=30_000
    )
    page.keyboard.press("Escape")

    for code, language, title in (("pt-BR", "Português (Brasil)", "Visão geral"), ("en", "English", "Overview")):
        page.goto(url + "/")
        switch_language(page, language)
        expect(page.locator("#page-title")).to_have_text(title, timeout=30_000)
        screenshot(page, "totals", f"{code}-overview", settle_ms=800)
        page.goto(url + "/metrics")
        expect(page.locator("#chart-per-day")).to_contain_text(formats.day(today, code), timeout=30_000)
        screenshot(page, "totals", f"{code}-metrics", settle_ms=800)
    assert console_errors == []

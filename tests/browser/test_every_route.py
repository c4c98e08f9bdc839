"""Issue 7 in a real browser: with demo data loaded, every route in both languages renders with no console error,
no failed request and no untranslated key; screenshots of /, /metrics and a conversation's topics are kept for a
person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from mirage_app.components.layout import NAV_SECTIONS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RAW_KEY = re.compile(
    r"\b(?:nav|page|instances|settings|metrics|conversations|personas|common|status|tenant|audit|login|invite|"
    r"overview|contacts|outreach|targets|policies|daypart|weekday|role|empty|health|app)\.[a-z_]+\b"
)
SHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored; pytest-playwright wipes test-results/


def _switch_language(page: Page, name: str) -> None:
    page.locator("#language-select").click()
    page.get_by_role("option", name=name).click()


def test_every_route_in_both_languages(running_app, admin_page: Page, console_errors):
    page = admin_page
    page.goto(running_app.url + "/metrics")
    expect(page.locator("#load-demo")).to_be_visible(timeout=30_000)
    page.locator("#load-demo").click()
    expect(page.locator("#chart-per-day")).to_be_visible(timeout=120_000)

    page.goto(running_app.url + "/conversations")
    link = page.locator("#conversations-table a").first
    expect(link).to_be_visible(timeout=30_000)
    conversation = link.get_attribute("href").split("/")[2]
    routes = [href for _, items in NAV_SECTIONS for _, href, _ in items]
    routes += [f"/conversations/{conversation}/{tab}" for tab in ("settings", "schedule", "participants", "topics")]

    SHOTS.mkdir(parents=True, exist_ok=True)
    for language, code, title in (("English", "en", "Overview"), ("Português (Brasil)", "pt-BR", "Visão geral")):
        page.goto(running_app.url + "/")
        _switch_language(page, language)
        expect(page.locator("#page-title")).to_have_text(title, timeout=30_000)
        for route in routes:
            page.goto(running_app.url + route)
            expect(page.locator("#page-title")).to_be_visible(timeout=30_000)
            page.wait_for_load_state("networkidle")
            body = page.locator("body").inner_text()
            if route == "/audit":  # the log's action column holds action identifiers by design
                body = body.replace(page.locator("#audit-table").inner_text(), "")
            assert not RAW_KEY.findall(body), f"{route} ({language}) shows raw keys: {RAW_KEY.findall(body)[:5]}"
        shots = (("/", "overview"), ("/metrics", "metrics"), (f"/conversations/{conversation}/topics", "topics"))
        for route, name in shots:
            page.goto(running_app.url + route)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(SHOTS / f"{name}-{code}.png"), full_page=True)
    assert console_errors == []


def test_phone_width_has_no_horizontal_scroll(running_app, admin_page: Page):
    page = admin_page
    page.set_viewport_size({"width": 390, "height": 844})
    for route in ("/", "/instances", "/metrics", "/settings"):
        page.goto(running_app.url + route)
        expect(page.locator("#page-title")).to_be_visible(timeout=30_000)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 2, f"{route} scrolls sideways by {overflow}px at phone width"

"""Issue 13, the shell: a drawer navigation at phone width, the tenant's time zone on every page, and unknown
routes answered inside the shell in the operator's language. Screenshots go to screenshots/shell/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
NOT_FOUND = (("Português (Brasil)", "pt-BR", "Página não encontrada"), ("English", "en", "Page not found"))
SHELL_ROUTES = ("/", "/instances", "/conversations", "/personas", "/contacts", "/settings", "/audit", "/schedule")


def _shot(page: Page, name: str) -> None:
    """At the page's current width only (the drawer's state belongs to it); the slide and the badges settle."""
    screenshot(page, "shell", name, widths=(page.viewport_size["width"],), settle_ms=800)


def _sideways_scroll(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_phone_width_navigation_is_a_drawer(running_app, admin_page: Page, console_errors):
    page = admin_page
    page.set_viewport_size(PHONE)
    page.goto(running_app.url + "/")
    expect(page.locator("#page-title")).to_have_text("Visão geral", timeout=30_000)
    sidebar, toggle = page.locator("#sidebar"), page.locator("#nav-toggle")
    expect(sidebar).to_be_hidden()  # the page's own content is the first screen, not the navigation
    expect(toggle).to_be_visible()
    expect(page.locator("#nav-open")).not_to_be_checked()
    page.wait_for_load_state("networkidle")
    title_top = page.locator("#page-title").bounding_box()["y"]
    assert title_top < 200, f"the page title starts {title_top}px down at phone width"
    _shot(page, "overview-pt-BR")

    toggle.click()
    expect(sidebar).to_be_visible()
    expect(page.locator("#nav-open")).to_be_checked()
    _shot(page, "nav-open-pt-BR")
    page.locator('#sidebar a[href="/settings"]').click()  # navigating closes the drawer
    expect(page.locator("#page-title")).to_have_text("Configurações", timeout=30_000)
    expect(sidebar).to_be_hidden()

    toggle.click()
    expect(sidebar).to_be_visible()
    page.mouse.click(380, 600)  # the dimmed page beside the drawer closes it too
    expect(sidebar).to_be_hidden()

    for route in SHELL_ROUTES:
        page.goto(running_app.url + route)
        expect(page.locator("#page-title")).to_be_visible(timeout=30_000)
        page.wait_for_load_state("networkidle")
        assert _sideways_scroll(page) <= 2, f"{route} scrolls sideways at phone width"

    page.set_viewport_size(WIDE)  # wide screens keep the sidebar as it was, with no menu button
    page.goto(running_app.url + "/")
    expect(sidebar).to_be_visible(timeout=30_000)
    expect(toggle).to_be_hidden()
    _shot(page, "overview-pt-BR")
    assert console_errors == []


def test_the_tenants_zone_is_shown_and_follows_settings(running_app, admin_page: Page):
    page = admin_page
    page.set_viewport_size(WIDE)
    page.goto(running_app.url + "/settings?tab=tenant")
    zone = page.locator("#zone-label")
    expect(zone).to_have_text(re.compile(r"Horários em America/Sao_Paulo \(UTC−0[23]:00\)"), timeout=30_000)
    timezone = page.locator("#tenant-timezone")
    expect(timezone).to_have_value("America/Sao_Paulo")

    timezone.fill("Europe/Lisbon")
    page.locator("#tenant-save").click()
    expect(zone).to_contain_text("Europe/Lisbon", timeout=30_000)  # at once, without a reload
    page.goto(running_app.url + "/instances")
    expect(page.locator("#zone-label")).to_contain_text("Europe/Lisbon", timeout=30_000)

    page.goto(running_app.url + "/settings?tab=tenant")
    expect(page.locator("#tenant-timezone")).to_have_value("Europe/Lisbon", timeout=30_000)
    page.locator("#tenant-timezone").fill("Nowhere/Atlantis")
    page.locator("#tenant-save").click()
    expect(page.locator("#tenant-error")).to_contain_text("Fuso horário:")  # the message names its field
    expect(page.locator(".input-invalid #tenant-timezone, #tenant-timezone.input-invalid")).to_have_count(1)
    page.locator("#tenant-timezone").fill("America/Sao_Paulo")
    page.locator("#tenant-save").click()
    expect(page.locator("#zone-label")).to_contain_text("America/Sao_Paulo", timeout=30_000)
    expect(page.locator("#tenant-error")).to_have_count(0)


def test_unknown_route_is_a_404_inside_the_shell(running_app, admin_page: Page, browser, console_errors):
    page = admin_page
    for viewport, width in ((WIDE, 1440), (PHONE, 390)):
        page.set_viewport_size(viewport)
        for language, code, title in NOT_FOUND:
            page.goto(running_app.url + "/")
            expect(page.locator("#page-title")).to_be_visible(timeout=30_000)
            switch_language(page, language)  # opens the drawer first at phone width
            page.goto(running_app.url + "/schedule")
            expect(page.locator("#page-title")).to_have_text(title, timeout=30_000)
            expect(page.locator("#missing-path")).to_have_text("/schedule")
            expect(page.locator("#not-found-home")).to_be_visible()
            expect(page.locator("#zone-label")).to_be_visible()
            expect(page.locator("#sidebar" if width == 1440 else "#nav-toggle")).to_be_visible()
            assert "404: Page not found" not in page.locator("body").inner_text()
            _shot(page, f"404-{code}")
    page.set_viewport_size(WIDE)
    page.goto(running_app.url + "/schedule")
    page.locator("#not-found-home").click()
    expect(page).to_have_url(running_app.url + "/", timeout=30_000)
    # The overview is on screen (still in English, the loop's last language): a picker opened while the page was
    # still being replaced can close under the click.
    expect(page.locator("#page-title")).to_have_text("Overview", timeout=30_000)
    switch_language(page, "Português (Brasil)")

    with browser.new_context(viewport=PHONE) as context:  # signed out: the sign-in card says it, in pt-BR
        visitor = context.new_page()
        visitor.goto(running_app.url + "/schedule")
        expect(visitor.locator("#page-title")).to_have_text("Página não encontrada", timeout=30_000)
        expect(visitor.locator("#sidebar")).to_have_count(0)
        visitor.locator("#not-found-login").click()
        expect(visitor.locator("#login-email")).to_be_visible(timeout=30_000)
    assert console_errors == []

"""Every page, in both languages, with data in every state: no raw catalog key, no raw enum value and no unfilled
placeholder on any screen; a full-page screenshot of each at desktop and phone width for a person to look at.

The data: the demo (loaded with the /metrics button, `demo_loaded`) plus `seed_states`, which puts every enum value
of the models somewhere on screen. The routes come from the pages' own declarations, so a new page is swept
without editing this file; what counts as raw comes from `raw_text` (built from the catalogs and the models' enums)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from mirage_app.core.config import PROJECT_ROOT
from tests.browser.conftest import (
    DRAWER_BELOW,
    SCREENSHOTS,
    WIDTHS,
    run_beside_app,
    set_language_cookie,
    switch_language,
)
from tests.browser.raw_text import leaks, page_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = SCREENSHOTS / "every-page"
PAGES = PROJECT_ROOT / "mirage_app" / "pages"
DECLARED = re.compile(r"""(?:app_page\(\s*|rx\.page\(\s*route=)["']([^"']+)["']""")
SETTINGS_TABS = ("security", "users", "api_keys", "tenant", "servers", "safety", "alerts")
LANGUAGES = (("pt-BR", "Português (Brasil)", "Visão geral"), ("en", "English", "Overview"))


def declared_routes() -> list[str]:
    """Every route a page declares (`@app_page("/…")`, `rx.page(route=…)`), as written: `[id]` segments and
    the "404" catch-all included."""
    found = {m for path in sorted(PAGES.rglob("*.py")) for m in DECLARED.findall(path.read_text())}
    assert {"/", "/login", "/invite/[token]", "404"} <= found, found
    return sorted(found)


def signed_in_routes(conversations: dict[str, str]) -> list[str]:
    routes = []
    for route in declared_routes():
        if route in ("/login", "/invite/[token]", "404"):
            continue
        if "[id]" in route:  # each conversation's tabs: the active pair and the inactive other modes
            routes += [route.replace("[id]", cid) for cid in conversations.values()]
        elif route == "/settings":
            routes += [f"/settings?tab={tab}" for tab in SETTINGS_TABS]
        else:
            routes.append(route)
    return [*routes, "/schedule"]  # an unknown route: the 404 inside the shell


def slug(route: str, conversations: dict[str, str]) -> str:
    for mode, cid in conversations.items():
        route = route.replace(cid, mode)
    return re.sub(r"[^a-z0-9]+", "-", route.lower()).strip("-") or "overview"


def seed(running_app, admin) -> dict:
    """`seed_states` in its own process, against the running app's database and Redis."""
    return run_beside_app(running_app, "-m", "tests.browser.seed_states", admin.email, MIRAGE_DEMO="1")


def open_page(page: Page, url: str) -> bool:
    """Go to `url` and wait until its title shows, its loaders have answered and the tables are filled. `reflex
    run` rebuilds the front end whenever a source file changes, which blanks the page for a while: one reload."""
    for _ in range(2):
        page.goto(url)
        try:
            expect(page.locator("#page-title")).to_be_visible(timeout=45_000)
        except AssertionError:
            continue
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(800)  # the page's on_load events fill it after the first paint
        return True
    return False


def sweep(page: Page, url: str, name: str, code: str, failures: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900 if width > DRAWER_BELOW else 844})
        shown = open_page(page, url)
        page.screenshot(path=str(SHOTS / f"{code}-{width}-{name}.png"), full_page=True)
        if not shown:
            failures.append(f"{name} ({code}, {width}px): the page did not render")
            continue
        text = page_text(page)
        title = "".join((page.locator("#page-title").text_content() or "").split())
        if not title or title not in "".join(text.split()):  # page_text reads what is on screen (text nodes apart)
            failures.append(f"{name} ({code}, {width}px): the title {title!r} is not in the page's text")
        failures += [f"{name} ({code}, {width}px): {leak}" for leak in leaks(text, code)]


def test_every_page_in_both_languages(running_app, admin_mfa, demo_loaded, admin_page: Page, browser, console_errors):
    page, admin = admin_page, admin_mfa
    seeded = seed(running_app, admin)
    conversations = seeded["conversations"]
    routes = signed_in_routes(conversations)

    SHOTS.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for code, language, title in LANGUAGES:
        page.set_viewport_size({"width": 1440, "height": 900})
        assert open_page(page, running_app.url + "/")
        switch_language(page, language)
        expect(page.locator("#page-title")).to_have_text(title, timeout=30_000)
        for route in routes:
            sweep(page, running_app.url + route, slug(route, conversations), code, failures)

        visitor = browser.new_context()  # signed out: the sign-in page and an invitation link that is not valid
        signed_out = visitor.new_page()
        set_language_cookie(signed_out, running_app.url, code)
        for route, name in (("/login", "login"), ("/invite/not-a-real-token", "invite-bad-token")):
            sweep(signed_out, running_app.url + route, name, code, failures)
        visitor.close()
    assert failures == [], "\n".join(failures)
    assert console_errors == []


def test_phone_width_has_no_horizontal_scroll(running_app, admin_page: Page):
    page = admin_page
    page.set_viewport_size({"width": 390, "height": 844})
    for route in ("/", "/instances", "/metrics", "/settings"):
        page.goto(running_app.url + route)
        expect(page.locator("#page-title")).to_be_visible(timeout=30_000)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 2, f"{route} scrolls sideways by {overflow}px at phone width"

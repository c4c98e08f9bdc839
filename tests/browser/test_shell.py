"""Issue 2 in a real browser: `reflex run` on the embedded default serves a healthy app and its shell."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from mirage_app.components.layout import NAV_SECTIONS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_health_is_all_green(running_app):
    deadline_report = None
    for _ in range(60):
        response = httpx.get(running_app.api_url + "/api/health", timeout=10)
        deadline_report = response.json()
        if response.status_code == 200:
            break
        import time

        time.sleep(1)
    assert deadline_report["status"] == "ok", deadline_report
    assert all(check["ok"] for check in deadline_report["checks"].values())
    assert deadline_report["checks"]["database"]["role"] == "mirage_app"
    assert deadline_report["demo"] is True


def test_openapi_and_json_errors(running_app):
    spec = httpx.get(running_app.api_url + "/api/openapi.json", timeout=10).json()
    assert "/api/health" in spec["paths"]
    missing = httpx.get(running_app.api_url + "/api/does-not-exist", timeout=10)
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "detail"}


def test_shell_renders_every_route_in_both_languages(running_app, admin_page: Page, console_errors):
    page = admin_page
    page.goto(running_app.url + "/")
    expect(page.locator("#sidebar")).to_be_visible(timeout=60_000)
    expect(page.locator("#page-title")).to_have_text("Visão geral")
    hrefs = [href for _, items in NAV_SECTIONS for _, href, _ in items]
    for href in hrefs:
        expect(page.locator(f'#sidebar a[href="{href}"]')).to_be_visible()
    expect(page.locator("#demo-badge")).to_be_visible(timeout=30_000)

    page.locator("#language-select").click()
    page.get_by_role("option", name="English").click()
    expect(page.locator("#page-title")).to_have_text("Overview")
    page.locator('#sidebar a[href="/metrics"]').click()
    expect(page.locator("#page-title")).to_have_text("Metrics", timeout=30_000)
    page.reload()
    expect(page.locator("#page-title")).to_have_text("Metrics", timeout=30_000)  # the choice persists
    assert console_errors == []

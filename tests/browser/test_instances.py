"""Issue 4 in a real browser: connect two numbers by QR in demo mode and watch them go connected live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import app_db

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_connect_two_numbers_by_qr_in_demo_mode(running_app, admin_page: Page, console_errors):
    page = admin_page
    page.goto(running_app.url + "/instances")
    expect(page.locator("#connect-number")).to_be_visible(timeout=30_000)
    before = app_db(running_app, "SELECT count(*) AS n FROM numbers WHERE archived_at IS NULL")[0].n
    expect(page.locator(".instance-card")).to_have_count(before, timeout=30_000)  # the list has loaded
    for label in ("Vendas SP 01", "Suporte RJ"):
        page.locator("#connect-number").click()
        page.locator("#instance-label").fill(label)
        page.locator("#instance-create").click()
        qr = page.locator("#qr-image")
        expect(qr).to_be_visible(timeout=30_000)
        assert qr.get_attribute("src").startswith("data:image/png;base64,")
        page.locator("#simulate-scan").click()
        expect(page.locator("#connect-dialog")).to_be_hidden(timeout=30_000)  # closes itself on connect
    expect(page.locator(".instance-card")).to_have_count(before + 2)
    for label in ("Vendas SP 01", "Suporte RJ"):
        card = page.locator(".instance-card", has_text=label)
        expect(card).to_have_attribute("data-status", "connected", timeout=30_000)
        expect(card).to_contain_text("+55")

    page.goto(running_app.url + "/")
    expect(page.locator("#kpi-numbers")).to_have_text(str(before + 2), timeout=30_000)
    assert console_errors == []

"""Proxies in a real browser: an admin adds a proxy on Settings → Number safety (a bad host is refused under its
field), tests it (a toast says it answers), puts a number on it from the number card (the app's Evolution
simulator checks the proxy too) and sees it there; deleting asks first. The proxy is a local fake proxy run by
the test. Screenshots at desktop and phone width in tests/browser/screenshots/safety/ (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import WIDTHS, screenshot, switch_language
from tests.fakes.proxy_server import FakeProxy

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROXY = "Proxy Centro"
NUMBER = "Vendas Proxy 01"


@pytest.fixture
def live_proxy() -> Iterator[FakeProxy]:
    with FakeProxy(username="equipe", password="s3nh@:forte") as proxy:
        yield proxy


def _connect_number(page: Page, url: str) -> None:
    page.goto(url + "/instances")
    expect(page.locator("#connect-number")).to_be_visible(timeout=30_000)
    page.locator("#connect-number").click()
    page.locator("#instance-label").fill(NUMBER)
    page.locator("#instance-create").click()
    expect(page.locator("#qr-image")).to_be_visible(timeout=30_000)
    page.locator("#simulate-scan").click()
    expect(page.locator("#connect-dialog")).to_be_hidden(timeout=30_000)
    card = page.locator(".instance-card", has_text=NUMBER)
    expect(card).to_have_attribute("data-status", "connected", timeout=30_000)


def _add(page: Page, host: str, port: int) -> None:
    page.locator("#proxy-add-label").fill(PROXY)
    page.locator("#proxy-add-host").fill(host)
    page.locator("#proxy-add-port").fill(str(port))
    page.locator("#proxy-add-protocol").select_option("http")
    page.locator("#proxy-add-username").fill("equipe")
    page.locator("#proxy-add-password").fill("s3nh@:forte")
    page.locator("#proxy-add-max_numbers").fill("2")
    page.locator("#proxy-add-submit").click()


def test_add_test_and_assign_a_proxy(running_app, admin_page: Page, live_proxy: FakeProxy, console_errors):
    page = admin_page
    page.set_viewport_size({"width": 1440, "height": 1000})
    url = running_app.url
    _connect_number(page, url)

    page.goto(url + "/settings?tab=safety")
    card = page.locator("#proxies-card")
    expect(card).to_be_visible(timeout=30_000)
    expect(card.locator(".empty-state")).to_be_visible(timeout=30_000)  # an empty pool says what a proxy is for
    _add(page, "not a host!", live_proxy.port)
    expect(page.locator("#proxy-add-host-error")).to_be_visible(timeout=30_000)
    expect(card.locator(".proxy-card")).to_have_count(0)

    page.locator("#proxy-add-host").fill("127.0.0.1")
    page.locator("#proxy-add-submit").click()
    proxy_card = card.locator(".proxy-card", has_text=PROXY)
    expect(proxy_card).to_be_visible(timeout=30_000)
    expect(page.locator("#proxy-add-host-error")).to_have_count(0)
    expect(page.locator("#proxy-add-password")).to_have_value("")  # never shown again
    expect(proxy_card.locator(".proxy-usage")).to_have_text("0 / 2")
    expect(proxy_card).to_have_attribute("data-test", "")

    proxy_card.locator(".proxy-test").click()
    expect(page.locator("[data-sonner-toast]", has_text=re.compile("responde|answers"))).to_be_visible(timeout=30_000)
    expect(proxy_card).to_have_attribute("data-test", "ok", timeout=30_000)
    assert any(line.startswith("CONNECT ") for line in live_proxy.connects)

    # On the number card: pick the proxy; Evolution (the app's simulator) takes it and the card shows it.
    page.goto(url + "/instances")
    number_card = page.locator(".instance-card", has_text=NUMBER)
    picker = number_card.locator(".instance-proxy")
    expect(picker.locator("option", has_text=PROXY)).to_have_count(1, timeout=30_000)
    picker.select_option(label=f"{PROXY} (0/2)")
    expect(page.locator("[data-sonner-toast]").first).to_be_visible(timeout=30_000)
    expect(number_card.locator(".instance-proxy option:checked")).to_have_text(re.compile(PROXY), timeout=30_000)
    expect(number_card.locator(".proxy-down-badge")).to_have_count(0)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=30_000)
    screenshot(page, "safety", "number-card-proxy-pt-BR", widths=(1440,), part=number_card)

    page.goto(url + "/settings?tab=safety")
    proxy_card = page.locator(".proxy-card", has_text=PROXY)
    expect(proxy_card.locator(".proxy-usage")).to_have_text("1 / 2", timeout=30_000)
    sideways = screenshot(page, "safety", "settings-safety-pt-BR", part=page.locator("#proxies-card"))
    assert sideways[390] <= 2, f"the safety tab scrolls sideways by {sideways[390]}px at phone width"
    switch_language(page, "English")
    expect(page.locator("#tab-safety")).to_contain_text("Number safety", timeout=30_000)
    screenshot(page, "safety", "settings-safety-en", widths=WIDTHS[:1])
    switch_language(page, "Português (Brasil)")
    expect(page.locator("#tab-safety")).to_contain_text("Segurança dos números", timeout=30_000)

    # Deleting asks first, says the number goes back to the server's own connection, then takes it off.
    proxy_card.locator(".proxy-delete").click()
    expect(page.locator("#proxy-delete-confirm")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("alertdialog")).to_contain_text(NUMBER)
    page.locator("#proxy-delete-confirm").click()
    expect(page.locator(".proxy-card", has_text=PROXY)).to_have_count(0, timeout=30_000)
    page.goto(url + "/instances")
    number_card = page.locator(".instance-card", has_text=NUMBER)
    expect(number_card.locator(".instance-proxy")).to_have_count(0, timeout=30_000)
    assert console_errors == []

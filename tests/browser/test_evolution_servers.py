"""Evolution servers in a real browser: an admin adds a second (simulated) Evolution server — a wrong key is
refused inline, the right one is saved — places a number on it from /instances, watches its capacity fill live on
Settings, then drains it and sees the number listed under it. Screenshots of the section at desktop and phone
width, in both languages, go to tests/browser/screenshots/servers/ (git-ignored) for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from mirage_app.evolution.simulator import SimConfig, SimulatorServer
from tests.browser.conftest import WIDTHS, screenshot, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVER = "Evolution Extra"
NUMBER = "Vendas Extra 01"
CAPACITY = 5
DOWN = "Evolution Queda"
DOWN_NUMBER = "Suporte Queda"


@pytest.fixture(scope="session")
def extra_server() -> Iterator[SimulatorServer]:
    """A second Evolution server, run by the test process. It lives until the end of the session: the number
    placed on it stays there, and later tests should not find its server suddenly gone."""
    sim = SimulatorServer(config=SimConfig(global_key="extra-server-key"))
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def doomed_server() -> Iterator[SimulatorServer]:
    """A server the test stops on purpose, to see how an unreachable server shows."""
    sim = SimulatorServer(config=SimConfig(global_key="doomed-server-key"))
    sim.start()
    yield sim
    if sim._thread.is_alive():
        sim.stop()


def _add_server(page: Page, name: str, sim: SimulatorServer, capacity: int, api_key: str | None = None) -> None:
    page.locator("#server-add-name").fill(name)
    page.locator("#server-add-base_url").fill(sim.url)
    page.locator("#server-add-api_key").fill(api_key or sim.api_key)
    page.locator("#server-add-capacity").fill(str(capacity))
    page.locator("#server-add-submit").click()


def _connect_on(page: Page, url: str, label: str, option: str) -> None:
    """A new number from /instances, on the server whose picker option is `option`, scanned by the simulated
    phone (the demo button posts the scan to that number's server)."""
    page.goto(url + "/instances")
    expect(page.locator("#connect-number")).to_be_visible(timeout=30_000)
    page.locator("#connect-number").click()
    page.locator("#instance-label").fill(label)
    expect(page.locator("#instance-server option", has_text=option)).to_have_count(1, timeout=30_000)
    page.locator("#instance-server").select_option(label=option)
    page.locator("#instance-create").click()
    expect(page.locator("#qr-image")).to_be_visible(timeout=30_000)
    page.locator("#simulate-scan").click()
    expect(page.locator("#connect-dialog")).to_be_hidden(timeout=30_000)


def _shoot(page: Page, name: str, server: str = SERVER, widths=WIDTHS) -> dict[int, int]:
    """The settings page and its servers section, once `server` shows and the toasts have faded."""
    card = page.locator("#servers-card")
    expect(card.locator(".server-card", has_text=server)).to_be_visible(timeout=30_000)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=30_000)  # toasts fade by themselves
    return screenshot(page, "servers", name, widths=widths, settle_ms=800, part=card)


def test_evolution_servers(
    running_app,
    admin_mfa,
    admin_page: Page,
    extra_server: SimulatorServer,
    doomed_server: SimulatorServer,
    console_errors,
):
    """One sign-in for both stories. Adding a server is a sensitive action: `admin_mfa` has two-factor on before
    `admin_page` signs in with it."""
    page = admin_page
    page.set_viewport_size({"width": 1440, "height": 1000})
    _add_place_and_drain(page, running_app.url, extra_server)
    _unreachable_server_and_its_number_moving_away(page, running_app.url, doomed_server)
    assert console_errors == []


def _add_place_and_drain(page: Page, url: str, extra_server: SimulatorServer) -> None:
    # Add it: the wrong key is refused under the key field; the right one saves it, probed, empty.
    page.goto(url + "/settings?tab=servers")
    expect(page.locator("#servers-card")).to_be_visible(timeout=30_000)
    expect(page.locator("#server-add-submit")).to_be_visible(timeout=30_000)
    _add_server(page, SERVER, extra_server, CAPACITY, api_key="not-the-key")
    expect(page.locator("#server-add-api_key-error")).to_contain_text(re.compile("recusou|refused"), timeout=30_000)
    expect(page.locator(".server-card", has_text=SERVER)).to_have_count(0)

    page.locator("#server-add-api_key").fill(extra_server.api_key)
    page.locator("#server-add-submit").click()
    card = page.locator(".server-card", has_text=SERVER)
    expect(card).to_be_visible(timeout=30_000)
    expect(page.locator("#server-add-api_key-error")).to_have_count(0)
    expect(page.locator("#server-add-api_key")).to_have_value("")  # the key is never shown again
    expect(card.locator(".server-health")).to_have_text("OK")
    expect(card).to_have_attribute("data-health", "ok")
    expect(card.locator(".server-usage")).to_have_text(f"0 / {CAPACITY}")

    # Place a number on it, chosen in the connect dialog, and let the simulated phone scan the QR.
    _connect_on(page, url, NUMBER, f"{SERVER} (0/{CAPACITY})")
    number_card = page.locator(".instance-card", has_text=NUMBER)
    expect(number_card).to_have_attribute("data-status", "connected", timeout=30_000)
    expect(number_card.locator(".instance-server")).to_have_text(SERVER)
    expect(number_card.locator(".server-held-badge")).to_have_count(0)

    # Settings shows it filling up, live.
    page.goto(url + "/settings?tab=servers")
    card = page.locator(".server-card", has_text=SERVER)
    expect(card.locator(".server-usage")).to_have_text(f"1 / {CAPACITY}", timeout=30_000)

    # A capacity that makes no sense is refused under the field.
    card.locator(".server-edit-capacity").click()
    page.locator("#server-capacity-input").fill("0")
    page.locator("#server-capacity-save").click()
    expect(page.locator("#server-capacity-error")).to_be_visible(timeout=30_000)
    card.get_by_role("button", name=re.compile("^(Cancelar|Cancel)$")).click()

    # Deleting asks first, and is refused while a number is on it: the dialog says why and offers no delete.
    card.locator(".server-delete").click()
    expect(page.locator("#server-delete-impact")).to_contain_text("1", timeout=30_000)
    expect(page.locator("#server-delete-confirm")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("#server-delete-dialog")).to_be_hidden()

    # Drain: no new numbers go there; the ones still on it are listed.
    card.locator(".server-set-draining").click()
    expect(card).to_have_attribute("data-state", "draining", timeout=30_000)
    expect(card.locator(".server-state")).to_have_text(re.compile("^(Drenando|Draining)$"))
    expect(card.locator(".server-numbers")).to_contain_text(NUMBER)
    expect(card.locator(".server-set-active")).to_be_visible()

    # Screenshots for a person to look at: desktop and phone, pt-BR and English.
    sideways = _shoot(page, "servers-pt-BR")
    assert sideways[390] <= 2, f"the servers tab scrolls sideways by {sideways[390]}px at phone width"
    switch_language(page, "English")
    expect(page.locator("#page-title")).to_have_text("Settings", timeout=30_000)
    expect(card.locator(".server-state")).to_have_text("Draining", timeout=30_000)
    _shoot(page, "servers-en")
    switch_language(page, "Português (Brasil)")
    expect(page.locator("#page-title")).to_have_text("Configurações", timeout=30_000)


def _unreachable_server_and_its_number_moving_away(page: Page, url: str, doomed_server: SimulatorServer) -> None:
    page.goto(url + "/settings?tab=servers")
    expect(page.locator("#server-add-submit")).to_be_visible(timeout=30_000)
    _add_server(page, DOWN, doomed_server, 3)
    expect(page.locator(".server-card", has_text=DOWN)).to_have_attribute("data-health", "ok", timeout=30_000)
    _connect_on(page, url, DOWN_NUMBER, f"{DOWN} (0/3)")

    # The server goes away; a probe finds it unreachable.
    doomed_server.stop()
    page.goto(url + "/settings?tab=servers")
    card = page.locator(".server-card", has_text=DOWN)
    card.locator(".server-probe").click()
    expect(card).to_have_attribute("data-health", "unreachable", timeout=60_000)
    expect(card.locator(".server-health")).to_have_text("Servidor Evolution inacessível")
    _shoot(page, "servers-unreachable-pt-BR", server=DOWN, widths=(1440,))

    # The overview says so, names it, says since when, and links to the servers tab.
    page.goto(url + "/")
    alert = page.locator(".server-alert", has_text=DOWN)
    expect(alert).to_contain_text(
        re.compile(r"Servidor Evolution inacessível desde (\d{1,2} [a-zç]{3} )?\d\d:\d\d"), timeout=30_000
    )
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=30_000)
    screenshot(page, "servers", "overview-server-alert-pt-BR", widths=(1440,))
    alert.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/settings\?tab=servers"), timeout=30_000)
    expect(page.locator(".server-card", has_text=DOWN)).to_be_visible(timeout=30_000)

    # Its number says the server is unreachable — not that WhatsApp disconnected it.
    page.goto(url + "/instances")
    number_card = page.locator(".instance-card", has_text=DOWN_NUMBER)
    expect(number_card.locator(".server-held-badge")).to_have_text("Servidor Evolution inacessível", timeout=30_000)
    screenshot(page, "servers", "number-held-pt-BR", widths=(1440,), part=number_card)
    drained = page.locator(".instance-card", has_text=NUMBER)  # on a draining server: may move, is not held
    expect(drained.locator(".instance-move")).to_be_visible()
    expect(drained.locator(".server-held-badge")).to_have_count(0)

    # It moves to a server picked in the dialog (only servers that can take it are offered).
    number_card.locator(".instance-move").click()  # still paired, so it is a move, not a reconnect
    options = page.locator("#instance-server option")
    expect(options.first).to_be_attached(timeout=30_000)
    assert DOWN not in page.locator("#instance-server").inner_text()
    # No "keep it where it is" for a number that must move; a platform simulator (the tenant may own other servers
    # by now, seeded by other tests of the run).
    target = options.filter(has_text="Simulator").first.get_attribute("value")
    assert target
    page.locator("#instance-server").select_option(value=target)
    page.locator("#instance-create").click()
    expect(page.locator("#qr-image")).to_be_visible(timeout=60_000)
    page.locator("#simulate-scan").click()
    expect(page.locator("#connect-dialog")).to_be_hidden(timeout=30_000)
    expect(number_card).to_have_attribute("data-status", "connected", timeout=30_000)
    expect(number_card.locator(".instance-server")).not_to_have_text(DOWN, timeout=30_000)
    expect(number_card.locator(".server-held-badge")).to_have_count(0)

    # Now empty, the dead server can be deleted (after confirming); the alert goes with it.
    page.goto(url + "/settings?tab=servers")
    card = page.locator(".server-card", has_text=DOWN)
    expect(card.locator(".server-usage")).to_have_text("0 / 3", timeout=30_000)
    card.locator(".server-delete").click()
    page.locator("#server-delete-confirm").click()
    expect(page.locator(".server-card", has_text=DOWN)).to_have_count(0, timeout=30_000)
    page.goto(url + "/")
    expect(page.locator("#kpi-numbers")).to_be_visible(timeout=30_000)
    expect(page.locator(".server-alert", has_text=DOWN)).to_have_count(0, timeout=30_000)

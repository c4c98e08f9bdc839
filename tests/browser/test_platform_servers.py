"""Issue 18: the platform's Evolution servers on /platform. The platform operator sees the embedded demo's two
simulated servers; adds a third (a wrong key is refused under its field, the right one is saved after the probe),
drains it, probes it, changes its capacity (a wrong one is refused under the field) and disables it, asked first:
its card shows each new state. Screenshots go to screenshots/platform/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from mirage_app.evolution.simulator import SimConfig, SimulatorServer
from tests.browser.conftest import app_db, screenshot, set_language_cookie, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVER = "Evolution Plataforma 3"


@pytest.fixture
def third_server(running_app) -> Iterator[SimulatorServer]:
    """Run by the test process. Once it is gone it is disabled in the running app, which the later tests share: a
    platform server that does not answer would turn `/api/health` degraded, and no number may be placed on it."""
    sim = SimulatorServer(config=SimConfig(global_key="platform-third-key"))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
        app_db(running_app, "UPDATE evolution_servers SET state = 'disabled' WHERE name = :name", name=SERVER)


def test_operator_adds_drains_probes_resizes_and_disables_a_platform_server(
    running_app, admin_mfa, page: Page, third_server, console_errors
):
    set_language_cookie(page, running_app.url, "pt-BR")
    sign_in(page, running_app, admin_mfa.email, admin_mfa.password, admin_mfa.second_factor)
    page.goto(running_app.url + "/platform")
    card = page.locator("#platform-servers")
    for demo in ("Simulator 1", "Simulator 2"):
        expect(card.locator(".server-card", has_text=demo)).to_contain_text("Plataforma", timeout=60_000)

    page.locator("#platform-server-add-name").fill(SERVER)
    page.locator("#platform-server-add-base_url").fill(third_server.url)
    page.locator("#platform-server-add-api_key").fill("not-the-key")
    page.locator("#platform-server-add-capacity").fill("30")
    page.locator("#platform-server-add-submit").click()
    expect(page.locator("#platform-server-add-api_key-error")).to_be_visible(timeout=30_000)
    page.locator("#platform-server-add-api_key").fill(third_server.api_key)
    page.locator("#platform-server-add-submit").click()
    added = card.locator(".server-card", has_text=SERVER)
    expect(added).to_be_visible(timeout=30_000)
    expect(added.locator(".server-usage")).to_have_text("0 / 30")
    expect(added.locator(".server-state")).to_have_text("Ativo")
    expect(added.locator(".server-health")).to_contain_text("OK")
    expect(page.locator("#platform-server-add-api_key")).to_have_value("")  # the key is never kept on the page

    added.get_by_role("button", name="Drenar", exact=True).click()
    expect(added.locator(".server-state")).to_have_text("Drenando", timeout=30_000)
    expect(added).to_have_attribute("data-state", "draining")
    expect(added.get_by_role("button", name="Ativar", exact=True)).to_be_visible()
    page.reload()  # read again from the database
    expect(card.locator(".server-card", has_text=SERVER).locator(".server-state")).to_have_text(
        "Drenando", timeout=60_000
    )
    added = card.locator(".server-card", has_text=SERVER)

    added.locator(".server-probe").click()
    expect(page.get_by_text("Servidor verificado.")).to_be_visible(timeout=30_000)
    expect(added.locator(".server-health")).to_contain_text("OK")

    added.locator(".server-edit-capacity").click()
    page.locator("#server-capacity-input").fill("0")
    page.locator("#server-capacity-save").click()
    expect(page.locator("#server-capacity-error")).to_be_visible(timeout=30_000)
    page.locator("#server-capacity-input").fill("45")
    page.locator("#server-capacity-save").click()
    expect(added.locator(".server-usage")).to_have_text("0 / 45", timeout=30_000)
    expect(page.locator("#server-capacity-input")).to_have_count(0)
    screenshot(page, "platform", "platform-servers-pt-BR", part=card)

    added.get_by_role(
        "button", name="Desativar", exact=True
    ).click()  # asked first: every tenant's numbers on it would stop
    dialog = page.locator("#platform-server-dialog")
    expect(dialog).to_contain_text(f"Desativar “{SERVER}”?")
    expect(page.locator("#platform-server-impact")).to_contain_text("não recebe números novos")
    expect(added.locator(".server-state")).to_have_text("Drenando")
    screenshot(page, "platform", "platform-server-disable-pt-BR", part=dialog)
    page.locator("#platform-server-confirm").click()
    expect(added.locator(".server-state")).to_have_text("Desativado", timeout=30_000)
    expect(dialog).to_have_count(0)
    expect(added.get_by_role("button", name="Ativar", exact=True)).to_be_visible()
    assert console_errors == []

"""Issue 17: the tenant tab's retention periods. A longer one saves at once; a shorter one deletes data within the
hour, so it is confirmed first; an out-of-range one is refused naming its field (screenshots/settings/)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAVED = re.compile(r"^(Alterações salvas|Changes saved)")


def _save(page: Page) -> None:
    page.locator("#tenant-save").click()


def test_retention_periods_longer_at_once_shorter_confirmed(running_app, admin_page: Page):
    page = admin_page
    page.goto(running_app.url + "/settings?tab=tenant")
    webhooks, bodies = page.locator("#tenant-webhook_retention_days"), page.locator("#tenant-body_retention_days")
    expect(webhooks).to_have_value("30", timeout=30_000)
    expect(bodies).to_have_value("365")
    expect(page.get_by_text("Retenção de dados", exact=True)).to_be_visible()

    webhooks.fill("60")  # longer: saved with no question
    _save(page)
    expect(page.get_by_text(SAVED)).to_be_visible(timeout=30_000)
    page.reload()
    expect(webhooks).to_have_value("60", timeout=30_000)

    webhooks.fill("20")  # shorter: asked first, and Cancel keeps what was stored
    _save(page)
    dialog = page.locator("#settings-end-dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    expect(page.locator("#settings-end-impact")).to_contain_text("mais de 20 dias é apagado")
    screenshot(page, "settings", "retention-confirm-pt-BR")
    dialog.get_by_role("button", name="Cancelar").click()
    expect(dialog).to_be_hidden()
    page.reload()
    expect(webhooks).to_have_value("60", timeout=30_000)

    webhooks.fill("5")  # out of range: refused, naming the field
    _save(page)
    page.locator("#settings-end-confirm").click()
    expect(page.locator("#tenant-error")).to_contain_text("Conteúdo dos webhooks (dias, 8–90):", timeout=30_000)

    webhooks.fill("30")  # back to the default, confirmed
    _save(page)
    page.locator("#settings-end-confirm").click()
    expect(page.get_by_text(SAVED)).to_be_visible(timeout=30_000)
    page.reload()
    expect(webhooks).to_have_value("30", timeout=30_000)

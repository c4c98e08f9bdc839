"""Issue 18: the platform operator (the embedded default's first admin, two-factor on) creates a tenant on
/platform; its first admin accepts the invitation link (no password travelled) and sees the plan's use on the
overview; a tenant admin is refused the platform page; a suspension asked through the shared dialog signs the
tenant's admin out. Screenshots go to screenshots/platform/."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import app_db, screenshot, set_language_cookie, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_ADMIN_PASSWORD = "Mandacaru-Em-Flor-2026"


def test_operator_creates_a_tenant_whose_admin_accepts_and_sees_the_plan(
    running_app, admin_mfa, page: Page, browser, console_errors
):
    set_language_cookie(page, running_app.url, "pt-BR")
    sign_in(page, running_app, admin_mfa.email, admin_mfa.password, admin_mfa.second_factor)
    expect(page.locator('#sidebar a[href="/platform"]')).to_have_count(1)
    page.goto(running_app.url + "/platform")
    expect(page.locator("#platform-create")).to_be_visible(timeout=60_000)
    name, email = f"Padaria {uuid.uuid4().hex[:4]}", f"dona-{uuid.uuid4().hex[:6]}@example.com"
    page.locator("#platform-name").fill(name)
    page.locator("#platform-admin-email").fill(email)
    page.locator("#platform-create").click()
    link = page.locator("#platform-invite-link").inner_text(timeout=30_000).strip()
    assert "/invite/" in link
    tenant_card = page.locator(f'.platform-tenant[data-tenant="{name}"]')
    expect(tenant_card).to_contain_text("Gratuito")
    expect(tenant_card).to_contain_text("Usuários 1 de 3")  # the pending invitation holds a seat
    screenshot(page, "platform", "platform-pt-BR")

    guest_context = browser.new_context(viewport={"width": 1440, "height": 900})
    guest = guest_context.new_page()
    set_language_cookie(guest, running_app.url, "pt-BR")
    guest.goto(link)
    expect(guest.locator("#invite-submit")).to_be_visible(timeout=30_000)
    expect(guest.locator("body")).to_contain_text(name)
    guest.locator("#invite-password").fill(NEW_ADMIN_PASSWORD)
    guest.locator("#invite-confirm").fill(NEW_ADMIN_PASSWORD)
    guest.locator("#invite-submit").click()
    expect(guest.locator("#user-role")).to_have_text("Admin", timeout=30_000)
    guest.goto(running_app.url + "/")
    expect(guest.locator("#plan-name")).to_have_text("Gratuito", timeout=30_000)
    bars = guest.locator("#plan-use .plan-use")
    expect(bars).to_have_count(6)
    expect(guest.locator('#plan-use .plan-use[data-kind="numbers"]')).to_contain_text("0 de 2")
    expect(guest.locator('#plan-use .plan-use[data-kind="users"]')).to_contain_text("1 de 3")
    screenshot(guest, "platform", "overview-plan-pt-BR", part=guest.locator("#plan-use"))
    # A tenant admin has no platform link, and the page itself refuses them (the services check, not the link).
    expect(guest.locator('#sidebar a[href="/platform"]')).to_have_count(0)
    guest.goto(running_app.url + "/platform")
    expect(guest.locator("#platform-denied")).to_be_visible(timeout=30_000)
    expect(guest.locator("#platform-body")).to_have_count(0)

    # The operator lowers the tenant's number limit to 0 on /platform; its admin's connect dialog says so.
    page.reload()
    tenant_card = page.locator(f'.platform-tenant[data-tenant="{name}"]')
    tenant_card.get_by_role("button", name="Limites").click()
    page.locator("#limits-numbers").fill("0")
    page.locator("#platform-limits-save").click()
    expect(tenant_card).to_contain_text("Números 0 de 0", timeout=30_000)
    guest.goto(running_app.url + "/instances")
    expect(guest.locator("#connect-number")).to_be_visible(timeout=30_000)
    guest.locator("#connect-number").click()
    guest.locator("#instance-label").fill("Balcão")
    guest.locator("#instance-create").click()
    expect(guest.locator("#connect-error")).to_have_text(
        "Limite de números do seu plano: 0. Em uso: 0.", timeout=30_000
    )
    screenshot(guest, "platform", "plan-limit-pt-BR", part=guest.locator("#connect-dialog"))
    assert app_db(running_app, "SELECT count(*) AS n FROM numbers WHERE label = 'Balcão'")[0].n == 0

    # Suspended from /platform, asked first in the shared dialog: the tenant's admin is signed out.
    page.reload()
    tenant_card = page.locator(f'.platform-tenant[data-tenant="{name}"]')
    tenant_card.get_by_role("button", name="Suspender").click()
    page.locator("#platform-suspend-reason").fill("fatura em aberto")
    page.locator("#platform-suspend-ask").click()
    expect(page.locator("#platform-dialog")).to_contain_text(name)
    page.locator("#platform-confirm").click()
    expect(tenant_card).to_contain_text("Suspenso", timeout=30_000)
    guest.goto(running_app.url + "/")
    expect(guest.locator("#login-email")).to_be_visible(timeout=30_000)
    guest.locator("#login-email").fill(email)
    guest.locator("#login-password").fill(NEW_ADMIN_PASSWORD)
    guest.locator("#login-submit").click()
    expect(guest.get_by_text("fatura em aberto")).to_be_visible(timeout=30_000)
    guest_context.close()

    tenant_card.get_by_role("button", name="Reativar").click()
    page.locator("#platform-confirm").click()
    expect(tenant_card).to_contain_text("Ativo", timeout=30_000)
    assert console_errors == []

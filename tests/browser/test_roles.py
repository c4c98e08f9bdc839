"""Issue 13, roles: a viewer reads settings without being offered changes and is told plainly that /audit is not
for them; admins without two-factor are sent to turn it on; failed sign-ins are in the audit log, in words.
Screenshots go to screenshots/shell/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from mirage_app.i18n import catalog
from tests.browser.conftest import run_beside_app, screenshot, sign_in, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWER_EMAIL = "leitora@example.com"
VIEWER_PASSWORD = "Cajueiro-Florido-71"
PLAIN_ADMIN, PLAIN_ADMIN_PASSWORD = "admin.sem.2fa@mirage.local", "Segundo-Admin-Sem-2FA-2026"
# Viewer pages switch to English first: each switch is a server event, so it also shows the page's load is done.
NOT_ALLOWED = (("English", "en", "You cannot open"), ("Português (Brasil)", "pt-BR", "Você não pode abrir"))
FAILED_SIGN_IN = (("Português (Brasil)", "pt-BR", "Tentativa de entrada falhou"), ("English", "en", "Failed sign-in"))
RAW_ACTION = re.compile(r"\b(?:auth|users|mfa|settings|api_keys)\.[a-z_]+\b")
# A second admin who never turned two-factor on, added through the app's own services in a process of its own.
ADD_PLAIN_ADMIN = f"""
import sys
from mirage_app.models import UserRole
from mirage_app.services import users
from tests.browser.seed_states import admin_actor
invitation = users.invite(admin_actor(sys.argv[1]), {PLAIN_ADMIN!r}, UserRole.admin)
users.accept_invitation(invitation.token, {PLAIN_ADMIN_PASSWORD!r}, "pt-BR", "Segunda Admin")
"""


@pytest.fixture(scope="module")
def viewer(running_app, browser, admin_mfa) -> str:
    """An admin (two-factor on) invites a viewer from the users tab, who accepts."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, running_app, admin_mfa.email, admin_mfa.password, admin_mfa.second_factor)
    page.goto(running_app.url + "/settings?tab=users")
    page.locator("#invite-email").fill(VIEWER_EMAIL)
    page.locator("#invite-role").click()
    page.get_by_role("option", name="Leitor").click()
    page.locator("#invite-send").click()
    link = page.locator("#invite-link").inner_text(timeout=15_000).strip()
    expect(page.get_by_text("Pendente").first).to_be_visible()  # the invitation's status in words
    context.close()

    guest_context = browser.new_context()
    guest = guest_context.new_page()
    guest.goto(link)
    expect(guest.locator("#invite-submit")).to_be_visible(timeout=30_000)
    expect(guest.locator("body")).to_contain_text("· Leitor")  # the role in words, not "viewer"
    guest.locator("#invite-password").fill(VIEWER_PASSWORD)
    guest.locator("#invite-confirm").fill(VIEWER_PASSWORD + "x")
    guest.locator("#invite-submit").click()
    expect(guest.locator("#invite-error")).to_contain_text("Confirme a senha")
    expect(guest.locator("#invite-password")).to_have_value(VIEWER_PASSWORD)
    guest.locator("#invite-confirm").fill(VIEWER_PASSWORD)
    guest.locator("#invite-submit").click()
    expect(guest.locator("#user-role")).to_have_text("Leitor", timeout=30_000)
    guest_context.close()
    return VIEWER_EMAIL


@pytest.fixture
def viewer_page(page: Page, running_app, viewer) -> Page:
    sign_in(page, running_app, viewer, VIEWER_PASSWORD)
    return page


def test_an_admin_without_two_factor_is_sent_to_turn_it_on(running_app, admin_settled, page: Page):
    run_beside_app(running_app, "-c", ADD_PLAIN_ADMIN, admin_settled.email)
    sign_in(page, running_app, PLAIN_ADMIN, PLAIN_ADMIN_PASSWORD)
    page.goto(running_app.url + "/settings?tab=users")
    expect(page.locator("#users-table")).to_contain_text(admin_settled.email, timeout=30_000)  # still readable
    expect(page.locator("#invite-send")).to_be_disabled()
    screenshot(page, "shell", "settings-users-no-mfa-pt-BR")
    page.locator(".mfa-link").click()  # "turn on two-factor" leads to the security tab
    expect(page).to_have_url(re.compile(r"/settings\?tab=security"), timeout=30_000)
    expect(page.locator("#mfa-start")).to_be_visible(timeout=30_000)


def test_a_viewer_opening_audit_sees_not_allowed(running_app, viewer_page: Page, console_errors):
    page = viewer_page
    expect(page.locator('#sidebar a[href="/audit"]')).to_have_count(0)
    page.goto(running_app.url + "/audit")
    expect(page.locator("#not-allowed")).to_be_visible(timeout=30_000)
    for language, code, title in NOT_ALLOWED:
        switch_language(page, language)
        not_allowed = page.locator("#not-allowed")
        expect(not_allowed).to_contain_text(title, timeout=30_000)
        expect(not_allowed).to_contain_text("Admin")
        expect(not_allowed).to_contain_text("Leitor" if code == "pt-BR" else "Viewer")
        expect(page.locator("#audit-table")).to_have_count(0)
        # The switch was handled after the page's load: a refusal toast from that load would be on screen now.
        expect(page.locator("#service-error")).to_have_count(0)
        screenshot(page, "shell", f"not-allowed-{code}")
    assert console_errors == []


def test_a_viewer_reads_settings_without_editing(running_app, viewer_page: Page):
    page = viewer_page
    page.goto(running_app.url + "/settings?tab=tenant")
    expect(page.locator("#tenant-read-only")).to_be_visible(timeout=30_000)
    expect(page.locator("#tenant-timezone")).to_be_disabled()
    expect(page.locator("#tenant-timezone")).to_have_value("America/Sao_Paulo")
    expect(page.locator("#tenant-min_delay_s")).to_be_disabled()
    expect(page.locator("#tenant-humanize")).to_be_disabled()
    expect(page.locator("#tenant-save")).to_have_count(0)
    screenshot(page, "shell", "settings-tenant-viewer-pt-BR")

    page.locator("#tab-users").click()
    expect(page.locator(".admins-only")).to_contain_text("Leitor")
    page.locator("#tab-security").click()
    expect(page.locator("#password-rules")).to_be_visible()  # the rules come before any failure
    page.locator("#current-password").fill(VIEWER_PASSWORD)
    page.locator("#new-password").fill("Outra-Senha-Boa-2026")
    page.locator("#confirm-password").fill("Outra-Senha-Boa-2027")
    page.locator("#change-password").click()
    expect(page.locator("#password-error")).to_contain_text("Confirme a senha")
    expect(page.locator("#current-password")).to_have_value(VIEWER_PASSWORD)  # nothing to type again
    expect(page.locator("#new-password")).to_have_value("Outra-Senha-Boa-2026")
    page.locator("#new-password").fill("curta")
    page.locator("#confirm-password").fill("curta")
    page.locator("#change-password").click()
    expect(page.locator("#password-error")).to_contain_text("Nova senha:")
    screenshot(page, "shell", "settings-security-viewer-pt-BR")


def test_a_failed_sign_in_is_in_the_audit_log(running_app, viewer, browser, admin_page: Page):
    with browser.new_context() as context:
        intruder = context.new_page()
        intruder.goto(running_app.url + "/login")
        intruder.locator("#login-email").fill(viewer)
        intruder.locator("#login-password").fill("not-her-password")
        intruder.locator("#login-submit").click()
        expect(intruder.locator("#login-error")).to_be_visible(timeout=30_000)

    page = admin_page
    for language, code, words in FAILED_SIGN_IN:
        page.goto(running_app.url + "/")
        expect(page.locator("#page-title")).to_be_visible(timeout=30_000)
        switch_language(page, language)
        # The choice is a cookie the server sets: navigating before it lands would keep the old language.
        expect(page.locator("#page-title")).to_have_text(catalog(code)["page.overview.title"], timeout=30_000)
        page.goto(running_app.url + "/audit")
        table = page.locator("#audit-table")
        expect(table).to_contain_text(words, timeout=30_000)
        row = table.locator("tr", has_text=words).first
        expect(row).to_contain_text(viewer)
        text = table.inner_text()
        assert "not-her-password" not in text
        assert not RAW_ACTION.findall(text), f"the audit log shows action identifiers: {RAW_ACTION.findall(text)[:5]}"
        assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)  # times read "6 dez 21:28:05", not ISO/UTC
        screenshot(page, "shell", f"audit-{code}")
    switch_language(page, "Português (Brasil)")
    page.goto(running_app.url + "/settings?tab=users")
    expect(page.locator("#users-table")).to_contain_text(viewer, timeout=30_000)
    sideways = screenshot(page, "shell", "settings-users-pt-BR")
    assert sideways[390] <= 2, "the wide table scrolls inside its card, not the page"
    page.locator("#tab-api-keys").click()
    screenshot(page, "shell", "settings-api-keys-pt-BR")

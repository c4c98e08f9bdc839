"""Issue 3 in a real browser: first-run password, MFA enrolment, TOTP and recovery-code sign-in, invitations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import app_db, choose_first_password, enrol_mfa, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_unauthenticated_visit_goes_to_login(running_app, page: Page):
    page.goto(running_app.url + "/instances")
    expect(page).to_have_url(re.compile(r"/login\?next=/instances"), timeout=30_000)
    page.locator("#login-email").fill("admin@mirage.local")
    page.locator("#login-password").fill("definitely-wrong")
    page.locator("#login-submit").click()
    expect(page.locator("#login-error")).to_contain_text("incorretos")


def test_first_run_admin_must_choose_a_password(running_app, page: Page, admin):
    # As on a first run, whichever test signed the admin in first: another test may have chosen the password already.
    app_db(running_app, "UPDATE users SET password_changed_at = NULL WHERE email = :e", e=admin.email)
    sign_in(page, running_app, admin.email, admin.password, admin.second_factor)
    expect(page).to_have_url(re.compile(r"/settings\?tab=security&first=1"))
    new_password = "Aurora-Austral-2026!" if admin.password == "Aurora-Borealis-2026!" else "Aurora-Borealis-2026!"
    page.locator("#current-password").fill(admin.password)
    page.locator("#new-password").fill("curta")
    page.locator("#confirm-password").fill("curta")
    page.locator("#change-password").click()
    expect(page.locator("#password-error")).to_be_visible()
    choose_first_password(page, admin, new_password)


def test_enrol_mfa_then_sign_in_with_totp_and_recovery_code(running_app, admin_page: Page, admin, browser):
    page = admin_page
    enrol_mfa(page, running_app, admin, wrong_code="000000")
    expect(page.locator("#mfa-status")).to_be_visible()

    spent = admin.recovery_codes.pop(0)  # spent here: later sign-ins must not be handed it
    with browser.new_context() as context:  # a fresh browser: sign in with a recovery code
        other = context.new_page()
        sign_in(other, running_app, admin.email, admin.password, spent)
        expect(other.locator("#user-role")).to_have_text("Admin")
    with browser.new_context() as context:  # the same recovery code does not work twice
        other = context.new_page()
        other.goto(running_app.url + "/login")
        other.locator("#login-email").fill(admin.email)
        other.locator("#login-password").fill(admin.password)
        other.locator("#login-submit").click()
        other.locator("#login-code").fill(spent)
        other.locator("#login-verify").click()
        expect(other.locator("#login-error")).to_be_visible()
    with browser.new_context() as context:  # and with a TOTP code
        other = context.new_page()
        sign_in(other, running_app, admin.email, admin.password, admin.totp_at(1))


def test_invite_a_user_who_accepts_in_english(running_app, admin_page: Page, browser):
    page = admin_page
    page.goto(running_app.url + "/settings?tab=users")
    page.locator("#invite-email").fill("not-an-email")
    page.locator("#invite-send").click()
    expect(page.locator("#invite-error")).to_be_visible()
    page.locator("#invite-email").fill("ana@example.com")
    page.locator("#invite-send").click()
    link = page.locator("#invite-link").inner_text(timeout=15_000).strip()
    assert "/invite/" in link

    with browser.new_context() as context:
        guest = context.new_page()
        guest.goto(link)
        expect(guest.locator("#invite-submit")).to_be_visible(timeout=30_000)
        guest.get_by_text("English", exact=True).click()
        guest.locator("#invite-name").fill("Ana")
        guest.locator("#invite-password").fill("Jabuticaba-Doce-88")
        guest.locator("#invite-confirm").fill("Jabuticaba-Doce-88")
        guest.locator("#invite-submit").click()
        expect(guest.locator("#invite-error")).to_have_count(0)
        expect(guest.locator("#page-title")).to_have_text("Overview", timeout=30_000)
        expect(guest.locator("#user-role")).to_have_text("Operator")
        guest.goto(link)  # a used link says so and changes nothing
        expect(guest.locator("#invite-error")).to_be_visible(timeout=30_000)

    page.reload()
    expect(page.locator("#users-table")).to_contain_text("ana@example.com")

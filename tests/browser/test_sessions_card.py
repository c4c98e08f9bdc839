"""Issue 14, finding 9: a person sees where they are signed in and ends the other sessions from Settings → Security;
an admin ends every session of a user from the users tab. The browser whose session ended is sent to /login at its
next navigation. Screenshots go to screenshots/shell/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from mirage_app.i18n import catalog
from tests.browser.conftest import run_beside_app, screenshot, set_language_cookie, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEXTS = catalog("pt-BR")
# The first browser says it is Firefox on Windows, so the second one can tell its row from its own (headless
# chromium on Linux) by the short name the card shows.
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
OPERATOR, OPERATOR_PASSWORD = "sessoes.operadora@example.com", "Pitangueira-Vermelha-42"
ADD_OPERATOR = f"""
import sys
from mirage_app.models import UserRole
from mirage_app.services import users
from tests.browser.seed_states import admin_actor
invitation = users.invite(admin_actor(sys.argv[1]), {OPERATOR!r}, UserRole.operator)
users.accept_invitation(invitation.token, {OPERATOR_PASSWORD!r}, "pt-BR", "Operadora Sessões")
"""


def _open_security(page: Page, url: str) -> None:
    page.goto(url + "/settings?tab=security")
    expect(page.locator("#sessions-card")).to_be_visible(timeout=30_000)
    # The rows arrive with the page's load event: this session's row is always there once they have.
    expect(page.locator("#sessions-table .session-current")).to_have_count(1, timeout=30_000)


def _confirm(page: Page, *expected: str) -> None:
    """The one settings confirmation is open, says what it ends, and is confirmed."""
    dialog = page.locator("#settings-end-dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    for text in expected:
        expect(dialog).to_contain_text(text)
    page.locator("#settings-end-confirm").click()
    expect(dialog).to_be_hidden(timeout=30_000)


def _expect_sent_to_login(page: Page, url: str, path: str) -> None:
    page.goto(url + path)
    expect(page).to_have_url(re.compile(r"/login"), timeout=30_000)
    expect(page.locator("#login-email")).to_be_visible(timeout=30_000)


def test_a_second_browser_ends_the_first_ones_session(running_app, admin_settled, browser):
    url, admin = running_app.url, admin_settled
    with (
        browser.new_context() as spare_context,
        browser.new_context(user_agent=FIREFOX_WINDOWS, viewport={"width": 1440, "height": 900}) as first_context,
        browser.new_context(viewport={"width": 1440, "height": 900}) as second_context,
    ):
        spare, first, second = spare_context.new_page(), first_context.new_page(), second_context.new_page()
        for page in (spare, first, second):
            set_language_cookie(page, url, "pt-BR")
        sign_in(spare, running_app, admin.email, admin.password, admin.second_factor)  # at least one other

        # The first browser starts from a clean slate: every other session of the admin ends, the spare's included.
        sign_in(first, running_app, admin.email, admin.password, admin.second_factor)
        _open_security(first, url)
        expect(first.locator("#sessions-table .session-current")).to_contain_text(TEXTS["settings.session_current"])
        first.locator("#sessions-revoke-others").click()
        _confirm(first, TEXTS["confirm.title.sign_out_others"])
        expect(first.get_by_text(TEXTS["settings.other_sessions_ended"])).to_be_visible(timeout=30_000)
        expect(first.locator("#sessions-only-this")).to_have_text(TEXTS["settings.sessions_only_this"])
        expect(first.locator("#sessions-table .session-row")).to_have_count(1)
        expect(first.locator("#sessions-revoke-others")).to_have_count(0)
        expect(first.locator("#sessions-table")).to_contain_text("Firefox · Windows")
        _expect_sent_to_login(spare, url, "/")

        # The second browser sees both sessions: its own marked, the first one by its browser.
        sign_in(second, running_app, admin.email, admin.password, admin.second_factor)
        _open_security(second, url)
        rows = second.locator("#sessions-table .session-row")
        expect(rows).to_have_count(2, timeout=30_000)
        expect(rows.filter(has=second.locator(".session-current"))).to_contain_text("Chrome")
        other = rows.filter(has=second.locator(".session-revoke"))
        expect(other).to_have_count(1)
        expect(other).to_contain_text("Firefox · Windows")
        table = second.locator("#sessions-table").inner_text()
        assert not re.search(r"\d{4}-\d{2}-\d{2}", table), "times read '6 dez 21:28', not ISO"
        sideways = screenshot(second, "shell", "settings-sessions-pt-BR")
        assert sideways[390] <= 2, "the sessions table scrolls inside its card, not the page"

        other.locator(".session-revoke").click()
        _confirm(second, "Firefox · Windows", TEXTS["confirm.verb.sign_out"])
        expect(second.get_by_text(TEXTS["settings.session_ended"])).to_be_visible(timeout=30_000)
        expect(rows).to_have_count(1, timeout=30_000)
        expect(second.locator("#sessions-only-this")).to_be_visible()

        _expect_sent_to_login(first, url, "/settings?tab=security")
        second.reload()  # the second browser's own session goes on
        expect(second.locator("#sessions-table .session-current")).to_have_count(1, timeout=30_000)
        expect(second).to_have_url(re.compile(r"/settings"))


def test_an_admin_ends_every_session_of_a_user(running_app, admin_mfa, browser):
    url = running_app.url
    run_beside_app(running_app, "-c", ADD_OPERATOR, admin_mfa.email)
    with (
        browser.new_context(viewport={"width": 1440, "height": 900}) as operator_context,
        browser.new_context(viewport={"width": 1440, "height": 900}) as admin_context,
    ):
        operator, admin = operator_context.new_page(), admin_context.new_page()
        for page in (operator, admin):
            set_language_cookie(page, url, "pt-BR")
        sign_in(operator, running_app, OPERATOR, OPERATOR_PASSWORD)
        _open_security(operator, url)  # an operator has the card too
        # Accepting the invitation (by script, above) signed in too: that session has no browser name or address.
        expect(operator.locator("#sessions-table .session-revoke")).to_have_count(1)

        sign_in(admin, running_app, admin_mfa.email, admin_mfa.password, admin_mfa.second_factor)
        admin.goto(url + "/settings?tab=users")
        row = admin.locator("#users-table tr", has_text=OPERATOR)
        expect(row).to_have_count(1, timeout=30_000)
        expect(row.locator(".user-end-sessions")).to_be_enabled()
        row.locator(".user-end-sessions").click()
        _confirm(admin, OPERATOR, TEXTS["confirm.verb.end_sessions"])
        expect(admin.get_by_text(TEXTS["settings.user_sessions_ended"])).to_be_visible(timeout=30_000)
        expect(row.locator(".user-deactivate")).to_be_visible()  # signed out, still a user

        _expect_sent_to_login(operator, url, "/instances")
        sign_in(operator, running_app, OPERATOR, OPERATOR_PASSWORD)  # and may sign in again
        admin.reload()  # the admin's own session was not touched
        expect(admin.locator("#users-table")).to_contain_text(OPERATOR, timeout=30_000)

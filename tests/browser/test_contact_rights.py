"""Issue 18 in a real browser: an admin with MFA downloads one person's data (JSON and a zip of CSVs) from the
contacts page, erases it behind the confirmation dialog, and the number cannot be stored again."""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile

import pytest
from playwright.sync_api import Page, expect

from mirage_app.i18n import catalog

pytestmark = [pytest.mark.browser]


def _either(key: str) -> re.Pattern:
    """The text of `key` in either language (the admin's own language decides the page's)."""
    return re.compile("|".join(re.escape(catalog(code)[key]) for code in ("pt-BR", "en")))


def _open_menu_at(row, item):
    """Open the row's data-rights menu until `item` shows: a re-render of the row (a toast, a refresh) may close a
    menu opened a moment before; under load the first click can land before the row is interactive."""
    for _ in range(4):
        row.locator(".contact-rights").click()
        try:
            expect(item).to_be_visible(timeout=7_500)
            return
        except AssertionError:
            row.page.keyboard.press("Escape")
    expect(item).to_be_visible(timeout=1)  # fails with Playwright's own message


def _search_until_alone(page: Page, name: str) -> None:
    """Search for `name` until its row is the only one: the search box is a debounced input, so a state update
    that lands inside its 300 ms wait (the save's own reload, under load) can reset the box and send an empty
    search. Filtering first also means no reload re-renders the row while its menu opens."""
    rows, search = page.locator("#contacts-table tbody tr"), page.locator("#contact-search")
    for _ in range(4):
        search.fill(name)
        try:
            expect(rows).to_have_count(1, timeout=7_500)
            return
        except AssertionError:
            search.fill("")
    expect(rows).to_have_count(1, timeout=1)  # fails with Playwright's own message


def test_export_then_erase_a_person(running_app, admin_mfa, admin_page: Page):
    page, url = admin_page, running_app.url
    local = f"11 9{secrets.randbelow(10**8):08d}"
    name = f"Titular {secrets.token_hex(3)}"

    page.goto(url + "/contacts")
    page.locator("#contact-new").click()
    page.locator("#contact-wa_number").fill(local)
    page.locator("#contact-display_name").fill(name)
    page.locator("#contact-save").click()
    expect(page.locator("#contact-wa_number")).to_be_hidden(timeout=30_000)  # saved: the dialog closed
    _search_until_alone(page, name)
    row = page.locator("#contacts-table tr", has_text=name)
    expect(row).to_have_count(1, timeout=30_000)

    _open_menu_at(row, page.locator(".contact-export-json"))
    with page.expect_download(timeout=30_000) as json_download:
        page.locator(".contact-export-json").click()
    exported = json.loads(json_download.value.path().read_text(encoding="utf-8"))
    assert exported["contact"][0]["display_name"] == name and exported["consent_history"] == []
    expect(page.get_by_text(_either("contacts.rights.exported")).first).to_be_visible(timeout=30_000)

    _open_menu_at(row, page.locator(".contact-export-zip"))
    with page.expect_download(timeout=30_000) as zip_download:
        page.locator(".contact-export-zip").click()
    with zipfile.ZipFile(io.BytesIO(zip_download.value.path().read_bytes())) as archive:
        assert "contact.csv" in archive.namelist() and name in archive.read("contact.csv").decode()

    _open_menu_at(row, page.locator(".contact-erase"))
    page.locator(".contact-erase").click()
    dialog = page.locator("#contact-erase-dialog")
    expect(dialog).to_contain_text(name, timeout=30_000)
    expect(page.locator("#contact-erase-impact")).to_contain_text(exported["wa_number"], timeout=30_000)  # as a hash
    page.locator("#contact-erase-confirm").click()
    expect(page.get_by_text(_either("contacts.rights.erased")).first).to_be_visible(timeout=30_000)
    expect(row).to_have_count(0, timeout=30_000)

    page.locator("#contact-new").click()  # the same number cannot be stored again
    page.locator("#contact-wa_number").fill(local)
    page.locator("#contact-save").click()
    expect(page.locator("#contact-wa_number-error")).to_contain_text(_either("contacts.erased"), timeout=30_000)

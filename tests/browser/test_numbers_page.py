"""The numbers page (/instances) in a real browser: a QR dialog closed without a scan returns the card to
"Desconectado" with Connect again; deleting asks first and says what depends on the number (cancel keeps it, confirm
archives a number with history and erases one without); message times are in the tenant's zone; the warm-up day
follows the demo history; no raw value on the page in pt-BR; cards fit at phone width. Screenshots at 1440 and
390 px in both languages go to tests/browser/screenshots/numbers/ (git-ignored) for a person to look at."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from mirage_app.i18n import catalog, formats
from tests.browser.conftest import app_db, run_beside_app, screenshot, sign_in, switch_language
from tests.browser.raw_text import leaks, page_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ABANDONED = "QR Abandonado"
VIEWER, VIEWER_PASSWORD = "leitora.numeros@mirage.local", "Leitura-Somente-2026!"
# A viewer of the tenant, added through the app's own services in a process of its own (as the sweep seeds).
ADD_VIEWER = f"""
import sys
from mirage_app.models import UserRole
from mirage_app.services import users
from tests.browser.seed_states import admin_actor
invitation = users.invite(admin_actor(sys.argv[1]), {VIEWER!r}, UserRole.viewer)
users.accept_invitation(invitation.token, {VIEWER_PASSWORD!r}, "pt-BR", "Leitora")
"""


def _language(page: Page, name: str, title: str) -> None:
    switch_language(page, name)
    expect(page.locator("#page-title")).to_have_text(title, timeout=30_000)


def _shots(page: Page, name: str) -> None:
    sideways = screenshot(page, "numbers", name)
    assert all(px <= 0 for px in sideways.values()), f"{name} scrolls sideways: {sideways}"


def test_numbers_page(running_app, admin, demo_loaded, admin_page: Page, browser, console_errors):
    page = admin_page
    run_beside_app(running_app, "-c", ADD_VIEWER, admin.email)

    page.goto(running_app.url + "/instances")
    expect(page.locator("#connect-number")).to_be_visible(timeout=30_000)
    expect(page.locator(".instance-card").first).to_be_visible(timeout=30_000)

    # A QR attempt closed without a scan ends: "Desconectado", with Connect again.
    page.locator("#connect-number").click()
    page.locator("#instance-label").fill(ABANDONED)
    page.locator("#instance-create").click()
    expect(page.locator("#qr-image")).to_be_visible(timeout=30_000)
    page.locator("#connect-dialog").get_by_role("button", name="Fechar").click()
    expect(page.locator("#connect-dialog")).to_be_hidden()
    abandoned = page.locator(".instance-card", has_text=ABANDONED)
    expect(abandoned).to_have_attribute("data-status", "disconnected", timeout=30_000)
    expect(abandoned.locator(".status-badge")).to_have_text("Desconectado")
    expect(abandoned.locator(".instance-connect")).to_have_text("Conectar")

    # Demo numbers have two weeks of history: not "day 1 of warm-up".
    demo = page.locator(".instance-card", has_text="Demo").first
    expect(demo).to_have_attribute("data-status", "connected", timeout=30_000)
    expect(demo.locator(".instance-warmup")).to_have_text("Aquecido")

    # Message times in the tenant's zone and the page's language.
    label = demo.locator(".instance-label").inner_text()
    demo.get_by_role("button", name="Mensagens").click()
    first = page.locator("#message-list .bubble").first
    expect(first).to_be_visible(timeout=30_000)
    # The demo conversation keeps writing: look up the message this bubble shows, not whatever is newest by now.
    body, shown = first.locator("[data-user-content]").text_content(), first.text_content()
    sent = app_db(
        running_app,
        "SELECT m.created_at, t.timezone FROM messages m JOIN numbers n ON n.id IN (m.from_number_id, m.to_number_id) "
        "JOIN tenants t ON t.id = n.tenant_id WHERE n.label = :label AND m.body = :body",
        label=label,
        body=body,
    )
    stamps = {formats.stamp(m.created_at, m.timezone, "pt-BR", now=datetime.now(UTC)) for m in sent}
    assert any(stamp in shown for stamp in stamps), f"{shown!r} shows none of {stamps} (the tenant's zone)"
    _shots(page, "pt-BR-messages")
    leaked = leaks(page_text(page), "pt-BR")
    assert leaked == [], leaked
    page.keyboard.press("Escape")
    expect(page.locator("#message-list")).to_be_hidden()

    # Deleting asks first and names what depends on the number; cancel leaves it.
    demo = page.locator(".instance-card", has_text=label)
    demo.locator(".instance-delete").click()
    dialog = page.locator("#number-delete-dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    expect(dialog).to_contain_text(f"Arquivar “{label}”?")
    expect(page.locator("#number-delete-impact")).to_contain_text(re.compile("conversa", re.IGNORECASE))
    expect(page.locator("#number-delete-impact")).to_contain_text(re.compile("mensagens", re.IGNORECASE))
    _shots(page, "pt-BR-confirm")
    dialog.get_by_role("button", name="Cancelar").click()
    expect(dialog).to_be_hidden()
    expect(demo).to_be_visible()

    # Confirm archives it: out of the list, under "Números arquivados", history kept.
    demo.locator(".instance-delete").click()
    page.locator("#number-delete-confirm").click()
    expect(page.locator(".instance-card", has_text=label)).to_have_count(0, timeout=30_000)
    page.locator("#archived-toggle").click()
    expect(page.locator("#archived-list")).to_contain_text(label)
    archived = app_db(running_app, "SELECT archived_at, server_id FROM numbers WHERE label = :label", label=label)[0]
    assert archived.archived_at is not None and archived.server_id is None

    # A number without history is erased.
    abandoned.locator(".instance-delete").click()
    expect(dialog).to_contain_text(f"Excluir “{ABANDONED}”?")
    page.locator("#number-delete-confirm").click()
    expect(page.locator(".instance-card", has_text=ABANDONED)).to_have_count(0, timeout=30_000)
    assert app_db(running_app, "SELECT id FROM numbers WHERE label = :label", label=ABANDONED) == []

    page.wait_for_timeout(800)
    leaked = leaks(page_text(page), "pt-BR")
    assert leaked == [], leaked
    _shots(page, "pt-BR")
    _language(page, "English", catalog("en")["page.instances.title"])
    expect(page.locator("#archived-toggle")).to_contain_text("Archived numbers")
    _shots(page, "en")
    leaked = leaks(page_text(page), "en")
    assert leaked == [], leaked
    _language(page, "Português (Brasil)", catalog("pt-BR")["page.instances.title"])

    # A viewer, in a browser of their own, reads the same page with no control that changes anything.
    with browser.new_context() as context:
        viewer = context.new_page()
        sign_in(viewer, running_app, VIEWER, VIEWER_PASSWORD)
        viewer.goto(running_app.url + "/instances")
        expect(viewer.locator(".instance-card").first).to_be_visible(timeout=30_000)
        expect(viewer.locator("#user-role")).to_have_text("Leitor")  # the role is known: controls follow it
        for control in (
            "#connect-number",
            ".instance-delete",
            ".instance-connect",
            ".instance-persona",
            "[aria-label=rename]",
        ):
            expect(viewer.locator(control)).to_have_count(0)
        expect(viewer.locator(".instance-card").first.get_by_role("button", name="Desconectar")).to_have_count(0)
    assert console_errors == []

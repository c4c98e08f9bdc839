"""Alert channels in a real browser: an admin adds a webhook channel and an e-mail channel on Settings → Alerts
(a bad URL and a bad port are refused under their fields), copies the webhook's secret shown once, presses "send a
test alert" on each, and both local receivers get it (the webhook signed with that secret); the deliveries are
listed; then both channels are removed. Screenshots at desktop and phone width go to
tests/browser/screenshots/alerts/ (git-ignored)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.conftest import wait_for
from tests.fakes.alert_receiver import AlertReceiver
from tests.fakes.smtp_server import FakeSMTP

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOOK = "Plantão webhook"
MAIL = "Plantão e-mail"


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    r = AlertReceiver().start()
    yield r
    r.stop()


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    server = FakeSMTP().start()
    yield server
    server.stop()


def _choose(page: Page, trigger: str, option: re.Pattern) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option).click()


def test_configure_channels_and_send_test_alerts(running_app, admin_page: Page, receiver, smtp, console_errors):
    page, url = admin_page, running_app.url
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(url + "/settings?tab=alerts")
    card = page.locator("#alerts-card")
    expect(card).to_be_visible(timeout=30_000)
    expect(page.locator("#alert-deliveries-empty")).to_be_visible(timeout=30_000)

    # A webhook: a bad address is refused under the URL box, a good one is saved and its secret shown once.
    page.locator("#alert-add-name").fill(HOOK)
    page.locator("#alert-add-url").fill("ftp://hooks.example.com")
    page.locator("#alert-add-submit").click()
    expect(page.locator("#alert-add-url-error")).to_be_visible(timeout=30_000)
    page.locator("#alert-add-url").fill(receiver.url)
    page.locator("#alert-add-submit").click()
    hook = page.locator(".alert-channel", has_text=HOOK)
    expect(hook).to_be_visible(timeout=30_000)
    secret = page.locator("#alert-new-secret").inner_text().strip()
    assert len(secret) >= 32

    # An e-mail channel: a port out of range is refused under the port box.
    _choose(page, "#alert-add-kind", re.compile("^E-mail$"))
    expect(page.locator("#alert-add-host")).to_be_visible(timeout=30_000)  # the form is drawn again for the kind
    page.locator("#alert-add-name").fill(MAIL)
    page.locator("#alert-add-host").fill("127.0.0.1")
    page.locator("#alert-add-port").fill("70000")
    _choose(page, "#alert-add-tls", re.compile("local"))
    page.locator("#alert-add-sender").fill("mirage@ops.test")
    page.locator("#alert-add-recipients").fill("ana@ops.test, bruno@ops.test")
    page.locator("#alert-add-submit").click()
    expect(page.locator("#alert-add-port-error")).to_be_visible(timeout=30_000)
    page.locator("#alert-add-port").fill(str(smtp.port))
    page.locator("#alert-add-submit").click()
    mail = page.locator(".alert-channel", has_text=MAIL)
    expect(mail).to_be_visible(timeout=30_000)
    expect(page.locator("#alert-add-port-error")).to_have_count(0)

    # "Send a test alert" on each: a toast says it went, both receivers have it.
    hook.locator(".alert-test").click()
    expect(page.locator("[data-sonner-toast]", has_text="200")).to_be_visible(timeout=30_000)
    assert wait_for(lambda: len(receiver.requests) == 1)
    request = receiver.requests[0]
    signed = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Mirage-Signature"] == signed
    assert json.loads(request.body)["kind"] == "test"

    mail.locator(".alert-test").click()
    expect(page.locator("[data-sonner-toast]", has_text="250")).to_be_visible(timeout=30_000)
    assert wait_for(lambda: len(smtp.inbox) == 1)
    assert smtp.inbox[0]["To"] == "ana@ops.test, bruno@ops.test"
    assert smtp.inbox[0]["Subject"] in ("Mirage: alerta de teste", "Mirage: test alert")

    rows = page.locator("#alert-deliveries .alert-delivery")
    expect(rows).to_have_count(2, timeout=30_000)
    expect(page.locator("#alert-deliveries [data-status='sent']")).to_have_count(2)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=30_000)
    sideways = screenshot(page, "alerts", "channels", settle_ms=800, part=card)
    assert all(px <= 1 for px in sideways.values()), sideways

    # Removing asks once more, then the channel is gone.
    for channel in (HOOK, MAIL):
        row = page.locator(".alert-channel", has_text=channel)
        row.locator(".alert-remove").click()
        row.locator(".alert-remove-confirm").click()
        expect(page.locator(".alert-channel", has_text=channel)).to_have_count(0, timeout=30_000)
    assert console_errors == []

"""Issue 6 in a real browser: import contacts from CSV, create and activate a policy, and watch targets move
through their states in demo mode while simulated people reply and one opts out."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import daytime_zone, engine_friendly_tenant
from tests.browser.test_conversation_live import _connect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CSV = (
    "telefone;nome;consentimento;origem;tags\n"
    "(11) 96543-2100;Olga Optout;sim;formulário do site;teste\n"
    "11 96543-2101;Rui Responde;sim;formulário do site;teste\n"
    "+55 11 6543-2102;Sem Nove;sim;evento;teste\n"
    "123;Número Ruim;sim;site;teste\n"
    "11965432103;Sem Consentimento;não;site;teste\n"
)


def test_import_policy_and_targets_move(running_app, admin_mfa, admin_page: Page, tmp_path):
    page, url = admin_page, running_app.url
    sim = running_app.runtime()["EVOLUTION_URL"]
    # The simulated people behind the imported numbers: Olga opts out, the others answer.
    httpx.post(
        f"{sim}/_sim/humans",
        json={"phone": "5511965432100", "name": "Olga", "reply_probability": 0.0, "optout_probability": 1.0},
        timeout=5,
    ).raise_for_status()
    for phone in ("5511965432101", "5511965432102"):
        httpx.post(
            f"{sim}/_sim/humans",
            json={"phone": phone, "name": "Rui", "reply_probability": 1.0, "optout_probability": 0.0},
            timeout=5,
        ).raise_for_status()

    csv_file = tmp_path / "contatos.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.goto(url + "/contacts")
    page.locator("#csv-upload input[type=file]").set_input_files(str(csv_file))
    expect(page.locator("#import-summary")).to_be_visible(timeout=30_000)
    expect(page.locator("#import-errors")).to_contain_text("5")  # the bad number, reported with its line
    expect(page.locator("#contacts-table")).to_contain_text("+5511965432102")  # 9th digit added

    _connect(page, url, "Prospecção")
    # Midday in the tenant's zone, so every daypart of the policy is reachable whatever hour the suite runs at.
    engine_friendly_tenant(page, running_app, daytime_zone())

    page.goto(url + "/outreach/policies")
    page.locator("#policy-new").click()
    page.locator("#policy-number").select_option(label="Prospecção")
    page.get_by_role("button", name="Noite").click()  # every daypart
    page.locator("#policy-min_gap_minutes").fill("0")
    page.locator("#policy-hourly_limit").fill("10")
    page.locator("#policy-save").click()
    card = page.locator(".policy-card", has_text="Prospecção")
    expect(card).to_be_visible(timeout=30_000)

    page.goto(url + "/outreach/targets")
    form = page.locator("form", has=page.locator("#targets-add"))
    form.locator("select[name=policy_id]").select_option(label="Prospecção")
    form.locator("select[name=tag]").select_option(label="teste")
    page.locator("#targets-add").click()
    page.locator('select[aria-label="policy"]').select_option(label="Prospecção")  # other tests' targets aside
    expect(page.locator(".target-row")).to_have_count(3, timeout=30_000)  # the one without consent is skipped

    page.goto(url + "/outreach/policies")
    page.locator(".policy-card", has_text="Prospecção").locator(".policy-active").click()
    expect(page.get_by_text("Política ativada", exact=False)).to_be_visible(timeout=30_000)  # before moving on
    page.goto(url + "/outreach/targets")
    page.locator('select[aria-label="policy"]').select_option(label="Prospecção")
    expect(page.locator('.target-row[data-status="optout"]')).to_have_count(1, timeout=200_000)
    expect(page.locator('.target-row[data-status="in_progress"], .target-row[data-status="done"]').first).to_be_visible(
        timeout=200_000
    )

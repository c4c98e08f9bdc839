"""Issue 13 on /personas, /contacts and /outreach/*, in a real browser: a persona an active policy writes as cannot
be deleted (the dialog names the policy; once the policy is off the persona goes and the policy never reads
"Persona: —"); a contact is deleted only after a confirmation that says its messages stay; a contact typed by hand
has a legal basis and a source, with errors beside their field; a bad CSV row reads with its placeholders filled;
targets' last contact is in the tenant's zone; viewers read policies without controls; screenshots at 1440 and
390 px in both languages (tests/browser/screenshots/outreach/, git-ignored).

The data is written by this module's `seed` in its own process against the app's database (`python -m
tests.browser.test_outreach_pages <admin email>`), the way `seed_states` does.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from mirage_app.i18n import formats
from tests.browser.conftest import run_beside_app, screenshot, set_language_cookie, sign_in
from tests.browser.raw_text import leaks, page_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ZONE = "America/Sao_Paulo"
VIEWER_EMAIL = "vivi.outreach@mirage.local"
VIEWER_PASSWORD = "Viewer-Outreach-2026!"
CSV = (
    "telefone;nome;consentimento;base legal;origem\n"
    "11 96543-0001;Boa;sim;contrato;loja\n"
    "abc;Letras;sim;;\n"
    "11 96543-0003;Talvez;talvez;;\n"
    "11 96543-0004;Base;sim;achismo;site\n"
)


# -- seed (runs in its own process with the app's runtime environment) --------------------------------------------


def seed(admin_email: str) -> dict:
    from sqlalchemy import text

    from mirage_app.core.db import tenant_session
    from mirage_app.models import UserRole
    from mirage_app.services import contacts, outreach, personas, users
    from tests.browser.seed_states import admin_actor
    from tests.conftest import make_number

    actor = admin_actor(admin_email)
    ana = personas.create_persona(actor, name="Ana Prospecção", style="Animada", greeting_morning="Bom dia!",
                                  traits={"age": 29, "emoji_use": "medium", "typical_length": "short"})  # fmt: skip
    personas.create_persona(actor, name="Bruno Lima", locale="en", traits={"emoji_use": "low"})
    with tenant_session(actor.tenant_id) as s:
        s.execute(text("UPDATE tenants SET timezone = :z"), {"z": ZONE})
        s.commit()
    numbers = {"Vendas": make_number(actor.tenant_id, "Vendas"),
               "Suporte": make_number(actor.tenant_id, "Suporte", persona_id=ana.id)}  # fmt: skip
    policy = outreach.create_policy(actor, number_id=str(numbers["Vendas"]), persona_id=str(ana.id))
    outreach.create_policy(actor, number_id=str(numbers["Suporte"]))  # no persona of its own: the number's
    carla = contacts.create_contact(actor, "+5511987650101", "Carla", consent_status="granted",
                                    consent_basis="legitimate_interest", consent_source="feira")  # fmt: skip
    contacts.create_contact(actor, "+5511987650102", "Duda")
    outreach.add_targets(actor, policy.id, [carla.id])
    # Outreach wrote to Carla once (done: the running engine leaves her alone), three days ago at 21:28 in the
    # tenant's zone (00:28 the next day in UTC).
    contacted = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=28, second=0, microsecond=0)
    with tenant_session(actor.tenant_id) as s:
        target = s.execute(text("SELECT id FROM outreach_targets WHERE contact_id = :c"), {"c": carla.id}).scalar()
        s.execute(
            text("UPDATE outreach_targets SET last_contact_at = :at, rounds_done = 1, status = 'done' "
                 "WHERE id = :t"),
            {"at": contacted, "t": target},
        )  # fmt: skip
        s.execute(
            text("INSERT INTO messages (tenant_id, from_number_id, contact_id, direction, body, status, meta, "
                 "created_at, sent_at) VALUES (:tn, :n, :c, 'out', 'Oi Carla!', 'read', :meta, :at, :at)"),
            {"tn": actor.tenant_id, "n": numbers["Vendas"], "c": carla.id, "at": contacted,
             "meta": json.dumps({"app_origin": "outreach", "outreach_target_id": str(target)})},
        )  # fmt: skip
        s.commit()
    outreach.activate_policy(actor, policy.id)
    invitation = users.invite(actor, VIEWER_EMAIL, UserRole.viewer)
    users.accept_invitation(invitation.token, VIEWER_PASSWORD, "pt-BR", "Vivi")
    return {"contacted": contacted.isoformat()}


@pytest.fixture(scope="module")
def seeded(running_app, admin_settled) -> dict:
    return run_beside_app(running_app, "-m", "tests.browser.test_outreach_pages", admin_settled.email)


# -- helpers ---------------------------------------------------------------------------------------------------------


def _no_raw_text(page: Page, code: str = "pt-BR") -> None:
    leaked = leaks(page_text(page), code)
    assert leaked == [], leaked


# -- tests -----------------------------------------------------------------------------------------------------------


def test_targets_last_contact_reads_in_the_tenant_zone(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    contacted = datetime.fromisoformat(seeded["contacted"])
    page.goto(url + "/outreach/targets")
    row = page.locator(".target-row", has_text="Carla")
    expect(row).to_contain_text(formats.stamp(contacted, ZONE, "pt-BR"), timeout=30_000)  # "3 dez 21:28"
    assert "00:28" not in row.inner_text()
    expect(row).to_contain_text("Concluído")
    _no_raw_text(page)


def test_a_persona_an_active_policy_writes_as_is_refused_then_goes_once_the_policy_is_off(
    running_app, admin_page: Page, seeded
):
    page, url = admin_page, running_app.url
    page.goto(url + "/personas")
    ana = page.locator(".persona-card", has_text="Ana Prospecção")
    expect(ana).to_contain_text("1 número usa esta persona", timeout=30_000)
    ana.locator(".persona-delete").click()
    impact = page.locator("#persona-delete-impact")
    expect(impact).to_contain_text("A política de prospecção de “Vendas” está ativa")
    expect(impact).to_contain_text("O número “Suporte” continua funcionando")
    expect(page.locator("#persona-delete-confirm")).to_have_count(0)  # refused: nothing to confirm
    screenshot(page, "outreach", "persona-delete-refused-pt")
    page.get_by_role("button", name="Cancelar").click()

    page.goto(url + "/outreach/policies")
    vendas = page.locator(".policy-card", has_text="Vendas")
    expect(vendas.locator(".policy-persona")).to_contain_text("Ana Prospecção", timeout=30_000)
    expect(page.locator(".policy-card", has_text="Suporte").locator(".policy-persona")).to_contain_text(
        "persona do número (Ana Prospecção)"
    )
    vendas.locator(".policy-active").click()
    expect(page.get_by_text("Política desativada.")).to_be_visible(timeout=30_000)

    page.goto(url + "/personas")
    page.locator(".persona-card", has_text="Ana Prospecção").locator(".persona-delete").click()
    expect(page.locator("#persona-delete-impact")).to_contain_text("(inativa) passa a escrever com a persona")
    page.locator("#persona-delete-confirm").click()
    expect(page.get_by_text("Persona excluída.")).to_be_visible(timeout=30_000)
    expect(page.locator(".persona-card", has_text="Ana Prospecção")).to_have_count(0)

    page.goto(url + "/outreach/policies")
    vendas = page.locator(".policy-card", has_text="Vendas")
    expect(vendas.locator(".policy-persona")).to_contain_text("sem persona: escreve como “Vendas”", timeout=30_000)
    expect(vendas.locator(".policy-active")).to_have_attribute("data-state", "unchecked")
    assert "Persona: —" not in page.locator("#policy-grid").inner_text()
    _no_raw_text(page)


def test_a_contact_typed_by_hand_has_a_legal_basis_and_a_source(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    page.goto(url + "/contacts")
    page.locator("#contact-new").click()
    page.locator("#contact-wa_number").fill("11 96543-9999")
    page.locator("#contact-display_name").fill("Helena")
    page.locator("#contact-consent").get_by_role("radio", name="Consentiu").click()
    page.locator("#contact-basis").click()
    page.get_by_role("option", name="Legítimo interesse").click()
    page.locator("#contact-save").click()
    # Consent without a source: refused the way a CSV row is, the message beside the source field.
    expect(page.locator("#contact-source-error")).to_contain_text("Origem do consentimento", timeout=30_000)
    expect(page.locator("#contact-source")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#contact-error")).to_have_count(0)
    screenshot(page, "outreach", "contact-source-error-pt")
    page.locator("#contact-source").fill("feira de março")
    page.locator("#contact-save").click()
    expect(page.get_by_text("Contato salvo.")).to_be_visible(timeout=30_000)
    row = page.locator("#contacts-table tbody tr", has_text="Helena")
    expect(row).to_contain_text("Legítimo interesse · feira de março · desde")
    _no_raw_text(page)


def test_a_contact_is_deleted_after_a_confirmation_that_keeps_its_messages(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    page.goto(url + "/contacts")
    carla = page.locator("#contacts-table tbody tr", has_text="Carla")
    expect(carla).to_contain_text("Legítimo interesse · feira", timeout=30_000)
    carla.locator(".contact-delete").click()
    dialog = page.locator("#contact-delete-dialog")
    expect(dialog).to_contain_text("Excluir “Carla”?")
    expect(dialog).to_contain_text("Mensagens trocadas (1) ficam no histórico")
    expect(dialog).to_contain_text("Sai da fila de prospecção de “Vendas”")
    screenshot(page, "outreach", "contact-delete-pt")
    page.get_by_role("button", name="Cancelar").click()
    expect(carla).to_have_count(1)
    carla.locator(".contact-delete").click()
    page.locator("#contact-delete-confirm").click()
    expect(page.get_by_text("Contato excluído.")).to_be_visible(timeout=30_000)
    expect(page.locator("#contacts-table tbody tr", has_text="Carla")).to_have_count(0)


def test_a_bad_csv_row_reads_with_its_placeholders_filled(running_app, admin_page: Page, seeded, tmp_path):
    page, url = admin_page, running_app.url
    csv_file = tmp_path / "contatos.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.goto(url + "/contacts")
    page.locator("#csv-upload input[type=file]").set_input_files(str(csv_file))
    errors = page.locator("#import-errors")
    expect(errors).to_be_visible(timeout=30_000)
    expect(errors).to_contain_text("Não é um número de WhatsApp válido (tem letras ou símbolos).")
    expect(errors).to_contain_text("Valor de consentimento desconhecido: “talvez”")
    expect(errors).to_contain_text("Base legal desconhecida: “achismo”.")
    assert "{" not in errors.inner_text() and "!r" not in errors.inner_text()
    expect(page.locator("#import-summary")).to_contain_text("Novos: 1")
    screenshot(page, "outreach", "csv-errors-pt")


def test_viewers_read_outreach_pages_without_controls(running_app, page: Page, seeded):
    url = running_app.url
    sign_in(page, running_app, VIEWER_EMAIL, VIEWER_PASSWORD)
    page.goto(url + "/outreach/policies")
    expect(page.locator(".policy-card").first).to_be_visible(timeout=30_000)
    expect(page.locator("#policy-new")).to_have_count(0)
    expect(page.locator(".policy-delete")).to_have_count(0)
    expect(page.locator(".policy-card").get_by_role("button", name="Editar")).to_have_count(0)
    for switch in page.locator(".policy-active").all():
        expect(switch).to_be_disabled()
    screenshot(page, "outreach", "policies-viewer-pt")
    page.goto(url + "/personas")
    expect(page.locator(".persona-card").first).to_be_visible(timeout=30_000)
    expect(page.locator("#persona-new")).to_have_count(0)
    expect(page.locator(".persona-delete")).to_have_count(0)
    page.goto(url + "/contacts")
    expect(page.locator("#contacts-table")).to_be_visible(timeout=30_000)
    expect(page.locator("#contact-new")).to_have_count(0)
    expect(page.locator("#csv-upload")).to_have_count(0)
    expect(page.locator(".contact-delete")).to_have_count(0)
    page.goto(url + "/outreach/targets")
    expect(page.locator("#targets-add")).to_have_count(0)


def test_screenshots_in_both_languages(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    for code in ("pt-BR", "en"):
        set_language_cookie(page, url, code)
        for path, ready in (
            ("/personas", "#persona-grid"),
            ("/contacts", "#contacts-table"),
            ("/outreach/policies", "#policy-grid"),
            ("/outreach/targets", "#target-tabs"),
        ):
            page.goto(url + path)
            expect(page.locator(ready)).to_be_visible(timeout=30_000)
            _no_raw_text(page, code)
            screenshot(page, "outreach", f"{path.strip('/').replace('/', '-')}-{code}")
        page.goto(url + "/personas")
        page.locator("#persona-new").click()
        expect(page.locator("#persona-name")).to_be_visible()
        screenshot(page, "outreach", f"persona-editor-{code}")
        page.keyboard.press("Escape")
        page.goto(url + "/contacts")
        page.locator("#contact-new").click()
        expect(page.locator("#contact-wa_number")).to_be_visible()
        screenshot(page, "outreach", f"contact-editor-{code}")
        page.keyboard.press("Escape")
    set_language_cookie(page, url, "pt-BR")


if __name__ == "__main__":
    print(json.dumps(seed(sys.argv[1])))

"""Contacts: CRUD, consent records, suppression, CSV import (line numbers, BR ninth digit, no half rows), export."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.engine import suppression
from mirage_app.models import UserRole
from mirage_app.services import contacts


def _actor(tenant, role=UserRole.admin, mfa=True) -> Actor:
    return Actor(tenant_id=tenant, role=role, label=f"{role.value}@test", mfa_enabled=mfa)


@pytest.fixture
def admin(tenant_a) -> Actor:
    return _actor(tenant_a)


@pytest.fixture
def operator(tenant_a) -> Actor:
    return _actor(tenant_a, UserRole.operator, mfa=False)


def _count(tenant, sql: str, **params) -> int:
    with tenant_session(tenant) as s:
        return s.execute(text(sql), params).scalar()


def test_crud_consent_and_the_ninth_digit(operator, tenant_b):
    c = contacts.create_contact(operator, "(11) 8765-4321", "  Maria   Silva ", tags="vip, sp ,VIP", notes="cliente")
    assert c.wa_number == "+5511987654321"  # old 8-digit mobile → canonical with the 9
    assert c.display_name == "Maria Silva" and c.tags == ["vip", "sp"]
    assert c.consent_status == "unknown" and not c.contactable
    with pytest.raises(Conflict) as taken:
        contacts.create_contact(operator, "+55 11 98765-4321")  # the same person, other spelling
    assert taken.value.field == "wa_number"
    with pytest.raises(ValidationFailed) as bad:
        contacts.create_contact(operator, "12345")
    assert bad.value.field == "wa_number" and bad.value.status == 422

    with pytest.raises(ValidationFailed) as no_source:
        contacts.set_consent(operator, c.id, basis="consent", source=" ")
    assert no_source.value.field == "consent_source"
    with pytest.raises(ValidationFailed) as no_basis:
        contacts.set_consent(operator, c.id, basis="because", source="site")
    assert no_basis.value.field == "consent_basis"
    granted = contacts.set_consent(operator, c.id, basis="legitimate_interest", source="formulário do site")
    assert granted.consent_status == "granted" and granted.consent_basis == "legitimate_interest"
    assert granted.consent_source == "formulário do site" and granted.consent_at is not None and granted.contactable

    updated = contacts.update_contact(operator, c.id, display_name="Maria S.", tags=["novo"], notes="")
    assert (updated.display_name, updated.tags, updated.notes) == ("Maria S.", ["novo"], "")
    assert updated.wa_number == "+5511987654321"
    revoked = contacts.revoke_consent(operator, c.id, source="pediu por telefone")
    assert revoked.consent_status == "revoked" and not revoked.contactable

    other = _actor(tenant_b)
    with pytest.raises(NotFound):
        contacts.get_contact(other, c.id)
    with pytest.raises(NotFound):
        contacts.update_contact(other, c.id, display_name="x")
    with pytest.raises(NotFound):
        contacts.delete_contact(other, c.id)
    assert contacts.get_contact(operator, c.id).display_name == "Maria S."

    viewer = _actor(operator.tenant_id, UserRole.viewer, mfa=False)
    with pytest.raises(PermissionDenied):
        contacts.create_contact(viewer, "+5511999990000")
    contacts.delete_contact(operator, c.id)
    with pytest.raises(NotFound):
        contacts.get_contact(operator, c.id)
    actions = _count(operator.tenant_id, "SELECT count(*) FROM audit_log WHERE action LIKE 'contact.%'")
    assert actions == 5  # create, consent grant, update, revoke, delete


def test_list_search_tags_consent_and_pages(operator):
    a = contacts.create_contact(operator, "+5511911110001", "Ana Souza", tags=["VIP", "sp"], consent_status="granted",
                                consent_source="evento")  # fmt: skip
    b = contacts.create_contact(operator, "+5521922220002", "Bruno", tags=["rj"], notes="prefere tarde")
    contacts.create_contact(operator, "+5531933330003", "Carla", tags=["vip"], consent_status="revoked")
    contacts.suppress(operator, "+5521922220002", "pediu")

    def names(**kw) -> list[str]:
        return sorted(c.display_name for c in contacts.list_contacts(operator, **kw).items)

    assert names(search="souza") == ["Ana Souza"]
    assert names(search="tarde") == ["Bruno"]
    assert names(search="(21) 2222-0002") == []  # a landline-looking spelling is not this mobile
    assert names(search="21 92222-0002") == ["Bruno"]
    assert names(search="1111") == ["Ana Souza"]
    assert names(tag="vip") == ["Ana Souza", "Carla"]  # case-insensitive
    assert names(tags=["vip", "sp"]) == ["Ana Souza"]
    assert names(consent="granted") == ["Ana Souza"]
    assert names(consent="contactable") == ["Ana Souza"]
    assert names(consent="suppressed") == ["Bruno"]
    assert names(consent="revoked") == ["Bruno", "Carla"]  # suppression revokes consent
    with pytest.raises(ValidationFailed):
        contacts.list_contacts(operator, consent="maybe")
    page = contacts.list_contacts(operator, limit=2, offset=0, sort="name", descending=False)
    assert page.total == 3 and [c.display_name for c in page.items] == ["Ana Souza", "Bruno"]
    assert [c.display_name for c in contacts.list_contacts(operator, limit=2, offset=2, sort="name",
                                                           descending=False).items] == ["Carla"]  # fmt: skip
    bruno = contacts.get_contact(operator, b.id)
    assert bruno.suppressed and bruno.suppression_reason == "pediu" and bruno.opted_out_at is not None
    assert set(contacts.all_tags(operator)) == {"VIP", "sp", "rj", "vip"}
    assert contacts.get_contact(operator, a.id).contactable


CSV_PT = (
    "Nome;Telefone;Tags;Consentimento;Base legal;Origem;Notas\n"  # line 1
    "Ana;(11) 98765-4321;vip|sp;sim;consentimento;site;primeira\n"  # line 2: good
    "Ana de novo;11 8765-4321;;sim;;;\n"  # line 3: same person without the 9 → duplicate
    "Bia;abc;;sim;;;\n"  # line 4: letters → invalid phone
    "Caio;+55 21 99999-0001;rj;talvez;;;\n"  # line 5: bad consent value → whole row refused
    "\n"  # line 6: blank, skipped
    'Duda;21 99999-0002;;não;;;"nota com\nduas linhas"\n'  # lines 7-8: quoted newline
    "Edu;;;sim;;;\n"  # line 9: no phone
    "Fabi;31 98888-0003;;sim;contrato;loja;;extra\n"  # line 10: more values than columns
    "Gabi;31 98888-0004;;sim;interesse legítimo;;\n"  # line 11: good, default source
)


def test_import_reports_each_bad_row_with_its_line_and_writes_no_half_row(operator):
    calls: list[tuple[int, int]] = []
    report = contacts.import_csv(operator, CSV_PT.encode(), progress=lambda done, total: calls.append((done, total)))
    assert report.delimiter == ";"
    assert (report.imported, report.updated, report.duplicates, report.failed) == (3, 0, 1, 4)
    assert report.duplicate_rows == [{"line": 3, "first_line": 2, "wa_number": "+5511987654321"}]
    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "invalid_phone"),
        (5, "consent_invalid"),
        (9, "missing_phone"),
        (10, "extra_columns"),
    ]
    assert report.errors[0].raw.startswith("Bia;abc") and report.errors[0].message
    assert calls[0] == (0, 8) and calls[-1] == (8, 8)

    rows = {c.wa_number: c for c in contacts.list_contacts(operator, limit=50).items}
    assert set(rows) == {"+5511987654321", "+5521999990002", "+5531988880004"}
    ana = rows["+5511987654321"]
    assert ana.display_name == "Ana" and ana.tags == ["vip", "sp"] and ana.consent_status == "granted"
    assert (ana.consent_basis, ana.consent_source, ana.notes) == ("consent", "site", "primeira")
    assert (
        rows["+5521999990002"].consent_status == "revoked" and rows["+5521999990002"].notes == "nota com\nduas linhas"
    )
    gabi = rows["+5531988880004"]
    assert (gabi.consent_basis, gabi.consent_source) == ("legitimate_interest", "csv import")
    # Caio (bad consent) wrote nothing at all, not even the contact without consent.
    assert _count(operator.tenant_id, "SELECT count(*) FROM contacts WHERE wa_number = '+5521999990001'") == 0


def test_import_updates_known_contacts_and_reads_english_comma_files(operator):
    contacts.create_contact(operator, "+5511987650000", "Old name", tags=["a"], notes="keep")
    data = (
        "phone,name,tags,consent,basis,source,consent_at\r\n"
        "11 8765-0000,New name,b,yes,contract,fair,2024-05-01 10:00\r\n"
        '"+1 650-253-0000","Google, Inc.",us,no,,,\r\n'
    ).encode("cp1252")
    report = contacts.import_csv(operator, data)
    assert (report.imported, report.updated, report.failed, report.delimiter) == (1, 1, 0, ",")
    known = contacts.list_contacts(operator, search="New name").items[0]
    assert known.tags == ["a", "b"] and known.notes == "keep" and known.consent_basis == "contract"
    assert known.consent_at.isoformat().startswith("2024-05-01T13:00")  # wall time in São Paulo (UTC-3)
    assert contacts.list_contacts(operator, search="Google").items[0].wa_number == "+16502530000"


def test_import_refuses_files_it_cannot_read(operator):
    for data, code in (
        (b"", "contacts.csv_empty"),
        (b"nome;email\nAna;a@b.c\n", "contacts.csv_no_phone_column"),
        (b"x" * (contacts.MAX_IMPORT_BYTES + 1), "contacts.csv_too_large"),
    ):
        with pytest.raises(ValidationFailed) as err:
            contacts.import_csv(operator, data)
        assert err.value.code == code and err.value.field == "file"


def test_suppressed_numbers_cannot_get_consent_back(operator, admin):
    c = contacts.create_contact(operator, "+5511977776666", "Zé", consent_status="granted", consent_source="site")
    contacts.suppress(operator, "11 97777-6666", "pediu para sair")
    assert suppression.is_suppressed(operator.tenant_id, "+55 11 7777-6666")  # spelling without the 9 matches too
    after = contacts.get_contact(operator, c.id)
    assert after.consent_status == "revoked" and after.suppressed
    with pytest.raises(Conflict):
        contacts.set_consent(operator, c.id, source="site")
    report = contacts.import_csv(operator, "telefone,consentimento\n11977776666,sim\n")
    assert [(e.line, e.reason) for e in report.errors] == [(2, "suppressed")]
    with pytest.raises(PermissionDenied):
        contacts.lift_suppression(operator, "+5511977776666")  # operators cannot re-open a number
    with pytest.raises(PermissionDenied):
        contacts.lift_suppression(_actor(admin.tenant_id, mfa=False), "+5511977776666")
    contacts.lift_suppression(admin, "+5511977776666")
    assert contacts.set_consent(operator, c.id, source="pediu para voltar").contactable
    contacts.delete_contact(operator, c.id)
    contacts.suppress(operator, "+5511977776666")
    assert contacts.list_suppressions(operator)[1] == 1


def test_export_needs_an_admin_with_mfa_and_imports_back(operator, admin, make_tenant):
    contacts.create_contact(operator, "+5511955554444", "=HYPERLINK(\"x\")", tags=["vip", "sp"],
                            consent_status="granted", consent_source="site", notes="+1 nota")  # fmt: skip
    contacts.create_contact(operator, "+5511955553333", "Lia")
    with pytest.raises(PermissionDenied) as role:
        contacts.export_csv(operator)
    assert role.value.reason == "role"
    with pytest.raises(PermissionDenied) as mfa:
        contacts.export_csv(_actor(admin.tenant_id, mfa=False))
    assert mfa.value.reason == "mfa_required"
    exported = contacts.export_csv(admin)
    lines = exported.strip().splitlines()
    assert lines[0].startswith("phone,name,tags,consent,basis,source,consent_at,notes")
    assert "'=HYPERLINK" in exported and "'+1 nota" in exported  # formulas neutralised
    assert _count(admin.tenant_id, "SELECT count(*) FROM audit_log WHERE action = 'contacts.export'") == 1

    other = _actor(make_tenant())
    report = contacts.import_csv(other, exported)
    assert (report.imported, report.failed) == (2, 0)
    copied = {c.wa_number: c for c in contacts.list_contacts(other).items}
    assert copied["+5511955554444"].tags == ["vip", "sp"] and copied["+5511955554444"].consent_status == "granted"
    assert copied["+5511955553333"].consent_status == "unknown"


def test_bulk_tags(operator):
    ids = [contacts.create_contact(operator, f"+55119000000{i:02d}", f"C{i}").id for i in range(3)]
    assert contacts.add_tags(operator, ids, ["promo"]) == 3
    assert contacts.add_tags(operator, ids, "PROMO") == 0  # already there (case-insensitive)
    assert contacts.remove_tags(operator, ids[:2], ["promo"]) == 2
    assert [c.tags for c in contacts.list_contacts(operator, tag="promo").items] == [["promo"]]
    assert contacts.add_tags(operator, [uuid.uuid4()], ["x"]) == 0


def test_export_times_are_in_the_tenants_zone_and_say_it(admin):
    with tenant_session(admin.tenant_id) as s:
        s.execute(text("UPDATE tenants SET timezone = 'America/Sao_Paulo'"))
        s.commit()
    contacts.create_contact(admin, "+5511955552222", "Rui", consent_status="granted", consent_source="site")
    header, row = contacts.export_csv(admin).strip().splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["timezone"] == "America/Sao_Paulo"
    assert values["created_at"].endswith("-03:00") and values["consent_at"].endswith("-03:00")


def test_the_form_and_the_csv_share_one_rule_for_basis_and_source(operator):
    typed = contacts.create_contact(operator, "+5511955551111", "Eva", consent_status="granted",
                                    consent_basis="Legítimo interesse", consent_source="  feira   2026 ")  # fmt: skip
    assert (typed.consent_basis, typed.consent_source) == ("legitimate_interest", "feira 2026")
    with pytest.raises(ValidationFailed) as bad:
        contacts.create_contact(operator, "+5511955551112", "Ivo", consent_status="granted",
                                consent_basis="achismo", consent_source="site")  # fmt: skip
    assert bad.value.field == "consent_basis"
    report = contacts.import_csv(operator, "telefone;consentimento;base legal;origem\n11955551113;sim;achismo;x\n"
                                           f"11955551114;sim;contrato;{'y' * 201}\n11955551115;talvez;;\n")  # fmt: skip
    assert [(e.reason, e.params) for e in report.errors] == [
        ("basis_invalid", {"value": "achismo"}),
        ("source_too_long", {}),
        ("consent_invalid", {"value": "talvez"}),
    ]
    assert "{" not in report.errors[0].message and "achismo" in report.errors[0].message

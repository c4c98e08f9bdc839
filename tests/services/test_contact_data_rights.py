"""A contact's data rights (issue 18): the append-only consent history written by every path, one person's export
(JSON and a zip of CSVs), and erasure that leaves no trace of their number or words but a keyed hash, which keeps
them suppressed."""

from __future__ import annotations

import csv
import io
import json
import secrets
import uuid
import zipfile
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mirage_app.base.errors import Conflict, NotFound, PermissionDenied
from mirage_app.base.permissions import Actor
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.core.security import number_hash
from mirage_app.engine import contact_guard, optout, outreach_scheduler, suppression
from mirage_app.engine.runtime import EngineRuntime, ManualDeferrer, use_runtime
from mirage_app.models import UserRole
from mirage_app.services import contacts, conversations, outreach
from tests.conftest import make_number
from tests.services.test_plaintext import _dump_database


def _actor(tenant, role=UserRole.admin, mfa=True) -> Actor:
    return Actor(tenant_id=tenant, role=role, label=f"{role.value}-{uuid.uuid4().hex[:4]}@test", mfa_enabled=mfa)


def _phone() -> str:
    """A number no other test uses (the scan reads every tenant's rows)."""
    return f"+55119{secrets.randbelow(10**8):08d}"


@pytest.fixture
def admin(tenant_a) -> Actor:
    return _actor(tenant_a)


@pytest.fixture
def operator(tenant_a) -> Actor:
    return _actor(tenant_a, UserRole.operator, mfa=False)


class _Sink:
    def __init__(self):
        self.jobs = []

    def enqueue(self, func, *args, job_id=None, queue="high"):
        self.jobs.append((func, args, job_id))


@pytest.fixture
def engine_runtime():
    """Monday 10:00 in São Paulo; jobs are held (nothing is sent)."""
    clock = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
    held = ManualDeferrer(immediate=ManualDeferrer.__new__(ManualDeferrer))
    held._immediate = _Sink()
    with use_runtime(EngineRuntime(clock=clock, deferrer=held, llm=lambda: None)) as rt:
        yield rt


def _history(tenant, contact_id) -> list[tuple[str, str | None, str]]:
    with tenant_session(tenant) as s:
        rows = s.execute(
            text("SELECT event, source, actor FROM consent_events WHERE contact_id = :c ORDER BY recorded_at, id"),
            {"c": contact_id},
        ).all()
    return [(r.event, r.source, r.actor) for r in rows]


def _inbound(tenant, number_id, contact_id, body, peer, push_name="") -> uuid.UUID:
    with tenant_session(tenant) as s:
        mid = s.execute(
            text(
                "INSERT INTO messages (tenant_id, wa_msg_id, direction, body, status, to_number_id, contact_id, meta) "
                "VALUES (:t, :wa, 'in', :b, 'delivered', :n, :c, CAST(:m AS jsonb)) RETURNING id"
            ),
            {"t": tenant, "wa": uuid.uuid4().hex.upper(), "b": body, "n": number_id, "c": contact_id,
             "m": json.dumps({"origin": "webhook", "peer": peer, "push_name": push_name})},
        ).scalar()  # fmt: skip
        s.commit()
    return mid


def _webhook(tenant, session_id, e164, body, push_name) -> None:
    """A raw Evolution payload as stored: the JID in the old 8-digit form, the text, the push name."""
    digits = e164.lstrip("+")
    jid = f"{digits[:4]}{digits[5:]}@s.whatsapp.net"
    payload = {"event": "messages.upsert", "instance": session_id,
               "data": {"key": {"remoteJid": jid, "fromMe": False, "id": uuid.uuid4().hex.upper()},
                        "pushName": push_name, "message": {"conversation": body}}}  # fmt: skip
    with tenant_session(tenant) as s:
        s.execute(
            text(
                "INSERT INTO webhook_events (tenant_id, session_id, event_type, payload, dedupe_key) "
                "VALUES (:t, :s, 'messages.upsert', CAST(:p AS jsonb), :k)"
            ),
            {"t": tenant, "s": session_id, "p": json.dumps(payload), "k": uuid.uuid4().hex},
        )
        s.commit()


# -- consent history --------------------------------------------------------------------------------------------


def test_every_consent_path_writes_the_history(admin, operator, tenant_a, engine_runtime):
    created = contacts.create_contact(operator, _phone(), "Ana", consent_status="granted", consent_source="feira")
    contacts.revoke_consent(operator, created.id, source="pediu por telefone")
    contacts.set_consent(operator, created.id, basis="contract", source="contrato assinado")
    assert _history(tenant_a, created.id) == [
        ("granted", "feira", operator.label),
        ("revoked", "pediu por telefone", operator.label),
        ("granted", "contrato assinado", operator.label),
    ]

    imported_phone = _phone()
    report = contacts.import_csv(operator, f"telefone;nome;consentimento\n{imported_phone};Bia;sim\n",
                                 default_source="planilha")  # fmt: skip
    assert report.imported == 1
    imported = contacts.list_contacts(operator, search=imported_phone).items[0]
    assert _history(tenant_a, imported.id) == [("granted", "planilha", operator.label)]

    contacts.suppress(operator, imported_phone, "pediu para sair")
    assert _history(tenant_a, imported.id)[-1] == ("revoked", "pediu para sair", operator.label)
    contacts.suppress(operator, imported_phone, "de novo")  # nothing changed: no second row
    assert len(_history(tenant_a, imported.id)) == 2

    number = make_number(tenant_a)
    person = contacts.create_contact(operator, _phone(), "Caio", consent_status="granted", consent_source="site")
    assert optout.check_optout(tenant_a, _inbound(tenant_a, number, person.id, "SAIR", person.wa_number)).new
    assert _history(tenant_a, person.id)[-1] == ("revoked", "optout:SAIR", "contact")

    stranger = _phone()  # an opt-out from someone never stored: created, then revoked, and the history says so
    assert optout.check_optout(tenant_a, _inbound(tenant_a, number, None, "PARAR", stranger)).new
    found = contacts.list_contacts(operator, search=stranger).items[0]
    assert found.consent_status == "revoked" and found.suppressed
    assert _history(tenant_a, found.id) == [("revoked", "optout:PARAR", "contact")]


def test_the_consent_history_cannot_be_changed_or_deleted(operator, tenant_a, services):
    c = contacts.create_contact(operator, _phone(), "Dora", consent_status="granted", consent_source="site")
    for statement in ("UPDATE consent_events SET source = 'forged' WHERE contact_id = :c",
                      "UPDATE consent_events SET wa_number = NULL, source = NULL WHERE contact_id = :c",
                      "DELETE FROM consent_events WHERE contact_id = :c"):  # fmt: skip
        with tenant_session(tenant_a) as s, pytest.raises(DBAPIError, match="permission denied"):
            s.execute(text(statement), {"c": c.id})
    # Not even the owner (no privilege check applies to it): the trigger refuses.
    with psycopg.connect(services.admin_url.replace("+psycopg", "")) as conn:
        for statement in ("UPDATE consent_events SET source = 'forged' WHERE contact_id = %s",
                          "DELETE FROM consent_events WHERE contact_id = %s"):  # fmt: skip
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_a),))
                conn.execute(statement, (c.id,))
            conn.rollback()
        with pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("TRUNCATE consent_events")
        conn.rollback()
    assert _history(tenant_a, c.id) == [("granted", "site", operator.label)]


def test_the_database_writes_the_history_on_a_real_change_only(operator, tenant_a):
    """Consent written behind the services' back is recorded too (by "system" when the writer named nobody);
    a write that changes no grant or revocation appends nothing."""
    c = contacts.create_contact(operator, _phone(), "Iris")
    assert _history(tenant_a, c.id) == []  # unknown consent: nothing to prove
    grant = ("UPDATE contacts SET consent_status = 'granted', consent_basis = 'consent', consent_source = 'balcão', "
             "consent_at = :at WHERE id = :c")  # fmt: skip
    at = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    with tenant_session(tenant_a) as s:
        s.execute(text(grant), {"c": c.id, "at": at})
        s.commit()
    with tenant_session(tenant_a) as s:
        s.execute(text(grant), {"c": c.id, "at": at})  # the same grant again
        s.execute(text("UPDATE contacts SET notes = 'outra coisa', display_name = 'Íris' WHERE id = :c"), {"c": c.id})
        s.commit()
    assert _history(tenant_a, c.id) == [("granted", "balcão", "system")]
    with tenant_session(tenant_a) as s:
        row = s.execute(text("SELECT basis, at, wa_number FROM consent_events WHERE contact_id = :c"),
                        {"c": c.id}).one()  # fmt: skip
    assert (row.basis, row.at, row.wa_number) == ("consent", at, c.wa_number)

    contacts.update_contact(operator, c.id, notes="mais uma")
    contacts.revoke_consent(operator, c.id, source="pediu")
    assert _history(tenant_a, c.id) == [("granted", "balcão", "system"), ("revoked", "pediu", operator.label)]


def test_an_erasure_cannot_rewrite_a_rows_basis_or_actor(operator, tenant_a, services):
    c = contacts.create_contact(operator, _phone(), "Jade", consent_status="granted", consent_source="site")
    with psycopg.connect(services.admin_url.replace("+psycopg", "")) as conn:
        for change in ("basis = 'contract'", "actor = 'someone else'"):
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_a),))
                conn.execute("SELECT set_config('mirage.consent_erasure', 'on', false)")
                conn.execute(
                    f"UPDATE consent_events SET wa_number = NULL, source = NULL, {change} WHERE contact_id = %s",
                    (c.id,),
                )
            conn.rollback()
    with tenant_session(tenant_a) as s:
        row = s.execute(text("SELECT basis, actor FROM consent_events WHERE contact_id = :c"), {"c": c.id}).one()
    assert (row.basis, row.actor) == ("consent", operator.label)


def test_existing_consent_becomes_the_first_history_row(services):
    from mirage_app.core import migrate

    name = f"mirage_consent_{uuid.uuid4().hex[:8]}"
    url = services.create_database(name)
    try:
        migrate.upgrade("0018", admin_url=url)
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            tenant = conn.execute(
                "INSERT INTO tenants (name, timezone, locale) VALUES ('Old', 'America/Sao_Paulo', 'pt-BR') RETURNING id"
            ).fetchone()[0]
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
            conn.execute(
                "INSERT INTO contacts (tenant_id, wa_number, display_name, notes, consent_status, consent_basis, "
                "consent_source, consent_at) VALUES (%s, '+5511900000001', '', '', 'granted', 'consent', 'site', "
                "now() - interval '9 days'), (%s, '+5511900000002', '', '', 'unknown', NULL, NULL, NULL)",
                (tenant, tenant),
            )
            conn.commit()
        migrate.upgrade(admin_url=url)
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
            rows = conn.execute("SELECT wa_number, event, basis, source, actor FROM consent_events").fetchall()
        assert rows == [("+5511900000001", "granted", "consent", "site", "migration")]
    finally:
        services.drop_database(name)


# -- export and erasure -----------------------------------------------------------------------------------------


def _person_with_history(admin, operator, tenant, rt) -> tuple[contacts.ContactView, str, str]:
    """A contact with everything Mirage may hold: consent history, an outreach target and opener, an inbound
    message (and its raw webhook), an opt-out with its confirmation and suppression, audit entries."""
    marker = f"ZQX{uuid.uuid4().hex[:10]}"  # their name and their words carry it
    number = make_number(tenant)
    person = contacts.create_contact(operator, _phone(), f"Zuleica {marker}", tags=[f"tag{marker}"],
                                     notes=f"notas {marker}", consent_status="granted",
                                     consent_source=f"formulário {marker}")  # fmt: skip
    policy = outreach.create_policy(operator, number_id=number, daily_limit=50, hourly_limit=5,
                                    dayparts=["morning", "afternoon"], active=True)  # fmt: skip
    outreach.add_targets(operator, policy.id, [person.id])
    assert outreach_scheduler.PolicyTick(rt, rt.clock.now(), tenant, policy.id).run() == "opener"
    _inbound(tenant, number, person.id, f"meu segredo é {marker}", person.wa_number, push_name=f"Zu {marker}")
    session_id = f"test-{uuid.uuid4().hex[:8]}"
    _webhook(tenant, session_id, person.wa_number, f"meu segredo é {marker}", f"Zu {marker}")
    _round_with(admin, tenant, number, person)
    assert optout.check_optout(tenant, _inbound(tenant, number, person.id, "SAIR", person.wa_number)).new
    return person, marker, str(number)


def _round_with(admin, tenant, number, person) -> None:
    """A warming conversation where the person is the human participant, and a round that froze its seats (as the
    conversation scheduler writes them: label and number included)."""
    conv = conversations.create_conversation(admin, f"Conversa {uuid.uuid4().hex[:6]}")
    conversations.add_participant(admin, conv.id, number_id=number)
    conversations.add_participant(admin, conv.id, contact_id=person.id)
    seats = [{"kind": "bot", "number_id": str(number), "label": "Vendas"},
             {"kind": "human", "contact_id": str(person.id), "label": person.display_name,
              "contact_wa": person.wa_number}]  # fmt: skip
    with tenant_session(tenant) as s:
        s.execute(
            text(
                "INSERT INTO rounds (id, tenant_id, conversation_id, participants, planned_turns, turns_done, "
                "window_key, state, created_at) "
                "VALUES (gen_random_uuid(), :t, :c, CAST(:p AS jsonb), 4, 4, 'w', 'done', now())"
            ),
            {"t": tenant, "c": conv.id, "p": json.dumps(seats)},
        )
        s.commit()


def test_the_export_holds_every_section_as_json_and_csv(admin, operator, tenant_a, engine_runtime):
    person, marker, _ = _person_with_history(admin, operator, tenant_a, engine_runtime)
    data = contacts.export_person(admin, person.id)
    exported = data.as_json()
    assert set(contacts.SECTIONS) <= exported.keys() and exported["wa_number"] == person.wa_number
    assert all(exported[section] for section in contacts.SECTIONS), {s: len(exported[s]) for s in contacts.SECTIONS}
    assert exported["contact"][0]["display_name"] == f"Zuleica {marker}"
    assert [e["event"] for e in exported["consent_history"]] == ["granted", "revoked"]
    bodies = [m["body"] for m in exported["messages"]]
    assert f"meu segredo é {marker}" in bodies and "SAIR" in bodies and len(bodies) >= 4  # opener + confirmation
    assert exported["outreach_targets"][0]["status"] == "optout"
    assert exported["suppression"][0]["reason"] == "optout:SAIR"
    assert {"contact.create", "contact.optout"} <= {a["action"] for a in exported["audit"]}
    assert exported["contact"][0]["created_at"].endswith("-03:00")  # the tenant's zone
    json.dumps(exported)  # plain JSON all the way down

    with zipfile.ZipFile(io.BytesIO(data.as_zip())) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s}.csv" for s in contacts.SECTIONS)
        messages = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode())))
        contact_rows = list(csv.DictReader(io.StringIO(archive.read("contact.csv").decode())))
    assert f"meu segredo é {marker}" in [m["body"] for m in messages]
    assert contact_rows[0]["tags"] == f"tag{marker}" and contact_rows[0]["wa_number"] == person.wa_number

    with tenant_session(tenant_a) as s:  # audited without the data
        after = s.execute(text("SELECT after FROM audit_log WHERE action = 'contact.data_export' AND entity_id = :c"),
                          {"c": str(person.id)}).scalar_one()  # fmt: skip
    assert after["messages"] == len(bodies) and marker not in json.dumps(after)


def test_erasure_leaves_no_trace_but_the_keyed_hash_and_they_stay_suppressed(
    admin, operator, tenant_a, engine_runtime, services
):
    person, marker, number_id = _person_with_history(admin, operator, tenant_a, engine_runtime)
    digits = person.wa_number.lstrip("+")
    traces = [marker, digits, digits[:4] + digits[5:]]  # the words, the number, and its old 8-digit JID form
    dump = _dump_database(services.admin_url)
    assert all(trace in dump for trace in traces)  # the scan sees them before

    impact = contacts.erasure_impact(admin, person.id)
    assert {d.kind for d in impact.dependents} >= {"target", "erased_message", "erased_number"}
    report = contacts.erase_person(admin, person.id)
    assert report.messages >= 4 and report.webhook_events == 1 and report.consent_events == 2

    dump = _dump_database(services.admin_url)
    assert [trace for trace in traces if trace in dump] == []
    assert number_hash(person.wa_number) in dump  # only the keyed hash is left
    with pytest.raises(NotFound):
        contacts.get_contact(admin, person.id)
    with tenant_session(tenant_a) as s:
        erased = s.execute(text("SELECT wa_number, reason FROM suppression WHERE number_hash = :h"),
                           {"h": number_hash(person.wa_number)}).one()  # fmt: skip
        assert (erased.wa_number, erased.reason) == (None, "erased")
        kept = s.execute(text("SELECT count(*) FROM messages WHERE from_number_id = :n AND direction = 'out'"),
                         {"n": number_id}).scalar()  # fmt: skip
        assert kept >= 2  # the number's sends still count for its caps and metrics
        entry = s.execute(text("SELECT after FROM audit_log WHERE action = 'contact.erase'")).scalars().all()[-1]
    assert entry["messages"] == report.messages and marker not in json.dumps(entry)
    # (the opt-out was recorded at the engine's frozen 2031 clock, so the order by time is not the order here)
    assert sorted(e for e, _, _ in _history(tenant_a, person.id)) == ["erased", "granted", "revoked"]

    # They stay suppressed: never stored nor contacted again.
    assert suppression.is_suppressed(tenant_a, person.wa_number)
    with pytest.raises(Conflict) as again:
        contacts.create_contact(operator, person.wa_number, "De novo")
    assert again.value.code == "contacts.erased"
    other = contacts.create_contact(operator, _phone(), "Outra")
    with pytest.raises(Conflict) as moved:
        contacts.update_contact(operator, other.id, wa_number=person.wa_number)
    assert moved.value.code == "contacts.erased"
    report = contacts.import_csv(operator, f"telefone;nome;consentimento\n{person.wa_number};De novo;sim\n")
    assert report.imported == 0 and [e.reason for e in report.errors] == ["erased"]
    with tenant_session(tenant_a) as s:  # even a contact written behind the services' back is never sent to
        cid = s.execute(
            text(
                "INSERT INTO contacts (tenant_id, wa_number, display_name, notes, consent_status) "
                "VALUES (:t, :n, '', '', 'granted') RETURNING id"
            ),
            {"t": tenant_a, "n": person.wa_number},
        ).scalar()
        send = contact_guard.GuardedSend(uuid.uuid4(), {}, cid, uuid.UUID(number_id), "America/Sao_Paulo", tenant_a)
        verdict = contact_guard.before_claim(s, send, engine_runtime.clock.now())
        s.rollback()
    assert (verdict.action, verdict.reason) == (contact_guard.FAIL, contact_guard.CONTACT_SUPPRESSED)
    # Writing "SAIR" again stores no contact and no plain suppression: the hash already refuses them.
    again = optout.check_optout(tenant_a, _inbound(tenant_a, uuid.UUID(number_id), None, "SAIR", person.wa_number))
    assert again is not None and not again.new and again.contact_id is None
    with tenant_session(tenant_a) as s:
        assert s.execute(text("SELECT count(*) FROM suppression WHERE wa_number = :n"),
                         {"n": person.wa_number}).scalar() == 0  # fmt: skip


def test_data_rights_need_an_admin_with_mfa_and_stay_in_the_tenant(operator, tenant_a, tenant_b):
    c = contacts.create_contact(operator, _phone(), "Eva")
    for actor in (operator, _actor(tenant_a, UserRole.admin, mfa=False), _actor(tenant_a, UserRole.viewer, False)):
        for call in (contacts.export_person, contacts.erase_person, contacts.erasure_impact):
            with pytest.raises(PermissionDenied):
                call(actor, c.id)
    other = _actor(tenant_b)
    for call in (contacts.export_person, contacts.erase_person, contacts.erasure_impact):
        with pytest.raises(NotFound):
            call(other, c.id)
    assert contacts.get_contact(operator, c.id).display_name == "Eva"


def test_erasure_leaves_a_longer_number_that_contains_theirs(admin, operator, tenant_a):
    """The number is matched standing alone: a neighbour's number whose digits merely contain it is not theirs."""
    person = contacts.create_contact(operator, _phone(), "Lia")
    digits = person.wa_number.lstrip("+")
    session_id = f"test-{uuid.uuid4().hex[:8]}"
    own, neighbour = f"{digits}@s.whatsapp.net", f"{digits}7@s.whatsapp.net"
    with tenant_session(tenant_a) as s:
        for jid in (own, neighbour):
            payload = {"event": "messages.upsert", "instance": session_id, "data": {"key": {"remoteJid": jid}}}
            s.execute(
                text(
                    "INSERT INTO webhook_events (tenant_id, session_id, event_type, payload, dedupe_key) "
                    "VALUES (:t, :s, 'messages.upsert', CAST(:p AS jsonb), :k)"
                ),
                {"t": tenant_a, "s": session_id, "p": json.dumps(payload), "k": uuid.uuid4().hex},
            )
        s.commit()
    assert contacts.erase_person(admin, person.id).webhook_events == 1
    with tenant_session(tenant_a) as s:
        kept = s.execute(text("SELECT payload FROM webhook_events WHERE session_id = :s"), {"s": session_id})
        payloads = [row.payload for row in kept]
    assert {"erased": True} in payloads
    assert [p["data"]["key"]["remoteJid"] for p in payloads if "data" in p] == [neighbour]

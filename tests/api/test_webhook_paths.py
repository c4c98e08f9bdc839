"""The two ingestion paths agree: the one-round-trip path the route uses (`ingest_async`, a psycopg pipeline) and
the synchronous `ingest` (SQLAlchemy session) store the same rows and report the same results, under row-level
security, with duplicates and shuffled statuses."""

from __future__ import annotations

import asyncio
import json
import random
import uuid

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.core.security import hash_token
from mirage_app.engine import ingest, optout
from mirage_app.models import Contact, EvolutionSession, Number, NumberStatus, OutreachPolicy

OURS, OTHER, CONTACT = "5511988880001", "5511988880002", "5511977776666"


def _setup(tenant: uuid.UUID, *, with_contact: bool = True) -> dict[str, str]:
    """Two of our numbers (A receives the deliveries, B is the other bot) and, optionally, a known contact."""
    names = {}
    with tenant_session(tenant) as s:
        for label, phone in (("A", OURS), ("B", OTHER)):
            name = f"mrg-paths-{label}-{uuid.uuid4().hex[:8]}"
            number = Number(
                tenant_id=tenant, session_id=name, label=label, status=NumberStatus.connected, wa_number="+" + phone
            )
            s.add(number)
            s.flush()
            s.add(EvolutionSession(tenant_id=tenant, number_id=number.id, webhook_secret_hash=hash_token("s3")))
            names[label] = name
        if with_contact:
            s.add(Contact(tenant_id=tenant, wa_number="+" + CONTACT, display_name="C"))
        s.commit()
    return names


def _deliveries(instance: str, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for k in range(12):
        key_id = f"3EB0PATH{k:04d}"
        peer = rnd.choice([OTHER, CONTACT, "5511955554444"])
        from_me = rnd.random() < 0.5
        jid = f"{peer}@s.whatsapp.net"
        message = {
            "key": {"remoteJid": jid, "fromMe": from_me, "id": key_id},
            "pushName": "Maria",
            "status": "DELIVERY_ACK",
            "message": {"conversation": f"texto {k}"},
            "messageType": "conversation",
            "messageTimestamp": 1761055561 + k,
        }
        out.append({"event": rnd.choice(["messages.upsert", "send.message"]), "instance": instance, "data": message})
        for status in ("SERVER_ACK", "DELIVERY_ACK", "READ"):
            update = {"keyId": key_id, "remoteJid": jid, "fromMe": from_me, "status": status}
            out.append({"event": "messages.update", "instance": instance, "data": update})
    out.append({"event": "messages.update", "instance": instance, "data": {"keyId": "3EB0NOSTATUS"}})
    out *= 2  # every delivery twice: the copies must add nothing
    rnd.shuffle(out)
    return out


def _rows(tenant: uuid.UUID) -> tuple[list[tuple], list[tuple]]:
    with tenant_session(tenant) as s:
        labels = dict(s.execute(text("SELECT id, label FROM numbers")).all())
        messages = [
            (r.wa_msg_id, r.direction, r.body, r.status, labels.get(r.from_number_id), labels.get(r.to_number_id),
             r.contact_id is not None, json.dumps(r.meta, sort_keys=True), r.sent_at)
            for r in s.execute(
                text(
                    "SELECT wa_msg_id, direction::text, body, status::text, from_number_id, to_number_id, contact_id, "
                    "meta, sent_at FROM messages ORDER BY wa_msg_id"
                )
            )
        ]  # fmt: skip
        events = s.execute(
            text("SELECT event_type, count(*), count(processed_at) FROM webhook_events GROUP BY 1 ORDER BY 1")
        ).all()
    return messages, [tuple(e) for e in events]


def _summary(result: ingest.IngestResult) -> tuple:
    return (
        result.duplicate,
        result.kind,
        result.message_id is not None,
        result.message_inserted,
        result.inbound_from_contact,
        result.received,
    )


@pytest.mark.parametrize("seed", range(3))
def test_async_and_sync_ingest_store_and_report_the_same(tenant_a, tenant_b, seed):
    names_a, names_b = _setup(tenant_a), _setup(tenant_b)
    seen: dict[str, list[tuple]] = {"async": [], "sync": []}

    async def run_async() -> None:
        auth = ingest.authenticate(names_a["A"], "s3")
        for body in _deliveries(names_a["A"], seed):
            raw = json.dumps(body).encode()
            seen["async"].append(_summary(await ingest.ingest_async(auth, raw, json.loads(raw))))

    asyncio.run(run_async())
    auth = ingest.authenticate(names_b["A"], "s3")
    for body in _deliveries(names_b["A"], seed):
        raw = json.dumps(body).encode()
        seen["sync"].append(_summary(ingest.ingest(auth, raw, json.loads(raw))))
    assert seen["async"] == seen["sync"]
    assert sum(1 for summary in seen["async"] if summary[0]) == len(seen["async"]) // 2  # the second copies
    via_async, via_sync = _rows(tenant_a), _rows(tenant_b)
    assert via_async == via_sync
    assert len(via_async[0]) == 12 and all(processed == n for _, n, processed in via_async[1])


def test_one_round_trip_path_is_tenant_scoped(tenant_a, tenant_b):
    """The contact exists only in tenant B: A's delivery from that phone must not find it (RLS on the lookup)."""
    names_a = _setup(tenant_a, with_contact=False)
    _setup(tenant_b)
    body = _deliveries(names_a["A"], 0)[0] | {"event": "messages.upsert"}
    body["data"] = {
        **body["data"],
        "key": {"remoteJid": f"{CONTACT}@s.whatsapp.net", "fromMe": False, "id": "3EB0SCOPE"},
    }
    raw = json.dumps(body).encode()
    result = asyncio.run(ingest.ingest_async(ingest.authenticate(names_a["A"], "s3"), raw, json.loads(raw)))
    assert not result.duplicate and result.inbound_from_contact
    with tenant_session(tenant_a) as s:
        row = s.execute(text("SELECT contact_id, tenant_id FROM messages WHERE wa_msg_id = '3EB0SCOPE'")).one()
    assert row.contact_id is None and row.tenant_id == tenant_a
    with tenant_session(tenant_b) as s:
        assert s.execute(text("SELECT count(*) FROM messages")).scalar() == 0


def _inbound(instance: str, key_id: str, text_: str, *, event: str = "messages.upsert", from_me: bool = False) -> bytes:
    data = {
        "key": {"remoteJid": f"{CONTACT}@s.whatsapp.net", "fromMe": from_me, "id": key_id},
        "pushName": "Maria",
        "message": {"conversation": text_},
        "messageType": "conversation",
        "messageTimestamp": 1761055561,
    }
    return json.dumps({"event": event, "instance": instance, "data": data}).encode()


def _meta(tenant: uuid.UUID, key_id: str) -> dict:
    with tenant_session(tenant) as s:
        return s.execute(text("SELECT meta FROM messages WHERE wa_msg_id = :k"), {"k": key_id}).scalar_one()


def test_optout_precheck_marks_only_what_check_optout_would(tenant_a):
    names = _setup(tenant_a)
    auth = ingest.authenticate(names["A"], "s3")
    ingest._optout_keywords_seen.pop(auth.tenant_id, None)

    def deliver(key_id: str, text_: str, **kwargs) -> ingest.IngestResult:
        raw = _inbound(names["A"], key_id, text_, **kwargs)
        return asyncio.run(ingest.ingest_async(auth, raw, json.loads(raw)))

    # First delivery of the process for this tenant: keywords not known yet, so no verdict: the route checks.
    first = deliver("3EB0OPT1", "oi")
    assert first.inbound_from_contact and not first.optout_checked and "optout_check" not in _meta(tenant_a, "3EB0OPT1")
    # Now the default keywords and the (empty) policy keywords are known: an ordinary message carries the verdict.
    second = deliver("3EB0OPT2", "oi, tudo bem?")
    assert second.optout_checked and _meta(tenant_a, "3EB0OPT2")["optout_check"] == ""
    assert optout.check_optout(tenant_a, second.message_id) is None  # it trusts the mark
    # A keyword is never pre-judged: check_optout records the opt-out as before.
    stop = deliver("3EB0OPT3", "Pare!")
    assert not stop.optout_checked and "optout_check" not in _meta(tenant_a, "3EB0OPT3")
    assert optout.check_optout(tenant_a, stop.message_id).keyword == "PARE"
    # Outbound messages are never marked (check_optout ignores them).
    out = deliver("3EB0OPT4", "oi", event="send.message", from_me=True)
    assert not out.inbound_from_contact and "optout_check" not in _meta(tenant_a, "3EB0OPT4")
    # The operator adds a keyword: the statement sees the keyword set changed and writes no verdict...
    with tenant_session(tenant_a) as s:
        number_id = s.execute(text("SELECT id FROM numbers WHERE session_id = :n"), {"n": names["A"]}).scalar_one()
        s.add(OutreachPolicy(tenant_id=tenant_a, number_id=number_id, optout_keywords=["BASTA"]))
        s.commit()
    changed = deliver("3EB0OPT5", "basta")
    assert not changed.optout_checked and "optout_check" not in _meta(tenant_a, "3EB0OPT5")
    assert optout.check_optout(tenant_a, changed.message_id).keyword == "BASTA"
    # ...and from then on uses the new set.
    assert not deliver("3EB0OPT6", "Basta, obrigado").optout_checked
    assert deliver("3EB0OPT7", "bastante coisa").optout_checked


def test_directory_does_not_cache_a_lookup_that_raced_with_forget(monkeypatch):
    """A webhook looked the instance up before create_instance committed; create_instance then forget()s the name.
    The stale 'unknown' answer must not be cached after that, or the next deliveries would get 404."""
    directory = ingest.InstanceDirectory()

    class RacingSession:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, *args, **kwargs):
            directory.forget("mrg-racing")  # the instance's commit + forget() happen during our query

            class NoRow:
                def first(self):
                    return None

            return NoRow()

    monkeypatch.setattr(ingest, "system_session", RacingSession)
    assert directory.lookup("mrg-racing") is None
    assert directory.cached("mrg-racing") == (False, None)


def test_a_pooled_connection_switching_tenants_sees_only_the_current_one(tenant_a, tenant_b, monkeypatch):
    """One loop, a pool of one: every statement runs on the same session, pinned to A, then B, then A again."""
    from mirage_app.core import db_async

    monkeypatch.setenv("MIRAGE_ASYNC_DB_POOL", "1")
    _setup(tenant_a, with_contact=False)
    _setup(tenant_b)
    count = "SELECT count(*) AS n, current_setting('app.tenant_id') AS pinned FROM numbers"

    async def alternate() -> list[tuple[int, str]]:
        out = []
        for tenant in (tenant_a, tenant_b, tenant_b, tenant_a):
            [row] = await db_async.tenant_fetch(tenant, count, {})
            out.append((row.n, row.pinned))
        return out

    seen = asyncio.run(alternate())
    assert [pinned for _, pinned in seen] == [str(tenant_a), str(tenant_b), str(tenant_b), str(tenant_a)]
    assert [n for n, _ in seen] == [2, 2, 2, 2]  # each tenant has its own two numbers, never the other's four
    with tenant_session(tenant_a) as s:  # the sessions SQLAlchemy hands out are not affected
        assert s.execute(text("SELECT count(*) FROM numbers")).scalar() == 2

"""Bounded hot tables (issue 17): webhook_events' daily partitions, per-tenant retention of payloads and bodies."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from mirage_app.api.app import asgi
from mirage_app.core import migrate
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.engine.retention import apply_retention, ensure_partitions
from mirage_app.models import Message, MessageDirection, MessageStatus
from workers.scheduler import PERIODIC_JOBS

URL = "/api/webhooks/evolution"


def _now() -> datetime:
    return datetime.now(UTC)


def _post(webhook_instance, body: dict):
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json", SECRET_HEADER: webhook_instance["secret"]}
    return TestClient(asgi, raise_server_exceptions=False).post(URL, content=raw, headers=headers)


def _upsert(name: str, key_id: str, text_: str = "Oi, tudo bem?") -> dict:
    return {
        "event": "messages.upsert",
        "instance": name,
        "data": {
            "key": {"remoteJid": "5511966665555@s.whatsapp.net", "fromMe": False, "id": key_id},
            "pushName": "Maria",
            "status": "DELIVERY_ACK",
            "message": {"conversation": text_},
            "messageType": "conversation",
            "messageTimestamp": int(_now().timestamp()) - 60,
            "source": "android",
        },
    }


def _scalar(tenant, sql: str, **params):
    with tenant_session(tenant) as s:
        return s.execute(text(sql), params).scalar()


def _set_retention(tenant, **days) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in days)
    with tenant_session(tenant) as s:
        s.execute(text(f"UPDATE settings_tenant SET {sets}"), days)
        s.commit()


def _add_event(tenant, received_at: datetime, etype: str = "CHATS_UPSERT") -> uuid.UUID:
    with tenant_session(tenant) as s:
        event_id = s.execute(
            text(
                "INSERT INTO webhook_events (tenant_id, session_id, event_type, payload, received_at) "
                "VALUES (:t, 'x', :e, '{\"raw\": 1}', :at) RETURNING id"
            ),
            {"t": tenant, "e": etype, "at": received_at},
        ).scalar()
        s.commit()
    return event_id


def test_a_retry_across_a_partition_boundary_is_still_a_no_op(services, webhook_instance):
    body = _upsert(webhook_instance["name"], f"3A{uuid.uuid4().hex[:18].upper()}")
    assert _post(webhook_instance, body).status_code == 200
    tenant = webhook_instance["tenant"]
    today = _scalar(tenant, "SELECT tableoid::regclass::text FROM webhook_events")
    # The first delivery now lies in yesterday's partition (its row moves there), its key says so too.
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE webhook_events SET received_at = received_at - interval '1 day'"))
        s.commit()
    with psycopg.connect(services.admin_url.replace("+psycopg", "")) as conn:  # the app role never updates keys
        conn.execute(
            "UPDATE webhook_dedupe_keys SET received_at = received_at - interval '1 day' WHERE tenant_id = %s",
            (tenant,),
        )
    assert _scalar(tenant, "SELECT tableoid::regclass::text FROM webhook_events") != today
    assert _post(webhook_instance, body).status_code == 200
    assert _scalar(tenant, "SELECT count(*) FROM webhook_events") == 1
    assert _scalar(tenant, "SELECT count(*) FROM messages") == 1


def test_dedupe_keys_are_per_tenant_and_invisible_to_others(webhook_instance, tenant_b):
    assert _post(webhook_instance, _upsert(webhook_instance["name"], "3A0000000000000000K1")).status_code == 200
    assert _scalar(webhook_instance["tenant"], "SELECT count(*) FROM webhook_dedupe_keys") == 1
    assert _scalar(tenant_b, "SELECT count(*) FROM webhook_dedupe_keys") == 0
    with tenant_session(tenant_b) as s:
        assert s.execute(text("DELETE FROM webhook_dedupe_keys")).rowcount == 0
        s.commit()


def test_the_job_creates_the_coming_days_partitions_ahead(services):
    later = _now() + timedelta(days=40)
    assert ensure_partitions(later, days=3) == 3
    assert ensure_partitions(later, days=3) == 0  # already there
    names = {f"webhook_events_p{(later + timedelta(days=d)):%Y%m%d}" for d in range(3)}
    with psycopg.connect(services.admin_url.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relforcerowsecurity FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'public.webhook_events'::regclass"
        ).fetchall()
    made = {name: forced for name, forced in rows if name in names}
    assert set(made) == names and all(made.values())
    assert any(job.func == "workers.jobs.apply_retention" for job in PERIODIC_JOBS)


def test_webhook_retention_deletes_only_each_tenants_old_events(tenant_a, tenant_b):
    now = _now()
    _set_retention(tenant_a, webhook_retention_days=8)
    _set_retention(tenant_b, webhook_retention_days=30)
    a_old, a_new = _add_event(tenant_a, now - timedelta(days=10)), _add_event(tenant_a, now - timedelta(days=3))
    b_old = _add_event(tenant_b, now - timedelta(days=10))
    b_older = _add_event(tenant_b, now - timedelta(days=29, hours=23))  # inside its 30 days still
    apply_retention(FrozenClock(now))
    assert _scalar(tenant_a, "SELECT array_agg(id) FROM webhook_events") == [a_new]
    assert set(_scalar(tenant_b, "SELECT array_agg(id) FROM webhook_events")) == {b_old, b_older}
    assert a_old not in (_scalar(tenant_b, "SELECT array_agg(id) FROM webhook_events") or [])


def test_old_dedupe_keys_are_pruned(webhook_instance):
    assert _post(webhook_instance, _upsert(webhook_instance["name"], "3A0000000000000000K2")).status_code == 200
    apply_retention(FrozenClock(_now() + timedelta(days=1)))
    assert _scalar(webhook_instance["tenant"], "SELECT count(*) FROM webhook_dedupe_keys") == 1  # within the window
    apply_retention(FrozenClock(_now() + timedelta(days=3)))
    assert _scalar(webhook_instance["tenant"], "SELECT count(*) FROM webhook_dedupe_keys") == 0


def _message(tenant, created_at: datetime, body: str, status=MessageStatus.delivered, meta=None) -> uuid.UUID:
    with tenant_session(tenant) as s:
        m = Message(
            tenant_id=tenant,
            wa_msg_id=f"W{uuid.uuid4().hex[:16]}",
            direction=MessageDirection.inbound,
            body=body,
            status=status,
            meta=meta or {},
            created_at=created_at,
        )
        s.add(m)
        s.commit()
        return m.id


def _row(tenant, message_id):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT body, meta, status::text, updated_at FROM messages WHERE id = :id"), {"id": message_id}
        ).one()


def test_body_retention_blanks_old_texts_but_keeps_the_facts(tenant_a, tenant_b):
    now = _now()
    _set_retention(tenant_a, body_retention_days=30)
    meta = {"quoted": {"body": "segredo"}, "push_name": "Maria", "voice": {"seconds": 3}, "origin": "webhook"}
    old = _message(tenant_a, now - timedelta(days=40), "velho", meta=meta)
    recent = _message(tenant_a, now - timedelta(days=5), "novo", meta=meta)
    queued = _message(tenant_a, now - timedelta(days=40), "na fila", status=MessageStatus.queued)
    other = _message(tenant_b, now - timedelta(days=40), "velho de B", meta=meta)  # B keeps 365 days
    result = apply_retention(FrozenClock(now))
    assert result.bodies_expired >= 1
    row = _row(tenant_a, old)
    assert row.body == "" and row.status == "delivered" and row.updated_at is None
    assert row.meta == {"voice": {"seconds": 3}, "origin": "webhook", "body_expired": True}
    assert _row(tenant_a, recent).body == "novo" and _row(tenant_a, recent).meta == meta
    assert _row(tenant_a, queued).body == "na fila"
    assert _row(tenant_b, other).body == "velho de B"
    assert _scalar(tenant_a, "SELECT bodies_expired_before FROM settings_tenant") is not None
    # The next pass starts from the watermark and finds nothing new.
    assert apply_retention(FrozenClock(now)).bodies_expired == 0
    # The queued message went out since: the watermark waited for it, so its text goes now.
    with tenant_session(tenant_a) as s:
        s.execute(text("UPDATE messages SET status = 'sent' WHERE id = :id"), {"id": queued})
        s.commit()
    assert apply_retention(FrozenClock(now)).bodies_expired == 1
    assert _row(tenant_a, queued).body == ""


def test_a_late_redelivery_does_not_bring_an_expired_body_back(webhook_instance):
    tenant = webhook_instance["tenant"]
    key = f"3A{uuid.uuid4().hex[:18].upper()}"
    assert _post(webhook_instance, _upsert(webhook_instance["name"], key, "primeiro")).status_code == 200
    _set_retention(tenant, body_retention_days=7)
    apply_retention(FrozenClock(_now() + timedelta(days=9)))
    assert _scalar(tenant, "SELECT body FROM messages WHERE wa_msg_id = :k", k=key) == ""
    assert (
        _post(webhook_instance, _upsert(webhook_instance["name"], key, "de novo")).status_code == 200
    )  # other bytes: no dedupe
    assert _scalar(tenant, "SELECT body FROM messages WHERE wa_msg_id = :k", k=key) == ""
    assert _scalar(tenant, "SELECT meta ? 'push_name' FROM messages WHERE wa_msg_id = :k", k=key) is False


def test_partitions_are_dropped_once_every_tenants_retention_has_passed(services):
    """In a database of its own: the catch-all partition is replaced by old daily ones, then the drop runs."""
    name = f"mirage_parts_{uuid.uuid4().hex[:8]}"
    url = services.create_database(name)
    try:
        migrate.upgrade(admin_url=url)
        with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as conn:
            today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()[0]
            catch_all = f"webhook_events_upto_{today:%Y%m%d}"
            conn.execute(f"DROP TABLE mirage_partitions.{catch_all}")
            tenant = conn.execute(
                "INSERT INTO tenants (name, timezone, locale) VALUES ('t', 'UTC', 'en') RETURNING id"
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO settings_tenant (tenant_id, min_delay_s, max_delay_s, hourly_burst_limit, quiet_start, "
                "quiet_end, humanize, allow_bot_to_bot, warmup, actions, unanswered_first_allowance, "
                "webhook_retention_days) VALUES (%s, 1, 2, 3, '22:00', '08:00', true, true, '{}', '{}', 1, 20)",
                (tenant,),
            )
            # A row no partition covered went to the DEFAULT partition; making its day's partition moves it in.
            conn.execute(
                "INSERT INTO webhook_events (tenant_id, session_id, event_type, received_at) VALUES (%s, 's', 'X', %s)",
                (tenant, datetime.combine(today - timedelta(days=25), datetime.min.time(), UTC) + timedelta(hours=5)),
            )
            made = conn.execute("SELECT mirage_webhook_partitions_ensure(%s, 10)", (today - timedelta(days=25),))
            assert made.fetchone()[0] >= 1
            where = conn.execute("SELECT tableoid::regclass::text FROM webhook_events").fetchone()[0]
            assert where == f"mirage_partitions.webhook_events_p{today - timedelta(days=25):%Y%m%d}"
            dropped = [r[0] for r in conn.execute("SELECT * FROM mirage_webhook_partitions_drop(now())")]
            # Horizon = today - 20 days: the days whose end is at or before it go, the younger stay.
            assert sorted(dropped) == [f"webhook_events_p{today - timedelta(days=d):%Y%m%d}" for d in range(25, 20, -1)]
            assert conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0
            # A caller's clock in the future does not drop younger partitions: the database's own time bounds it.
            assert list(conn.execute("SELECT * FROM mirage_webhook_partitions_drop(now() + interval '1 year')")) == []
    finally:
        services.drop_database(name)


def test_the_migration_moves_existing_events_and_remembers_recent_keys(services):
    name = f"mirage_move_{uuid.uuid4().hex[:8]}"
    url = services.create_database(name)
    libpq = make_url(url).set(drivername="postgresql").render_as_string(False)
    try:
        migrate.upgrade("0018", admin_url=url)
        with psycopg.connect(libpq) as conn:
            tenant = conn.execute(
                "INSERT INTO tenants (name, timezone, locale) VALUES ('t', 'UTC', 'en') RETURNING id"
            ).fetchone()[0]
            for key, age in (("old", "40 days"), ("recent", "1 hour"), (None, "3 days")):
                conn.execute(
                    "INSERT INTO webhook_events (tenant_id, session_id, event_type, payload, dedupe_key, received_at) "
                    "VALUES (%s, 's', 'X', '{\"k\": 1}', %s, now() - CAST(%s AS interval))",
                    (tenant, key, age),
                )
        migrate.upgrade(admin_url=url)
        with psycopg.connect(libpq) as conn:
            rows = conn.execute(
                "SELECT dedupe_key, tableoid::regclass::text FROM webhook_events ORDER BY received_at"
            ).fetchall()
            keys = [r[0] for r in conn.execute("SELECT dedupe_key FROM webhook_dedupe_keys")]
        assert [r[0] for r in rows] == ["old", None, "recent"]
        assert rows[0][1].startswith("mirage_partitions.webhook_events_upto_")
        assert rows[2][1].startswith("mirage_partitions.webhook_events_")
        assert keys == ["recent"]  # within the de-duplication window
        migrate.downgrade("0018", admin_url=url)
        with psycopg.connect(libpq) as conn:
            assert conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 3
    finally:
        services.drop_database(name)

"""`messages` partitioned by month (issue 17, alembic 0027): the uniqueness rules hold across months through the
key tables, the migration moves existing rows and their keys, and old months are dropped whole while their
figures stay in the rollups."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from mirage_app.api.app import asgi
from mirage_app.core import migrate
from mirage_app.core.db import tenant_session
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.engine.retention import DELETE_MESSAGE_KEYS, ensure_message_partitions
from mirage_app.models import Number, NumberStatus
from mirage_app.models.messaging import insert_once_per_send_key

LAST_MONTH = timedelta(days=40)
INSERT = text(
    "INSERT INTO messages (tenant_id, wa_msg_id, direction, body, status, created_at, meta, from_number_id, "
    "to_number_id, media_id) VALUES (:t, :wa, 'out', 'oi', 'sent', :at, CAST(:meta AS jsonb), :f, :to, :media) "
    "RETURNING id"
)
QUEUE = text(
    insert_once_per_send_key(
        "tenant_id, direction, body, meta, status, created_at", ":t, 'out', 'oi', CAST(:meta AS jsonb), 'queued', :now"
    )
)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def _insert(tenant, *, wa=None, at=None, meta=None, sender=None, to=None, media=None):
    with tenant_session(tenant) as s:
        mid = s.execute(
            INSERT,
            {"t": tenant, "wa": wa, "at": at or datetime.now(UTC), "meta": json.dumps(meta or {}), "f": sender,
             "to": to, "media": media},
        ).scalar()  # fmt: skip
        s.commit()
    return mid


def _number(tenant, label: str) -> uuid.UUID:
    with tenant_session(tenant) as s:
        number = Number(tenant_id=tenant, session_id=f"mrg-part-{uuid.uuid4().hex[:8]}", label=label,
                        status=NumberStatus.connected)  # fmt: skip
        s.add(number)
        s.commit()
        return number.id


def test_a_whatsapp_id_stays_unique_across_months(tenant_a, tenant_b):
    wa = f"WA-{uuid.uuid4().hex}"
    first = _insert(tenant_a, wa=wa, at=datetime.now(UTC) - LAST_MONTH)
    with pytest.raises(IntegrityError, match="uq_messages_tenant_wa_msg_id"):
        _insert(tenant_a, wa=wa)
    _insert(tenant_b, wa=wa)  # another tenant's number received the same message: its own row
    with tenant_session(tenant_a) as s:
        s.execute(text("DELETE FROM messages WHERE id = :id"), {"id": first})
        s.commit()
    second = _insert(tenant_a, wa=wa)  # the key left with its row
    with tenant_session(tenant_a) as s:
        key = s.execute(text("SELECT message_id FROM message_wa_ids WHERE wa_msg_id = :wa"), {"wa": wa}).scalar()
        s.execute(text("UPDATE messages SET wa_msg_id = :new WHERE id = :id"), {"new": wa + "-b", "id": second})
        moved = s.execute(text("SELECT wa_msg_id FROM message_wa_ids WHERE message_id = :id"), {"id": second}).all()
        s.commit()
    assert key == second and moved == [(wa + "-b",)]


def test_a_send_key_writes_one_message_across_months(tenant_a):
    meta = json.dumps({"send_key": f"turn-{uuid.uuid4().hex}"})
    with tenant_session(tenant_a) as s:
        first = s.execute(QUEUE, {"t": tenant_a, "meta": meta, "now": datetime.now(UTC) - LAST_MONTH}).scalar()
        again = s.execute(QUEUE, {"t": tenant_a, "meta": meta, "now": datetime.now(UTC)}).scalar()
        keyless = [s.execute(QUEUE, {"t": tenant_a, "meta": "{}", "now": datetime.now(UTC)}).scalar() for _ in "ab"]
        s.commit()
    assert first is not None and again is None
    assert None not in keyless and keyless[0] != keyless[1]


def test_a_number_never_sends_the_same_file_twice_to_a_partner(tenant_a):
    sender, partner, other = _number(tenant_a, "A"), _number(tenant_a, "B"), _number(tenant_a, "C")
    with tenant_session(tenant_a) as s:
        media = s.execute(
            text(
                "INSERT INTO media_assets (tenant_id, kind, name, mime, sha256, size_bytes, data, origin, "
                "content_text) VALUES (:t, 'image', 'a.png', 'image/png', :h, 1, '\\x00', 'upload', '') RETURNING id"
            ),
            {"t": tenant_a, "h": uuid.uuid4().hex * 2},
        ).scalar()
        s.commit()
    _insert(tenant_a, at=datetime.now(UTC) - LAST_MONTH, sender=sender, to=partner, media=media)
    with pytest.raises(IntegrityError, match="uq_messages_media_partner"):
        _insert(tenant_a, sender=sender, to=partner, media=media)
    _insert(tenant_a, sender=sender, to=other, media=media)  # another partner may get it


def test_a_status_that_overtakes_its_message_across_a_month_boundary_leaves_one_row(webhook_instance):
    tenant_a, name, secret = webhook_instance["tenant"], webhook_instance["name"], webhook_instance["secret"]
    wa, client = f"WA-{uuid.uuid4().hex[:16]}", TestClient(asgi)
    headers = {"content-type": "application/json", SECRET_HEADER: secret}
    remote = {"remoteJid": "5511966665555@s.whatsapp.net", "fromMe": False, "id": wa}
    status = {"event": "messages.update", "instance": name,
              "data": {"keyId": wa, "remoteJid": remote["remoteJid"], "fromMe": False, "status": "READ"}}  # fmt: skip
    upsert = {"event": "messages.upsert", "instance": name,
              "data": {"key": remote, "pushName": "Maria", "status": "DELIVERY_ACK", "message": {"conversation": "Oi"},
                       "messageType": "conversation", "source": "android",
                       "messageTimestamp": int((datetime.now(UTC) - LAST_MONTH).timestamp())}}  # fmt: skip
    for body in (status, upsert, upsert, status):
        assert client.post("/api/webhooks/evolution", content=json.dumps(body), headers=headers).status_code == 200
    with tenant_session(tenant_a) as s:
        rows = s.execute(text("SELECT body, status::text FROM messages WHERE wa_msg_id = :wa"), {"wa": wa}).all()
    assert rows == [("Oi", "read")]


def test_the_retention_job_makes_the_coming_months(services):
    later = datetime.now(UTC) + timedelta(days=400)
    assert ensure_message_partitions(later, months=2) >= 2  # and the months of any rows in DEFAULT
    assert ensure_message_partitions(later, months=2) == 0
    with psycopg.connect(_libpq(services.admin_url)) as conn:
        names = {r[0] for r in conn.execute("SELECT c.relname FROM pg_class c WHERE c.relname LIKE 'messages_p%'")}
    assert f"messages_p{later:%Y%m}" in names


def _owner_setup(conn) -> tuple[uuid.UUID, uuid.UUID]:
    """A tenant with a 60-day body retention and one number."""
    tenant = conn.execute("INSERT INTO tenants (name, timezone, locale) VALUES ('t', 'UTC', 'en') RETURNING id")
    tenant = tenant.fetchone()[0]
    number = conn.execute(
        "INSERT INTO numbers (tenant_id, session_id, label, status, failure_streak, active_days) "
        "VALUES (%s, 'n1', 'N1', 'connected', 0, 10) RETURNING id",
        (tenant,),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO settings_tenant (tenant_id, min_delay_s, max_delay_s, hourly_burst_limit, quiet_start, "
        "quiet_end, humanize, allow_bot_to_bot, warmup, actions, unanswered_first_allowance, body_retention_days) "
        "VALUES (%s, 1, 2, 3, '22:00', '08:00', true, true, '{}', '{}', 1, 60)",
        (tenant,),
    )
    return tenant, number


def _figures(conn) -> list[tuple]:
    return conn.execute(
        "SELECT day, direction::text, sum(messages), sum(failed) FROM message_rollups GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()


def test_old_months_are_dropped_whole_and_their_figures_stay(services):
    """In a database of its own (one tenant, 60-day body retention): messages of four months ago go with their
    month's partition and their keys; last month's stay; the rollups count both before and after."""
    name = f"mirage_msgparts_{uuid.uuid4().hex[:8]}"
    url = services.create_database(name)
    try:
        migrate.upgrade(admin_url=url)
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            tenant, number = _owner_setup(conn)
            conn.execute("SELECT mirage_message_partitions_ensure((now() - interval '5 months')::date, 6)")
            for months_ago, count in ((4, 3), (1, 2)):
                conn.execute(
                    "INSERT INTO messages (tenant_id, wa_msg_id, direction, body, status, created_at, meta, "
                    "to_number_id) SELECT %s, 'W' || %s || '-' || g, 'in', 'oi', 'delivered', "
                    "now() - make_interval(months => %s), jsonb_build_object('send_key', 'k' || %s || '-' || g), %s "
                    "FROM generate_series(1, %s) g",
                    (tenant, months_ago, months_ago, months_ago, number, count),
                )
            conn.execute("SELECT mirage_advance_metric_rollups(100000)")
            before = _figures(conn)
            old_month = conn.execute("SELECT to_char(now() - interval '4 months', 'YYYYMM')").fetchone()[0]
            dropped = [r[0] for r in conn.execute("SELECT * FROM mirage_message_partitions_drop(now())")]
            assert f"messages_p{old_month}" in dropped
            assert not any(d >= f"messages_p{datetime.now(UTC) - timedelta(days=31):%Y%m}" for d in dropped)
            for statement in DELETE_MESSAGE_KEYS.values():
                conn.execute(statement.text.replace(":now", "now()").replace(":batch", "1000"))
            conn.execute("SELECT mirage_advance_metric_rollups(100000)")
            assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
            assert [r[0] for r in conn.execute("SELECT wa_msg_id FROM message_wa_ids ORDER BY 1")] == ["W1-1", "W1-2"]
            assert conn.execute("SELECT count(*) FROM message_send_keys").fetchone()[0] == 2
            assert _figures(conn) == before and sum(r[2] for r in before) == 5
    finally:
        services.drop_database(name)


def test_the_migration_moves_messages_and_their_keys(services):
    name = f"mirage_msgmove_{uuid.uuid4().hex[:8]}"
    url = services.create_database(name)
    try:
        migrate.upgrade("0026", admin_url=url)
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            tenant, _ = _owner_setup(conn)
            conn.execute(
                "INSERT INTO messages (tenant_id, wa_msg_id, direction, body, status, created_at, meta) "
                "SELECT %s, 'W' || g, 'in', 'oi', 'delivered', now() - make_interval(days => g * 20), "
                "CASE WHEN g %% 2 = 0 THEN jsonb_build_object('send_key', 'k' || g) ELSE '{}' END "
                "FROM generate_series(1, 6) g",
                (tenant,),
            )
            changes = conn.execute("SELECT count(*) FROM message_fact_changes").fetchone()[0]
        migrate.upgrade(admin_url=url)
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            where = conn.execute("SELECT DISTINCT tableoid::regclass::text FROM messages").fetchall()
            assert len(where) >= 4 and all(w[0].startswith("mirage_partitions.messages_p") for w in where)
            assert conn.execute("SELECT count(*) FROM message_wa_ids").fetchone()[0] == 6
            assert conn.execute("SELECT count(*) FROM message_send_keys").fetchone()[0] == 3
            # The copy is not a change of any message's facts.
            assert conn.execute("SELECT count(*) FROM message_fact_changes").fetchone()[0] == changes
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute("INSERT INTO messages (tenant_id, wa_msg_id, body) VALUES (%s, 'W3', 'again')", (tenant,))
        migrate.downgrade("0026", admin_url=url)
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 6
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute("INSERT INTO messages (tenant_id, wa_msg_id, body) VALUES (%s, 'W3', 'again')", (tenant,))
    finally:
        services.drop_database(name)


def test_a_message_older_than_every_month_gets_its_month_from_the_job(services, tenant_a):
    """A history sync can deliver a message of long ago: the DEFAULT partition takes it, and the job's next run
    makes its month (moving it there, keys and figures untouched), so that retention will drop it with that month."""
    long_ago = datetime.now(UTC) - timedelta(days=700)
    wa = f"WA-{uuid.uuid4().hex}"
    message = _insert(tenant_a, wa=wa, at=long_ago)
    with psycopg.connect(_libpq(services.admin_url)) as conn:
        assert conn.execute("SELECT tableoid::regclass::text FROM messages WHERE id = %s", (message,)).fetchone() == (
            "mirage_partitions.messages_default",
        )
        facts = conn.execute("SELECT sum(messages) FROM message_fact_changes WHERE tenant_id = %s", (tenant_a,))
        before = facts.fetchone()[0]
    assert ensure_message_partitions(datetime.now(UTC)) >= 1
    with psycopg.connect(_libpq(services.admin_url)) as conn:
        where = conn.execute("SELECT tableoid::regclass::text FROM messages WHERE id = %s", (message,)).fetchone()
        key = conn.execute("SELECT message_id FROM message_wa_ids WHERE wa_msg_id = %s", (wa,)).fetchone()
        facts = conn.execute("SELECT sum(messages) FROM message_fact_changes WHERE tenant_id = %s", (tenant_a,))
        assert (where, key, facts.fetchone()[0]) == (
            (f"mirage_partitions.messages_p{long_ago:%Y%m}",),
            (message,),
            before,
        )

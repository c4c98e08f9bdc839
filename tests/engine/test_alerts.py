"""Alerts that reach people: signed webhooks with retries, e-mail in the tenant's language, de-duplication, the
rate limit, the audit trail, tenant isolation, and where alerts come from today (a working number's close, an
automatic pause, a server that stops answering). Real PostgreSQL and Redis, a local HTTP receiver and a local SMTP
server; the engine's clock is frozen and warped, delayed jobs wait in the ManualDeferrer."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.core.redis import QUEUE_NAMES, get_redis
from mirage_app.engine import alerts, ingest, number_health, reputation, server_health
from mirage_app.engine.runtime import EngineRuntime, ManualDeferrer, use_runtime
from mirage_app.logic import alerts as rules
from mirage_app.logic.reputation import Standing
from mirage_app.models import UserRole
from mirage_app.models.numbers import STOPPED
from mirage_app.services import alert_channels, proxies, restrictions
from tests.engine.driver import BurstWorker
from tests.evolution.reference_payloads import closed
from tests.fakes.alert_receiver import AlertReceiver
from tests.fakes.smtp_server import FakeSMTP


class Warp:
    def __init__(self) -> None:
        self.clock = FrozenClock(datetime(2031, 3, 3, 12, 0, tzinfo=UTC))
        self.deferrer = ManualDeferrer()

    def work(self) -> None:
        """Release the delayed jobs due now and run every queued job."""
        self.deferrer.release_due(self.clock.now())
        BurstWorker(list(QUEUE_NAMES), connection=get_redis()).work(burst=True, logging_level="WARNING")

    def advance(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.work()


@pytest.fixture
def warp(services) -> Iterator[Warp]:
    get_redis().flushdb()
    w = Warp()
    with use_runtime(EngineRuntime(clock=w.clock, deferrer=w.deferrer)):
        yield w


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


def webhook(actor: Actor, receiver: AlertReceiver) -> alert_channels.CreatedChannel:
    return alert_channels.create_channel(actor, "webhook", "Ops hook", {"url": receiver.url})


def deliveries(tenant_id: uuid.UUID) -> list:
    with tenant_session(tenant_id) as s:
        return s.execute(
            text("SELECT id, status, attempt, status_code, held, next_attempt_at FROM alert_deliveries ORDER BY at, id")
        ).all()


def test_webhook_body_is_signed_with_the_channel_secret(warp, receiver, admin_actor):
    created = webhook(admin_actor, receiver)
    assert created.secret and len(created.secret) >= 32
    with tenant_session(admin_actor.tenant_id) as s:
        stored = s.execute(text("SELECT secret_enc FROM alert_channels")).scalar_one()
    assert created.secret not in stored  # encrypted at rest

    alerts.emit(admin_actor.tenant_id, rules.DISCONNECT, detail={"reason": "logged_out"})
    warp.work()

    [request] = receiver.requests
    expected = "sha256=" + hmac.new(created.secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers[rules.SIGNATURE_HEADER], expected)
    assert request.headers[rules.TIMESTAMP_HEADER] == str(int(warp.clock.now().timestamp()))
    body = json.loads(request.body)
    assert body["kind"] == rules.DISCONNECT and body["tenant_id"] == str(admin_actor.tenant_id)
    assert body["data"]["detail"] == {"reason": "logged_out"}
    assert [d.status for d in deliveries(admin_actor.tenant_id)] == ["sent"]


def test_a_failing_receiver_is_retried_with_backoff(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    receiver.answer(500, 503)
    alerts.emit(admin_actor.tenant_id, rules.AUTO_PAUSE, detail={"reason": "timeout"})
    warp.work()
    [first] = deliveries(admin_actor.tenant_id)
    assert (first.status, first.attempt, first.status_code) == ("retrying", 1, 500)
    assert first.next_attempt_at == warp.clock.now() + timedelta(seconds=rules.backoff_s(1))

    warp.advance(rules.backoff_s(1) - 1)  # not yet
    assert len(receiver.requests) == 1
    warp.advance(1)
    [second] = deliveries(admin_actor.tenant_id)
    assert (second.status, second.attempt, second.status_code) == ("retrying", 2, 503)
    assert second.next_attempt_at == warp.clock.now() + timedelta(seconds=2 * rules.BACKOFF_BASE_S)

    warp.advance(2 * rules.BACKOFF_BASE_S)
    [third] = deliveries(admin_actor.tenant_id)
    assert (third.status, third.attempt, third.status_code) == ("sent", 3, 200)
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 3  # each attempt signs its own sent_at


def test_an_attempt_whose_job_was_lost_is_queued_again(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    alerts.emit(admin_actor.tenant_id, rules.DISCONNECT)
    get_redis().flushdb()  # the queued job is gone
    warp.advance(60)
    assert receiver.requests == [] and alerts.recover_overdue() == 0  # not late enough to call it lost
    warp.clock.advance(alerts.RECOVER_AFTER)
    assert alerts.recover_overdue() == 1
    assert alerts.recover_overdue() == 1  # still due: the same job id, queued once
    warp.work()
    assert len(receiver.requests) == 1
    assert alerts.recover_overdue() == 0


def test_a_refusing_receiver_is_not_retried(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    receiver.answer(404)
    alerts.emit(admin_actor.tenant_id, rules.DISCONNECT)
    warp.work()
    [delivery] = deliveries(admin_actor.tenant_id)
    assert (delivery.status, delivery.attempt, delivery.status_code) == ("failed", 1, 404)
    assert warp.deferrer.pending() == 0


def test_duplicates_within_the_window_make_one_alert(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    for _ in range(3):
        alerts.emit(admin_actor.tenant_id, rules.DISCONNECT, detail={"reason": "close"})
        warp.advance(60)
    assert len(receiver.requests) == 1
    with tenant_session(admin_actor.tenant_id) as s:
        assert tuple(s.execute(text("SELECT count(*), max(repeats) FROM alert_events")).one()) == (1, 2)

    warp.advance(rules.DEDUPE_WINDOW.total_seconds())
    alerts.emit(admin_actor.tenant_id, rules.DISCONNECT, detail={"reason": "close"})
    warp.work()
    assert len(receiver.requests) == 2  # past the window it is news again


def test_the_same_alert_noticed_at_once_by_many_workers_is_one_alert(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: alerts.emit(admin_actor.tenant_id, rules.SERVER_UNREACHABLE), range(6)))
    warp.work()
    assert len(receiver.requests) == 1
    with tenant_session(admin_actor.tenant_id) as s:
        assert tuple(s.execute(text("SELECT count(*), max(repeats) FROM alert_events")).one()) == (1, 5)


def test_the_rate_limit_holds_and_the_next_alert_summarises(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    kinds = list(rules.ALERT_KINDS)  # seven different alerts: none is a duplicate of another
    for kind in kinds:
        alerts.emit(admin_actor.tenant_id, kind)
        warp.advance(5)
    assert len(receiver.requests) == rules.RATE_LIMIT
    over = len(kinds) - rules.RATE_LIMIT
    assert [d.status for d in deliveries(admin_actor.tenant_id)].count("held") == over

    warp.advance(rules.RATE_WINDOW.total_seconds())
    alerts.emit(admin_actor.tenant_id, rules.RESTRICTION, server_id=None, detail={"again": True})
    warp.work()  # the same restriction about the tenant minutes ago: within the de-dup window, no news
    assert len(receiver.requests) == rules.RATE_LIMIT

    warp.advance(rules.DEDUPE_WINDOW.total_seconds())
    alerts.emit(admin_actor.tenant_id, rules.RESTRICTION)
    warp.work()
    last = json.loads(receiver.requests[-1].body)
    assert last["data"]["held"] == over and f"{over} " in last["text"]
    statuses = [d.status for d in deliveries(admin_actor.tenant_id)]
    assert statuses.count("summarised") == over and "held" not in statuses


def test_alerts_held_while_others_wait_ride_on_one_that_goes_out(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    for kind in rules.ALERT_KINDS:  # all noticed before any delivery ran
        alerts.emit(admin_actor.tenant_id, kind)
    warp.work()
    assert len(receiver.requests) == rules.RATE_LIMIT
    told = sum(json.loads(r.body)["data"]["held"] for r in receiver.requests)
    assert told == len(rules.ALERT_KINDS) - rules.RATE_LIMIT


def _email_channel(actor: Actor, smtp: FakeSMTP) -> None:
    alert_channels.create_channel(
        actor,
        "email",
        "On-call",
        {"host": "127.0.0.1", "port": str(smtp.port), "tls": "none", "from": "mirage@ops.test",
         "to": "ana@ops.test, bruno@ops.test"},
    )  # fmt: skip


def test_the_email_arrives_in_the_tenant_language(warp, smtp, admin_actor):
    _email_channel(admin_actor, smtp)
    alerts.emit(admin_actor.tenant_id, rules.DISCONNECT, detail={"reason": "logged_out"})
    warp.work()
    with tenant_session(admin_actor.tenant_id) as s:
        s.execute(text("UPDATE tenants SET locale = 'en' WHERE id = :t"), {"t": admin_actor.tenant_id})
        s.commit()
    alerts.emit(admin_actor.tenant_id, rules.AUTO_PAUSE, detail={"reason": "timeout"})
    warp.work()

    pt, en = smtp.inbox
    assert pt["Subject"] == "Mirage: Mirage desconectou"
    assert "Quando: 2031-03-03 09:00 (America/Sao_Paulo)" in pt.get_content()
    assert pt["To"] == "ana@ops.test, bruno@ops.test" and pt["From"] == "mirage@ops.test"
    assert en["Subject"] == "Mirage: Mirage paused after repeated failures"
    assert "reason: timeout" in en.get_content()


def test_every_delivery_is_audited(warp, receiver, smtp, admin_actor):
    webhook(admin_actor, receiver)
    _email_channel(admin_actor, smtp)
    receiver.answer(500)
    alerts.emit(admin_actor.tenant_id, rules.SERVER_UNREACHABLE)
    warp.work()
    warp.advance(rules.backoff_s(1))
    alert_channels.send_test_alert(admin_actor, alert_channels.list_channels(admin_actor)[1].id)
    with tenant_session(admin_actor.tenant_id) as s:
        attempts = s.execute(text("SELECT sum(attempt) FROM alert_deliveries")).scalar_one()
        audited = s.execute(
            text("SELECT after->>'status' FROM audit_log WHERE action = 'alert.delivery' ORDER BY at, id")
        ).scalars()
        statuses = list(audited)
        changes = s.execute(text("SELECT count(*) FROM audit_log WHERE action LIKE 'alert_channel.%'")).scalar()
    assert attempts == len(statuses) == 4  # webhook x2, e-mail, the test
    assert sorted(statuses) == ["retrying", "sent", "sent", "sent"]
    assert changes == 3  # two channels created, one test


def test_the_test_alert_reports_its_outcome(warp, receiver, admin_actor):
    channel = webhook(admin_actor, receiver).channel
    assert alert_channels.send_test_alert(admin_actor, channel.id) == alert_channels.TestOutcome(True, 200, None)
    receiver.answer(500)
    failed = alert_channels.send_test_alert(admin_actor, channel.id)
    assert not failed.ok and failed.status_code == 500
    assert json.loads(receiver.requests[0].body)["kind"] == rules.TEST
    assert [d.kind for d in alert_channels.recent_deliveries(admin_actor)] == ["test", "test"]


def test_one_tenant_never_sees_another_tenants_channels(warp, receiver, admin_actor, tenant_b):
    webhook(admin_actor, receiver)
    alerts.emit(admin_actor.tenant_id, rules.DISCONNECT)
    warp.work()
    other = Actor(tenant_id=tenant_b, role=UserRole.admin, label="b@test", mfa_enabled=True)
    assert alert_channels.list_channels(other) == []
    assert alert_channels.recent_deliveries(other) == []
    [delivery] = deliveries(admin_actor.tenant_id)
    assert alerts.deliver(tenant_b, delivery.id) == "missing"
    with pytest.raises(NotFound):
        alert_channels.send_test_alert(other, alert_channels.list_channels(admin_actor)[0].id)
    alerts.emit(tenant_b, rules.DISCONNECT)  # tenant B has no channel: nothing goes to A's receiver
    warp.work()
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        ("webhook", {"url": "ftp://example.com/x"}, "url"),
        ("webhook", {"url": "https://exa mple.com"}, "url"),
        ("email", {"host": "smtp.test", "port": "70000", "from": "a@b.co", "to": "c@d.co"}, "port"),
        ("email", {"host": "smtp.test", "port": "587", "from": "nobody", "to": "c@d.co"}, "from"),
        ("email", {"host": "smtp.test", "port": "587", "from": "a@b.co", "to": "c@d.co, oops"}, "to"),
        ("email", {"host": "", "port": "587", "from": "a@b.co", "to": "c@d.co"}, "host"),
        ("whatsapp", {"phone": "12"}, "phone"),
    ],
)
def test_bad_settings_are_refused_with_the_field_and_nothing_written(admin_actor, kind, fields, field):
    with pytest.raises(ValidationFailed) as caught:
        alert_channels.create_channel(admin_actor, kind, "Bad", fields)
    assert caught.value.field == field
    assert alert_channels.list_channels(admin_actor) == []


def test_only_admins_change_channels(receiver, admin_actor):
    operator = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.operator, label="op@test")
    with pytest.raises(PermissionDenied):
        alert_channels.create_channel(operator, "webhook", "Hook", {"url": receiver.url})
    channel = webhook(admin_actor, receiver).channel
    for change in (
        lambda: alert_channels.update_channel(operator, channel.id, "X", {"url": receiver.url}),
        lambda: alert_channels.delete_channel(operator, channel.id),
        lambda: alert_channels.send_test_alert(operator, channel.id),
    ):
        with pytest.raises(PermissionDenied):
            change()
    assert [c.name for c in alert_channels.list_channels(operator)] == ["Ops hook"]  # reading is open


def test_emit_never_raises(warp, admin_actor):
    alerts.emit(admin_actor.tenant_id, rules.DISCONNECT, number_id=uuid.uuid4())  # no such number: FK refuses
    alerts.emit("not-a-tenant", rules.DISCONNECT)
    with tenant_session(admin_actor.tenant_id) as s:
        assert s.execute(text("SELECT count(*) FROM alert_events")).scalar() == 0


def _number(tenant_id: uuid.UUID, status: str, reason: str | None = None) -> uuid.UUID:
    with tenant_session(tenant_id) as s:
        number_id = s.execute(
            text(
                "INSERT INTO numbers (tenant_id, session_id, label, status, disconnect_reason, wa_number, "
                "failure_streak, active_days) "
                "VALUES (:t, :sid, 'Vendas 1', CAST(:st AS number_status), :r, '+5511999990000', 0, 0) RETURNING id"
            ),
            {"t": tenant_id, "sid": f"mrg-{uuid.uuid4().hex[:12]}", "st": status, "r": reason},
        ).scalar_one()
        s.commit()
    return number_id


def _close(tenant_id: uuid.UUID, number_id: uuid.UUID, reason: int) -> None:
    payload = closed(reason) | {"date_time": f"2031-03-03T12:00:{uuid.uuid4().int % 60:02d}.000Z"}
    auth = ingest.InstanceAuth(tenant_id, number_id, None)
    ingest.ingest(auth, json.dumps(payload).encode(), payload)


def test_a_working_number_that_closes_alerts(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    number_id = _number(admin_actor.tenant_id, "connected")
    _close(admin_actor.tenant_id, number_id, 401)
    warp.work()
    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["kind"] == rules.DISCONNECT and body["data"]["number_id"] == str(number_id)
    assert "Vendas 1 (+5511999990000)" in body["title"]


def test_a_ban_like_close_alerts_as_such(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    number_id = _number(admin_actor.tenant_id, "connected")
    _close(admin_actor.tenant_id, number_id, 403)
    warp.work()
    assert [json.loads(r.body)["kind"] for r in receiver.requests] == [rules.BAN_LIKE_CLOSE]


def test_a_qr_attempt_or_the_operators_logout_alerts_nobody(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    pairing = _number(admin_actor.tenant_id, "connecting")
    stopped = _number(admin_actor.tenant_id, "disconnected", STOPPED)
    _close(admin_actor.tenant_id, pairing, 408)
    _close(admin_actor.tenant_id, stopped, 401)
    warp.work()
    assert receiver.requests == []


def test_an_automatic_pause_alerts(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    number_id = _number(admin_actor.tenant_id, "connected")
    with tenant_session(admin_actor.tenant_id) as s:
        paused = number_health.record_failure(s, admin_actor.tenant_id, number_id, "timeout", 1, warp.clock)
        s.commit()
    assert paused
    number_health.alert_paused(admin_actor.tenant_id, number_id, "timeout")
    warp.work()
    body = json.loads(receiver.requests[0].body)
    assert body["kind"] == rules.AUTO_PAUSE and body["data"]["detail"] == {"reason": "timeout"}


def test_a_server_that_stops_answering_alerts_its_tenant(warp, receiver, admin_actor):
    webhook(admin_actor, receiver)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tenant_session(admin_actor.tenant_id) as s:
        server_id = s.execute(
            text(
                "INSERT INTO evolution_servers (tenant_id, name, base_url, health, state) "
                "VALUES (:t, 'Rack 2', :url, 'ok', 'active') RETURNING id"
            ),
            {"t": admin_actor.tenant_id, "url": f"http://127.0.0.1:{port}"},
        ).scalar_one()
        s.commit()
    try:
        server_health.probe_all(warp.clock)
        warp.work()
        kinds = [(json.loads(r.body)["kind"], json.loads(r.body)["data"]["server_id"]) for r in receiver.requests]
        assert (rules.SERVER_UNREACHABLE, str(server_id)) in kinds
    finally:
        with tenant_session(admin_actor.tenant_id) as s:
            s.execute(text("UPDATE evolution_servers SET state = 'disabled' WHERE id = :id"), {"id": server_id})
            s.commit()


def test_a_whatsapp_alert_goes_from_a_connected_number(engine, admin_actor):
    from tests.engine.conftest import connect_numbers

    channel = alert_channels.create_channel(admin_actor, "whatsapp", "Plantão", {"phone": "+55 11 97777-0001"}).channel
    assert channel.config == {"phone": "+5511977770001"}
    nobody = alert_channels.send_test_alert(admin_actor, channel.id)
    assert not nobody.ok and "no connected number" in (nobody.error or "")

    engine.sim.add_human("5511977770001", "Operadora", reply_probability=0.0, optout_probability=0.0)
    [number_id] = connect_numbers(admin_actor, engine.sim, ["+5511966660001"], engine.clock)
    assert alert_channels.send_test_alert(admin_actor, channel.id).ok
    alerts.emit(admin_actor.tenant_id, rules.RESTRICTION, number_id=number_id, detail={"until": "tomorrow"})
    BurstWorker(list(QUEUE_NAMES), connection=get_redis()).work(burst=True, logging_level="WARNING")

    sent = [m for m in engine.sim.messages(from_me=True) if m.peer_phone == "5511977770001"]
    assert [m.text.splitlines()[0] for m in sent] == [
        "*Mirage: alerta de teste*",
        "*Mirage: Number 1 (+5511966660001) está restrito pelo WhatsApp*",
    ]


def test_editing_a_channel_keeps_its_password_unless_a_new_one_is_typed(warp, smtp, admin_actor):
    fields = {"host": "127.0.0.1", "port": str(smtp.port), "tls": "none", "user": "ops", "password": "first-pass",
              "from": "mirage@ops.test", "to": "ana@ops.test"}  # fmt: skip
    channel = alert_channels.create_channel(admin_actor, "email", "On-call", fields).channel

    def stored() -> str:
        with tenant_session(admin_actor.tenant_id) as s:
            return s.execute(text("SELECT secret_enc FROM alert_channels")).scalar_one()

    first = stored()
    assert "first-pass" not in first
    changed = alert_channels.update_channel(admin_actor, channel.id, "Night shift", fields | {"password": ""}, False)
    assert (changed.name, changed.enabled, stored()) == ("Night shift", False, first)
    alert_channels.update_channel(admin_actor, channel.id, "Night shift", fields | {"password": "second-pass"})
    assert stored() != first
    with pytest.raises(ValidationFailed) as caught:
        alert_channels.update_channel(admin_actor, channel.id, "Night shift", fields | {"port": "0"})
    assert caught.value.field == "port"
    with tenant_session(admin_actor.tenant_id) as s:
        entries = s.execute(
            text("SELECT before, after FROM audit_log WHERE action = 'alert_channel.update' ORDER BY at, id")
        ).all()
    assert len(entries) == 2
    assert not any(p in str(e) for e in entries for p in ("first-pass", "second-pass"))  # no password logged
    assert entries[0].before["name"] == "On-call" and entries[0].after["enabled"] is False


def test_a_restriction_a_failing_proxy_and_a_fall_in_band_alert(warp, receiver, admin_actor):
    """The number-safety events of issue 16, each from the one place it happens."""
    webhook(admin_actor, receiver)
    tenant = admin_actor.tenant_id
    number_id = _number(tenant, "connected")
    restrictions.on_restriction(tenant, number_id, uuid.uuid4(), warp.clock.now() + timedelta(days=1))
    second = _number(tenant, "connected")
    proxy = uuid.uuid4()
    proxies.on_proxy_failure(tenant, proxy, "connection refused", [number_id, second])  # one alert for the proxy
    proxies.on_proxy_failure(tenant, proxy, "connection refused", [number_id, second])  # the same: de-duplicated
    with tenant_session(tenant) as s:
        healthy, cold = Standing(82.0, "healthy", None), Standing(51.0, "cold", None)
        reputation.on_band_change(s, tenant, number_id, healthy, cold, [])  # a fall: alerted
        reputation.on_band_change(s, tenant, number_id, cold, healthy, [])  # a recovery: audited only
        s.commit()
    warp.work()
    kinds = sorted(json.loads(r.body)["kind"] for r in receiver.requests)
    assert kinds == sorted([rules.RESTRICTION, rules.PROXY_FAILURE, rules.SCORE_DROP])
    drop = next(json.loads(r.body) for r in receiver.requests if json.loads(r.body)["kind"] == rules.SCORE_DROP)
    assert drop["data"]["detail"]["band"] == "healthy → cold"
    failing = next(json.loads(r.body) for r in receiver.requests if json.loads(r.body)["kind"] == rules.PROXY_FAILURE)
    assert failing["data"]["detail"]["numbers"].count(",") == 1  # both numbers named in the one alert

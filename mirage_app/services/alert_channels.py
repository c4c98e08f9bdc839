"""Alert channels: where a tenant's alerts go (the settings page's "Alerts" card and its test button).

Everyone signed in sees the channels and the last deliveries; adding, changing, removing and testing a channel
are the admin's (tenant settings). A webhook's signing secret is generated here and shown once; it and an SMTP
password are stored encrypted and never read back to a page.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.db import tenant_session
from mirage_app.core.security import encrypt, new_token
from mirage_app.engine import alerts
from mirage_app.logic import alerts as rules
from mirage_app.logic.phone import InvalidPhone, normalise_e164

MAX_CHANNELS = 20
DELIVERIES_SHOWN = 20


@dataclass(frozen=True)
class ChannelView:
    id: uuid.UUID
    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]  # never a secret: url; host, port, tls, user, from, to; phone
    created_at: datetime

    @property
    def target(self) -> str:
        """Where it sends, in one line."""
        return self.config.get("url") or self.config.get("to") or self.config.get("phone") or ""


@dataclass(frozen=True)
class CreatedChannel:
    channel: ChannelView
    secret: str | None  # the webhook's signing secret, shown once; None for other kinds


@dataclass(frozen=True)
class DeliveryView:
    id: uuid.UUID
    channel_name: str
    kind: str  # the alert's kind, or "test"
    status: str
    attempt: int
    status_code: int | None
    error: str | None
    at: datetime


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    status_code: int | None
    error: str | None


def list_channels(actor: Actor) -> list[ChannelView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(
            text(
                "SELECT id, kind::text AS kind, name, enabled, config, created_at FROM alert_channels "
                "ORDER BY created_at"
            )
        ).all()
    return [ChannelView(r.id, r.kind, r.name, r.enabled, r.config, r.created_at) for r in rows]


def recent_deliveries(actor: Actor, limit: int = DELIVERIES_SHOWN) -> list[DeliveryView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(
            text(
                "SELECT d.id, c.name, COALESCE(e.kind, 'test') AS kind, d.status, d.attempt, d.status_code, "
                "d.error, d.at FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id "
                "LEFT JOIN alert_events e ON e.id = d.event_id ORDER BY d.at DESC, d.id LIMIT :limit"
            ),
            {"limit": limit},
        ).all()
    return [DeliveryView(*row) for row in rows]


def create_channel(actor: Actor, kind: str, name: str, fields: dict[str, Any]) -> CreatedChannel:
    """`fields`: webhook: url; email: host, port, tls, user, password, from, to; whatsapp: phone."""
    authorize(actor, Action.settings_tenant)
    if kind not in rules.CHANNEL_KINDS:
        raise ValidationFailed("alerts.kind_invalid", field="kind")
    name = _name(name)
    config, secret = _clean(kind, fields, creating=True)
    with tenant_session(actor.tenant_id) as s:
        count = s.execute(text("SELECT count(*) FROM alert_channels")).scalar_one()
        if count >= MAX_CHANNELS:
            raise ValidationFailed("alerts.too_many", maximum=MAX_CHANNELS)
        row = s.execute(
            text(
                "INSERT INTO alert_channels (tenant_id, kind, name, config, secret_enc) "
                "VALUES (:t, CAST(:k AS alert_channel_kind), :n, CAST(:c AS jsonb), :sec) RETURNING id, created_at"
            ),
            {
                "t": actor.tenant_id,
                "k": kind,
                "n": name,
                "c": _json(config),
                "sec": encrypt(secret) if secret else None,
            },
        ).first()
        audit.record(
            s, actor, "alert_channel.create", "alert_channel", row.id, after={"kind": kind, "name": name} | config
        )
        s.commit()
    view = ChannelView(row.id, kind, name, True, config, row.created_at)
    return CreatedChannel(view, secret if kind == rules.WEBHOOK else None)


def update_channel(
    actor: Actor, channel_id: uuid.UUID | str, name: str, fields: dict[str, Any], enabled: bool = True
) -> ChannelView:
    """Change a channel; an empty SMTP password keeps the stored one (it is never shown to be re-typed)."""
    authorize(actor, Action.settings_tenant)
    name = _name(name)
    with tenant_session(actor.tenant_id) as s:
        before = _get(s, channel_id)
        config, secret = _clean(before.kind, fields, creating=False)
        sets = "name = :n, config = CAST(:c AS jsonb), enabled = :en, updated_at = now()"
        if secret:
            sets += ", secret_enc = :sec"
        s.execute(
            text(f"UPDATE alert_channels SET {sets} WHERE id = :id"),
            {"n": name, "c": _json(config), "en": enabled, "sec": encrypt(secret) if secret else None, "id": before.id},
        )
        audit.record(
            s,
            actor,
            "alert_channel.update",
            "alert_channel",
            before.id,
            before={"name": before.name, "enabled": before.enabled} | before.config,
            after={"name": name, "enabled": enabled, "password_changed": bool(secret)} | config,
        )
        s.commit()
    return ChannelView(before.id, before.kind, name, enabled, config, before.created_at)


def delete_channel(actor: Actor, channel_id: uuid.UUID | str) -> None:
    authorize(actor, Action.settings_tenant)
    with tenant_session(actor.tenant_id) as s:
        before = _get(s, channel_id)
        s.execute(text("DELETE FROM alert_channels WHERE id = :id"), {"id": before.id})
        audit.record(
            s,
            actor,
            "alert_channel.delete",
            "alert_channel",
            before.id,
            before={"kind": before.kind, "name": before.name} | before.config,
        )
        s.commit()


def send_test_alert(actor: Actor, channel_id: uuid.UUID | str) -> TestOutcome:
    """Send a test alert now through one channel; the delivery is logged and audited by the engine."""
    authorize(actor, Action.settings_tenant)
    with tenant_session(actor.tenant_id) as s:
        channel = _get(s, channel_id)
        audit.record(s, actor, "alert_channel.test", "alert_channel", channel.id, after={"name": channel.name})
        s.commit()
    sent = alerts.send_test(actor.tenant_id, channel.id)
    return TestOutcome(sent.ok, sent.status_code, sent.error)


def _get(s, channel_id: uuid.UUID | str) -> ChannelView:
    try:
        wanted = uuid.UUID(str(channel_id))
    except ValueError:
        raise NotFound("alerts.not_found") from None
    row = s.execute(
        text("SELECT id, kind::text AS kind, name, enabled, config, created_at FROM alert_channels WHERE id = :id"),
        {"id": wanted},
    ).first()
    if row is None:
        raise NotFound("alerts.not_found")
    return ChannelView(row.id, row.kind, row.name, row.enabled, row.config, row.created_at)


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("alerts.name_required", field="name")
    return name


def _clean(kind: str, fields: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], str | None]:
    """The channel's stored settings and its secret (generated for a new webhook; the SMTP password as typed)."""
    value = {key: str(v).strip() for key, v in fields.items() if v is not None}
    if kind == rules.WEBHOOK:
        if error := rules.check_webhook_url(value.get("url", "")):
            raise ValidationFailed(error.code, field=error.field)
        return {"url": value["url"]}, new_token(32) if creating else None
    if kind == rules.WHATSAPP:
        try:
            return {"phone": normalise_e164(value.get("phone", ""))}, None
        except InvalidPhone:
            raise ValidationFailed("alerts.phone_invalid", field="phone") from None
    if not value.get("host") or len(value["host"]) > 255 or " " in value["host"]:
        raise ValidationFailed("alerts.host_required", field="host")
    tls = value.get("tls") or "starttls"
    checks = (
        rules.check_port(value.get("port", "")),
        None if tls in rules.TLS_MODES else rules.FieldError("tls", "alerts.tls_invalid"),
        rules.check_email(value.get("from", ""), "from"),
        rules.check_recipients(value.get("to", "")),
    )
    if error := next((c for c in checks if c), None):
        raise ValidationFailed(error.code, field=error.field)
    config = {
        "host": value["host"],
        "port": int(value["port"]),
        "tls": tls,
        "user": value.get("user", ""),
        "from": value["from"],
        "to": ", ".join(rules.recipients(value["to"])),
    }
    return config, value.get("password") or None


def _json(value: dict) -> str:
    return json.dumps(value)

"""How an alert leaves Mirage: a signed webhook POST, an e-mail over SMTP, a WhatsApp text. Each returns a
`Sent` (status code or error) and never raises: the delivery loop decides on retries."""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx

from mirage_app.logic.alerts import EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, recipients, sign

TIMEOUT_S = 10.0
USER_AGENT = "Mirage-Alerts/1"


@dataclass(frozen=True)
class Sent:
    ok: bool
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Alert:
    """One alert as every channel tells it: `kind` for machines, `title` and `text` for people."""

    event_id: str | None
    kind: str
    title: str
    text: str
    at: datetime
    payload: dict[str, Any]  # the webhook's `data`: ids and the emitter's detail


def webhook_body(alert: Alert, tenant_id: str, sent_at: datetime) -> bytes:
    body = {
        "id": alert.event_id,
        "kind": alert.kind,
        "tenant_id": tenant_id,
        "title": alert.title,
        "text": alert.text,
        "at": alert.at.isoformat(),
        "sent_at": sent_at.isoformat(),  # inside the signed body: a receiver can refuse a replayed delivery
        "data": alert.payload,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def post_webhook(url: str, secret: str, alert: Alert, tenant_id: str, sent_at: datetime) -> Sent:
    body = webhook_body(alert, tenant_id, sent_at)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, body),
        TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
        EVENT_HEADER: alert.kind,
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_S, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Sent(False, error=f"{type(exc).__name__}: {exc}"[:500])
    ok = 200 <= response.status_code < 300
    return Sent(ok, response.status_code, None if ok else response.text[:200] or f"HTTP {response.status_code}")


def send_email(config: dict[str, Any], password: str | None, alert: Alert) -> Sent:
    message = EmailMessage()
    message["Subject"] = alert.title
    message["From"] = config["from"]
    message["To"] = ", ".join(recipients(config["to"]))
    message.set_content(alert.text)
    host, port, tls = config["host"], int(config["port"]), config.get("tls", "starttls")
    try:
        if tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
        with smtp:
            if tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.get("user"):
                smtp.login(config["user"], password or "")
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        return Sent(False, exc.smtp_code, str(exc.smtp_error)[:500])
    except (smtplib.SMTPException, OSError) as exc:
        return Sent(False, error=f"{type(exc).__name__}: {exc}"[:500])
    return Sent(True, 250)


def send_whatsapp(client: Any, instance: str, phone: str, alert: Alert) -> Sent:
    """`client`: the Evolution client of the server holding `instance` (a healthy number of the tenant)."""
    try:
        client.send_text(instance, phone.lstrip("+"), f"*{alert.title}*\n{alert.text}")
    except Exception as exc:  # any Evolution failure is a failed attempt, retried like the others
        return Sent(False, getattr(exc, "status", None), f"{type(exc).__name__}: {exc}"[:500])
    return Sent(True, 201)

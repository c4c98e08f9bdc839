"""Alert rules without I/O: which alerts exist, de-duplication, the per-channel rate limit, retry backoff, the
webhook signature and the checks on a channel's settings."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

DISCONNECT = "disconnect"
BAN_LIKE_CLOSE = "ban_like_close"
AUTO_PAUSE = "auto_pause"
RESTRICTION = "restriction"
SCORE_DROP = "score_drop"
PROXY_FAILURE = "proxy_failure"
SERVER_UNREACHABLE = "server_unreachable"
ALERT_KINDS = (DISCONNECT, BAN_LIKE_CLOSE, AUTO_PAUSE, RESTRICTION, SCORE_DROP, PROXY_FAILURE, SERVER_UNREACHABLE)
TEST = "test"

# Where an alert goes (a plain tuple, not an enum: "webhook", "email", "whatsapp" are ordinary words on screens)
WEBHOOK = "webhook"  # a signed JSON POST
EMAIL = "email"  # SMTP
WHATSAPP = "whatsapp"  # a text to an operator's phone from one of the tenant's connected numbers
CHANNEL_KINDS = (WEBHOOK, EMAIL, WHATSAPP)  # the "send a test alert" button: never de-duplicated nor rate-limited

DEDUPE_WINDOW = timedelta(minutes=15)  # the same alert about the same subject again within this: one alert
RATE_WINDOW = timedelta(minutes=10)
RATE_LIMIT = 5  # alerts per channel per RATE_WINDOW; the rest are held and counted into the next one that goes out
MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 1800.0

SIGNATURE_HEADER = "X-Mirage-Signature"
TIMESTAMP_HEADER = "X-Mirage-Timestamp"
EVENT_HEADER = "X-Mirage-Event"

TLS_MODES = ("starttls", "ssl", "none")
MAX_RECIPIENTS = 20
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
# scheme, a host (name, IPv4 or [IPv6]), an optional port, then anything but spaces
_WEBHOOK_URL = re.compile(r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?([/?#]\S*)?$")


def subject_of(number_id: uuid.UUID | str | None, server_id: uuid.UUID | str | None) -> str:
    """What an alert is about, for de-duplication: a number, else a server, else the whole tenant."""
    if number_id is not None:
        return f"number:{number_id}"
    if server_id is not None:
        return f"server:{server_id}"
    return "tenant"


def proxy_subject(proxy_id: uuid.UUID | str) -> str:
    """A failing proxy is one alert naming its numbers, de-duplicated per proxy (not one per number)."""
    return f"proxy:{proxy_id}"


def is_duplicate(last_at: datetime | None, now: datetime, window: timedelta = DEDUPE_WINDOW) -> bool:
    """The same kind and subject was alerted at `last_at`: within the window it is the same alert."""
    return last_at is not None and now - last_at < window


def over_rate_limit(sent_in_window: int, limit: int = RATE_LIMIT) -> bool:
    """`sent_in_window`: deliveries the channel already let through within RATE_WINDOW."""
    return sent_in_window >= limit


def backoff_s(attempt: int, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S) -> float:
    """Wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed: base, 2×base, 4×base… capped."""
    return min(cap_s, base_s * 2 ** max(0, attempt - 1))


def should_retry(attempt: int, status_code: int | None, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """A refused request (4xx other than 408/429) will be refused again; anything else is worth another try."""
    if attempt >= max_attempts:
        return False
    return status_code is None or status_code >= 500 or status_code in (408, 429)


def sign(secret: str, body: bytes) -> str:
    """The `X-Mirage-Signature` value: HMAC-SHA256 of the raw body with the channel's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str


def check_webhook_url(url: str) -> FieldError | None:
    if len(url) > 500 or not _WEBHOOK_URL.match(url.strip()):
        return FieldError("url", "alerts.url_invalid")
    return None


def check_port(port: object) -> FieldError | None:
    try:
        value = int(str(port).strip())
    except ValueError:
        return FieldError("port", "alerts.port_invalid")
    return None if 1 <= value <= 65535 else FieldError("port", "alerts.port_invalid")


def recipients(text: str) -> list[str]:
    """The "to" box: addresses separated by commas, semicolons, spaces or lines."""
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


def check_email(address: str, field: str) -> FieldError | None:
    return None if _EMAIL.match(address.strip()) else FieldError(field, "alerts.email_invalid")


def check_recipients(text: str) -> FieldError | None:
    addresses = recipients(text)
    if not addresses or len(addresses) > MAX_RECIPIENTS:
        return FieldError("to", "alerts.recipients_invalid")
    return next((error for a in addresses if (error := check_email(a, "to"))), None)

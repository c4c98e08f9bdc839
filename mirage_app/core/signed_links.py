"""Links to one library file that work without a sign-in, for a limited time: what Evolution downloads when a number
posts a picture status (`sendStatus` takes a picture only as a URL; rich-actions §12.6).

A link names the tenant, the file and its expiry, and carries an HMAC of the three under a key derived for this
purpose only (`Settings.derived_secret`), so it can be neither forged nor stretched, and it opens nothing else.

Evolution fetches the URL itself and refuses hosts without a top-level domain (`isURL` with `require_tld`): a public
URL on `localhost` is written with 127.0.0.1, which it accepts, and which reaches Mirage when Evolution runs on the
same machine (the embedded default's simulator).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from mirage_app.core.config import get_settings

PURPOSE = "media-link"
# Long enough for a send held back by caps or a server outage; a status itself lasts 24 h.
LINK_TTL = timedelta(hours=6)


def _signature(tenant_id: uuid.UUID, asset_id: uuid.UUID, expires: int) -> str:
    key = get_settings().derived_secret(PURPOSE)
    return hmac.new(key, f"{tenant_id}:{asset_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def fetchable_base(public_url: str) -> str:
    """Mirage's public URL as Evolution can fetch from it (localhost → 127.0.0.1), without a trailing slash."""
    parts = urlsplit(public_url.rstrip("/"))
    if parts.hostname == "localhost":
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def file_link(tenant_id: uuid.UUID, asset_id: uuid.UUID, now: datetime, public_url: str | None = None) -> str:
    """The signed URL of one library file, valid for `LINK_TTL` from `now`."""
    expires = int((now + LINK_TTL).timestamp())
    signature = _signature(tenant_id, asset_id, expires)
    query = urlencode({"tenant": str(tenant_id), "expires": expires, "signature": signature})
    base = fetchable_base(public_url or get_settings().public_url)
    return f"{base}/api/media/{asset_id}/shared?{query}"


def link_valid(tenant_id: uuid.UUID, asset_id: uuid.UUID, expires: int, signature: str, now: datetime) -> bool:
    """Whether a link's signature is right and it has not expired."""
    if expires < now.timestamp():
        return False
    return hmac.compare_digest(_signature(tenant_id, asset_id, expires), signature)

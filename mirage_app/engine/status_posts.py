"""Status posts (every few minutes, `workers.jobs.post_statuses`): a number whose phase allows it posts a status
on the days and at the local time logic.status_posts draws for it, seen by the tenant's other numbers. Some are a
picture from the tenant's library that the number has not posted before (sent as a signed link: core.signed_links).

Each post is a queued `status` message with a send key per number and local day, so a repeated job writes it once;
the send pipeline then applies the same caps, quiet hours and gates as to any other message.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime

from sqlalchemy import text

from mirage_app.core.clock import Clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.engine import send_outcomes
from mirage_app.engine.effective_settings import TENANT_SETTINGS, settings_joins, settings_of
from mirage_app.engine.rich_sends import STATUS_COLOURS
from mirage_app.engine.runtime import runtime
from mirage_app.logic import actions
from mirage_app.logic.actions import Habits
from mirage_app.logic.dayparts import to_local
from mirage_app.logic.status_posts import post_time, status_line, with_picture
from mirage_app.models.messaging import insert_once_per_send_key
from mirage_app.models.tenancy import sends_held_since

NUMBERS = text(
    f"""
    SELECT n.id, n.wa_number, n.active_days, n.reputation_band, p.habits, COALESCE(p.locale, t.locale) AS locale,
           t.timezone, {TENANT_SETTINGS}
    FROM numbers n JOIN tenants t ON t.id = n.tenant_id LEFT JOIN personas p ON p.id = n.persona_id
    {settings_joins("n.tenant_id")}
    WHERE n.status = 'connected' AND n.archived_at IS NULL AND n.wa_number IS NOT NULL AND n.persona_id IS NOT NULL
      AND {sends_held_since("t")} IS NULL
    """
)

# A library picture this number has not posted as a status yet, in an order of its own.
UNPOSTED_PICTURE = text(
    """
    SELECT a.id FROM media_assets a
    WHERE a.kind = 'image' AND a.archived_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM messages m
                      WHERE m.from_number_id = CAST(:n AS uuid) AND m.kind = 'status' AND m.media_id = a.id)
    ORDER BY md5(a.id::text || CAST(:n AS text)) LIMIT 1
    """
)

INSERT_STATUS = text(
    insert_once_per_send_key(
        "tenant_id, from_number_id, direction, kind, body, meta, status, created_at, send_after, cap_weight, media_id",
        ":t, :n, 'out', 'status', :body, CAST(:meta AS jsonb), 'queued', :now, :now, :weight, :media",
    )
)


def post_statuses(clock: Clock | None = None) -> int:
    """Queue every status post that is due now, in every tenant; returns how many were queued."""
    rt = runtime()
    now = (clock or rt.clock).now()
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    return sum(_post_for_tenant(tenant, now) for tenant in tenants)


def _post_for_tenant(tenant_id: uuid.UUID, now: datetime) -> int:
    rt = runtime()
    queued: list[uuid.UUID] = []
    with tenant_session(tenant_id) as s:
        rows = s.execute(NUMBERS).all()
        if len(rows) < 2:
            return 0  # nobody of the tenant's own to see it
        for row in rows:
            settings = settings_of(row)
            local = to_local(now, row.timezone)
            if settings.quiet_hours.enabled and settings.quiet_hours.contains(local.time()):
                continue
            habits = Habits.from_mapping_or_default(row.habits)
            warm_day = max(1, row.active_days or 0)
            at = post_time(habits, settings.actions, warm_day, row.reputation_band, row.id, local.date())
            if at is None or local.time() < at:
                continue
            rng = random.Random(f"{row.id}|{local.date()}|style")
            meta = {
                "send_key": f"status:{row.id}:{local.date().isoformat()}",
                "app_origin": "status",
                "status_to": [r.wa_number for r in rows if r.id != row.id],
                "status_style": {"color": rng.choice(STATUS_COLOURS), "font": rng.randint(1, 5)},
            }
            picture = None
            if with_picture(settings.actions, warm_day, row.reputation_band, row.id, local.date()):
                picture = s.execute(UNPOSTED_PICTURE, {"n": str(row.id)}).scalar()
            message_id = s.execute(
                INSERT_STATUS,
                {
                    "t": tenant_id,
                    "n": row.id,
                    "body": status_line(row.locale, row.id, local.date()),
                    "meta": json.dumps(meta),
                    "now": now,
                    "weight": actions.cap_weight("status"),
                    "media": picture,
                },
            ).scalar()
            if message_id is not None:
                queued.append(message_id)
        s.commit()
    for message_id in queued:
        send_outcomes.schedule(rt, tenant_id, message_id, now)
    return len(queued)

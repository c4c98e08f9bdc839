"""RQ job entry points. Each is a thin call into the engine (or a service); the logic lives there.

Engine jobs take ids only; the time, the queue, Evolution and the LLM come from
`mirage_app.engine.runtime.runtime()` (injectable for time-warped tests).
"""

from __future__ import annotations

import uuid


def advance_metric_rollups() -> int:
    """Pending message changes into the metric rollups (every 30 s)."""
    from mirage_app.services.metric_rollups import advance_all

    return advance_all()


def rebuild_metric_rollups(tenant_id: str) -> int:
    """One tenant's rollups recomputed (after its time zone changed)."""
    from mirage_app.services.metric_rollups import rebuild

    return rebuild(uuid.UUID(tenant_id))


def conversation_tick() -> dict:
    """Plan due rounds, supervise running ones, recover lost sends (every minute)."""
    from mirage_app.engine.conversation_scheduler import tick

    return tick().as_dict()


def probe_evolution_servers() -> dict:
    """Health of every Evolution server (every 30 s): unreachable ones hold their numbers' sends."""
    from mirage_app.engine.server_health import probe_all

    return probe_all().as_dict()


def expire_qr_attempts() -> int:
    """QR attempts nobody scanned go back to "disconnected", in every tenant (every minute)."""
    from mirage_app.engine.runtime import runtime
    from mirage_app.services.number_lifecycle import expire_all_attempts

    return expire_all_attempts(runtime().clock)


def reconcile_instances() -> dict:
    """Complete or remove numbers whose creation Evolution never confirmed; delete orphan instances (every minute)."""
    from mirage_app.engine.runtime import runtime
    from mirage_app.services.instance_reconcile import reconcile_all

    return reconcile_all(runtime().clock).as_dict()


def upgrade_webhooks() -> dict:
    """Add the events Mirage now listens to to instances created before (hourly; each instance once per change)."""
    from mirage_app.services.webhook_upgrade import upgrade_all

    return upgrade_all().as_dict()


def sweep_restrictions() -> int:
    """Infer WhatsApp's reach-out restrictions from the numbers' recent sends, in every tenant (every minute)."""
    from mirage_app.engine.runtime import runtime
    from mirage_app.services.restrictions import sweep_all

    return sweep_all(runtime().clock)


def probe_proxies() -> int:
    """Test every proxy of every tenant from Mirage's side (every 2 minutes): failing ones hold their numbers."""
    from mirage_app.engine.runtime import runtime
    from mirage_app.services.proxies import probe_all

    return probe_all(runtime().clock)


def apply_retention() -> dict:
    """Bounded hot tables (hourly): webhook partitions made ahead and dropped when expired, per-tenant retention."""
    from mirage_app.engine.retention import apply_retention as apply

    return apply().as_dict()


def post_statuses() -> int:
    """Status posts due now, in every tenant (every 5 minutes)."""
    from mirage_app.engine.status_posts import post_statuses as post

    return post()


def start_round(tenant_id: str, round_id: str) -> str:
    from mirage_app.engine.rounds import start_round as start

    return start(tenant_id, round_id).state


def setup_group(tenant_id: str, conversation_id: str) -> str:
    """Create a group conversation's WhatsApp group among its numbers (queued by the conversation tick)."""
    from mirage_app.engine.groups import setup_group as setup

    return setup(tenant_id, conversation_id)


def on_message(tenant_id: str, message_id: str, from_contact: bool | None = None) -> str:
    """One of our numbers received a message: the dispatcher routes it (a contact's: opt-out, then the outreach
    exchange; a warming message: the next turn of its round)."""
    from mirage_app.engine.dispatch import on_message as dispatch

    return dispatch(tenant_id, message_id, from_contact)


def drain_inbox(slot: int) -> dict:
    """Work through the messages the webhook route handed to the engine (see engine.inbox)."""
    from rq import get_current_job

    from mirage_app.engine.inbox_drain import drain

    job = get_current_job()
    return drain(slot, job.id if job is not None else f"inline-{slot}").as_dict()


def outreach_tick() -> dict:
    """Openers for active outreach policies, exchange clean-up, lost inbound follow-ups (every minute)."""
    from mirage_app.engine.outreach_scheduler import tick

    return tick().as_dict()


def send_message(tenant_id: str, message_id: str) -> str:
    """One attempt of the humanised send pipeline for a queued message."""
    from mirage_app.engine.sending import process

    return process(tenant_id, message_id).state


def emit_alert(
    tenant_id: str, kind: str, number_id: str | None, server_id: str | None, detail: dict | None = None
) -> None:
    """An alert noticed on a hot path (the webhook ingest): stored and its deliveries queued here."""
    from mirage_app.engine.alerts import emit

    emit(tenant_id, kind, number_id=number_id, server_id=server_id, detail=detail)


def deliver_alert(tenant_id: str, delivery_id: str) -> str:
    """One attempt of one alert delivery; a failed one plans its retry with backoff."""
    from mirage_app.engine.alerts import deliver

    return deliver(tenant_id, delivery_id)


def recover_alerts() -> int:
    """Alert attempts whose job was lost are queued again (every minute)."""
    from mirage_app.engine.alerts import recover_overdue

    return recover_overdue()


def recompute_reputation() -> int:
    """Reputation of every number with something new since its last recompute (every minute)."""
    from mirage_app.engine.reputation import recompute_changed

    return recompute_changed()


def recompute_number_reputation(tenant_id: str, number_id: str, ban: bool = False) -> str | None:
    """One number's reputation at once (after a ban-like close or an automatic pause)."""
    from mirage_app.engine.reputation import recompute_number

    return recompute_number(tenant_id, number_id, ban)

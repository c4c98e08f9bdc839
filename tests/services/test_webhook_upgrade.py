"""The `webhook-upgrade` job: instances made before Mirage listened to an event get it, with their secret intact."""

from __future__ import annotations

from mirage_app.core.redis import get_redis
from mirage_app.engine.evolution_gateway import client_for
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.services import instances, webhook_upgrade
from mirage_app.services.instances import WEBHOOK_EVENTS
from workers.scheduler import PERIODIC_JOBS

OLD_EVENTS = ["QRCODE_UPDATED", "CONNECTION_UPDATE", "MESSAGES_UPSERT", "MESSAGES_UPDATE", "SEND_MESSAGE"]


def _client(actor, number):
    return client_for(actor.tenant_id, number.server_id)


def test_old_instances_get_the_new_events_and_keep_their_secret(simulator, admin_actor):
    job = next(j for j in PERIODIC_JOBS if j.name == "webhook-upgrade")
    assert job.func == "workers.jobs.upgrade_webhooks" and job.queue == "low"
    old = instances.create_instance(admin_actor, "De antes")
    foreign = instances.create_instance(admin_actor, "Webhook de outro")
    current = instances.create_instance(admin_actor, "Em dia")
    rows = {n.id: n for n in instances.list_instances(admin_actor)}
    client = _client(admin_actor, rows[old.id])
    before = client.find_webhook(old.session_id)
    client.set_webhook(old.session_id, before["url"], before["headers"], OLD_EVENTS)  # as 0014's Mirage left it
    client.set_webhook(foreign.session_id, "http://127.0.0.1:9/elsewhere", {"authorization": "x"}, OLD_EVENTS)
    get_redis().delete(webhook_upgrade.CURRENT_KEY)

    report = webhook_upgrade.UpgradeReport()
    webhook_upgrade.upgrade_tenant(admin_actor.tenant_id, report)
    assert (report.upgraded, report.not_ours, report.unreachable) == (1, 1, 0) and report.checked >= 3
    after = client.find_webhook(old.session_id)
    assert set(after["events"]) == set(WEBHOOK_EVENTS)
    # Same URL and secret: the deliveries already on their way still authenticate.
    assert after["url"] == before["url"] and after["headers"][SECRET_HEADER] == before["headers"][SECRET_HEADER]
    assert client.find_webhook(foreign.session_id)["events"] == OLD_EVENTS  # not Mirage's: left alone
    assert set(client.find_webhook(current.session_id)["events"]) == set(WEBHOOK_EVENTS)

    again = webhook_upgrade.UpgradeReport()
    webhook_upgrade.upgrade_tenant(admin_actor.tenant_id, again)
    assert again.checked == 0  # each instance is read once per change of the event list

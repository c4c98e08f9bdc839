"""Finding 8a of issue 14: Evolution timing out during instance creation leaves no debris.

Evolution makes the instance but answers after Mirage's client gave up (the simulator's `timeout_rate` fault: the
work is done, the answer hangs). The operator gets a clear 504 and the number reads "creating…"; once Evolution is
back the reconciliation job completes it (webhook set again, usable: Connect gives a QR) or, if Evolution never made
it, removes the row. Instances Mirage named but has no row for (older orphans) are deleted from platform servers;
other software's instances are left alone.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import evolution_gateway
from mirage_app.evolution.client import EvolutionClient
from mirage_app.services import instances
from mirage_app.services.instance_reconcile import CREATE_GRACE, reconcile_all
from tests.api.conftest import api_client


@pytest.fixture
def short_timeout(monkeypatch, simulator):
    """Mirage's Evolution clients give up after 0.3 s (10 s in production) while the simulator hangs 2 s."""
    monkeypatch.setattr(evolution_gateway, "CLIENT_TIMEOUT_S", 0.3)
    evolution_gateway.reset_evolution_client()
    yield
    simulator.set_faults(timeout_rate=0.0)
    monkeypatch.undo()
    evolution_gateway.reset_evolution_client()


def _sim_instances(simulator) -> dict:
    with simulator.state.core.lock:
        return dict(simulator.state.core.instances)


def _row(tenant, number_id):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT n.status::text AS status, n.creating_since, se.webhook_secret_hash FROM numbers n "
                 "JOIN sessions se ON se.number_id = n.id WHERE n.id = :id"),
            {"id": number_id},
        ).first()  # fmt: skip


def _create_timing_out(http, simulator, label: str) -> dict:
    simulator.set_faults(timeout_rate=1.0, hang_s=2.0)
    answer = http.post("/api/instances", json={"label": label})
    simulator.set_faults(timeout_rate=0.0)  # Evolution is back
    assert answer.status_code == 504, answer.text
    assert answer.json()["error"] == "instances.creation_unconfirmed" and answer.json()["detail"]
    [listed] = [i for i in http.get("/api/instances").json()["instances"] if i["label"] == label]
    assert listed["status"] == "creating"  # shown, not an orphan
    return listed


def _later() -> FrozenClock:
    return FrozenClock(system_clock.now() + CREATE_GRACE + timedelta(seconds=1))


def test_a_create_that_timed_out_is_completed_once_evolution_is_back(tenant_a, simulator, short_timeout):
    http = api_client(tenant_a)
    listed = _create_timing_out(http, simulator, "Timeout Ana")
    name = listed["session_id"]
    assert name in _sim_instances(simulator)  # Evolution made it although Mirage heard nothing
    secret_before = _row(tenant_a, listed["id"]).webhook_secret_hash

    assert reconcile_all(FrozenClock(system_clock.now())).completed == 0  # within the grace: the call may be live
    report = reconcile_all(_later())
    assert report.completed >= 1

    row = _row(tenant_a, listed["id"])
    assert row.creating_since is None and row.status == "disconnected"
    assert row.webhook_secret_hash != secret_before  # Mirage's webhook set again, with a secret only it knows
    webhook = _sim_instances(simulator)[name].webhook
    assert webhook is not None and webhook.url.endswith("/api/webhooks/evolution")
    [again] = [i for i in http.get("/api/instances").json()["instances"] if i["id"] == listed["id"]]
    assert again["status"] == "disconnected"
    qr = http.get(f"/api/instances/{listed['id']}/qr")  # usable: Connect gives a QR code
    assert qr.status_code == 200 and qr.json()["qr_code"], qr.text


def test_a_create_evolution_never_made_is_removed(tenant_a, simulator, short_timeout):
    http = api_client(tenant_a)
    listed = _create_timing_out(http, simulator, "Timeout Bia")
    EvolutionClient(simulator.url, simulator.api_key).delete(listed["session_id"])  # as if it never got made

    assert reconcile_all(_later()).removed >= 1
    assert _row(tenant_a, listed["id"]) is None
    assert listed["id"] not in {i["id"] for i in http.get("/api/instances").json()["instances"]}


def test_a_server_that_cannot_answer_keeps_the_number_creating_until_mirage_gives_up(
    tenant_a, simulator, short_timeout
):
    http = api_client(tenant_a)
    listed = _create_timing_out(http, simulator, "Timeout Caio")
    simulator.set_faults(timeout_rate=1.0, hang_s=2.0)  # Evolution still not answering when the job runs
    report = reconcile_all(_later())
    assert report.waiting >= 1 and _row(tenant_a, listed["id"]).creating_since is not None
    report = reconcile_all(FrozenClock(system_clock.now() + timedelta(hours=2)))
    assert report.removed >= 1 and _row(tenant_a, listed["id"]) is None
    simulator.set_faults(timeout_rate=0.0)
    # Its instance, made by Evolution, is now an orphan: the next sweep deletes it.
    assert listed["session_id"] in _sim_instances(simulator)
    reconcile_all(_later())
    assert listed["session_id"] not in _sim_instances(simulator)


def test_older_orphans_named_by_mirage_are_deleted_and_nothing_else(admin_actor, simulator):
    client = EvolutionClient(simulator.url, simulator.api_key)
    orphan, foreign, lookalike = "mrg-old-orphan-0badf00d", "crm-sales-1", "mrg-not-ours"
    for name in (orphan, foreign, lookalike):
        client.create_instance(name)
    live = instances.create_instance(admin_actor, "Live Dora")
    assert reconcile_all(_later()).orphans_deleted >= 1
    left = _sim_instances(simulator)
    assert orphan not in left
    assert foreign in left and lookalike in left  # not a name Mirage makes
    assert live.session_id in left  # a number with its row stays
    for name in (foreign, lookalike):
        client.delete(name)

"""The platform's Evolution servers from /platform: the platform operator (with MFA) lists, adds (probed first, the
key stored encrypted and never returned) and drains / activates them; a tenant admin and an operator without MFA
are refused."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from mirage_app.base.errors import NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.core.security import decrypt
from mirage_app.evolution.simulator import SimConfig
from mirage_app.evolution.simulator.pool import SimulatorPool
from mirage_app.models import UserRole
from mirage_app.services import evolution_servers, platform
from mirage_app.services.seed import DEFAULT_TENANT_ID, ensure_default_tenant
from tests.conftest import free_server_urls


def _operator(*, mfa: bool = True) -> Actor:
    return Actor(
        tenant_id=DEFAULT_TENANT_ID,
        role=UserRole.admin,
        label="admin@mirage.local",
        user_id=uuid.uuid4(),
        mfa_enabled=mfa,
        platform_operator=True,
    )


@pytest.fixture
def operator(services) -> Actor:
    ensure_default_tenant()
    return _operator()


@pytest.fixture
def sim_server(services):
    with SimulatorPool(1, config=SimConfig(seed=5)) as pool:
        server = pool.servers[0]
        free_server_urls([server.url])
        yield server
    # leave the shared database's pool as it was: no new number goes to a server that is gone
    for view in evolution_servers.platform_servers():
        if view.base_url == evolution_servers.clean_url(server.url):
            evolution_servers.set_platform_state(str(view.id), "disabled")


def test_operator_adds_drains_and_activates_a_platform_server(operator, sim_server):
    name = f"Rack {uuid.uuid4().hex[:6]}"
    with pytest.raises(ValidationFailed) as refused:
        platform.add_server(operator, name, sim_server.url, "wrong-key", 40)
    assert (refused.value.code, refused.value.field) == ("servers.key_refused", "api_key")
    with pytest.raises(ValidationFailed) as bad_url:
        platform.add_server(operator, name, "ftp://nowhere", sim_server.api_key, 40)
    assert bad_url.value.field == "base_url"
    with pytest.raises(ValidationFailed) as bad_capacity:
        platform.add_server(operator, name, sim_server.url, sim_server.api_key, "lots")
    assert bad_capacity.value.field == "capacity"

    added = platform.add_server(operator, name, sim_server.url, f"  {sim_server.api_key} ", "40")
    assert (added.name, added.owner, added.capacity, added.placed) == (name, "platform", 40, 0)
    assert (added.state, added.health) == ("active", "ok")
    assert sim_server.api_key not in repr(added)  # the view carries no key
    listed = platform.list_servers(operator)
    assert added.id in {v.id for v in listed} and {v.owner for v in listed} == {"platform"}
    with pytest.raises(ValidationFailed) as twice:
        platform.add_server(operator, "Again", sim_server.url + "/", sim_server.api_key)
    assert (twice.value.code, twice.value.field) == ("servers.duplicate_url", "base_url")

    # the key is stored encrypted at rest
    with admin_engine().connect() as conn:
        stored = conn.execute(
            text("SELECT api_key_enc FROM evolution_server_keys WHERE server_id = :id"), {"id": added.id}
        ).scalar_one()
    assert sim_server.api_key not in stored and decrypt(stored) == sim_server.api_key

    assert platform.set_server_state(operator, added.id, "draining").state == "draining"
    assert next(v for v in platform.list_servers(operator) if v.id == added.id).state == "draining"
    assert platform.set_server_state(operator, str(added.id), "active").state == "active"
    with pytest.raises(ValidationFailed):
        platform.set_server_state(operator, added.id, "disabled")  # the CLI's: it stops every tenant's numbers
    with pytest.raises(NotFound):
        platform.set_server_state(operator, "not-an-id", "draining")

    with tenant_session(DEFAULT_TENANT_ID) as s:
        entries = s.execute(
            text(
                "SELECT action, actor, after FROM audit_log WHERE entity_id = :id AND action LIKE 'platform.server%' "
                "ORDER BY at, action"
            ),
            {"id": str(added.id)},
        ).all()
    assert [e.action for e in entries] == ["platform.server_added", "platform.server_state", "platform.server_state"]
    assert {e.actor for e in entries} == {"platform:admin@mirage.local"}
    assert all(sim_server.api_key not in str(e.after) for e in entries)


def test_a_tenant_admin_or_an_operator_without_mfa_is_refused(services, tenant_a, sim_server):
    ensure_default_tenant()
    tenant_admin = Actor(tenant_id=tenant_a, role=UserRole.admin, label="a@x", user_id=uuid.uuid4(), mfa_enabled=True)
    for actor, reason in ((tenant_admin, "platform"), (_operator(mfa=False), "mfa_required")):
        for call in (
            lambda a: platform.list_servers(a),
            lambda a: platform.add_server(a, "Rack X", sim_server.url, sim_server.api_key),
            lambda a: platform.set_server_state(a, uuid.uuid4(), "draining"),
        ):
            with pytest.raises(PermissionDenied) as denied:
                call(actor)
            assert denied.value.reason == reason
    assert all(v.base_url != evolution_servers.clean_url(sim_server.url) for v in evolution_servers.platform_servers())

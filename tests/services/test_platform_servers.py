"""The platform's Evolution servers from /platform: the platform operator (with MFA) lists, adds (probed first, the
key stored encrypted and never returned), probes, resizes, re-keys, drains / activates / disables and deletes them
(disable and delete say first which numbers of which tenants sit on the server; a server with numbers is not
deleted); a tenant admin and an operator without MFA are refused."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.impact import Dependent, Effect
from mirage_app.base.permissions import Actor
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.core.security import decrypt
from mirage_app.evolution.simulator import SimConfig
from mirage_app.evolution.simulator.pool import SimulatorPool
from mirage_app.models import UserRole
from mirage_app.services import evolution_servers, platform
from mirage_app.services.seed import DEFAULT_TENANT_ID, ensure_default_tenant
from tests.conftest import free_server_urls, make_number


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
        platform.set_server_state(operator, added.id, "gone")
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
            lambda a: platform.probe_server(a, uuid.uuid4()),
            lambda a: platform.set_server_capacity(a, uuid.uuid4(), 10),
            lambda a: platform.set_server_key(a, uuid.uuid4(), sim_server.api_key),
            lambda a: platform.server_impact(a, uuid.uuid4(), "disable"),
            lambda a: platform.delete_server(a, uuid.uuid4()),
        ):
            with pytest.raises(PermissionDenied) as denied:
                call(actor)
            assert denied.value.reason == reason
    assert all(v.base_url != evolution_servers.clean_url(sim_server.url) for v in evolution_servers.platform_servers())


def _audited(server_id: uuid.UUID) -> list[str]:
    with tenant_session(DEFAULT_TENANT_ID) as s:
        return list(
            s.execute(
                text(
                    "SELECT action FROM audit_log WHERE entity_id = :id AND action LIKE 'platform.server%' "
                    "ORDER BY at, action"
                ),
                {"id": str(server_id)},
            ).scalars()
        )


def test_operator_probes_resizes_and_rekeys_a_platform_server(operator, sim_server, make_tenant):
    added = platform.add_server(operator, f"Rack {uuid.uuid4().hex[:6]}", sim_server.url, sim_server.api_key, 40)
    probed = platform.probe_server(operator, added.id)
    assert probed.health == "ok" and probed.last_probe_at >= added.last_probe_at

    for bad in ("lots", "0", "-3", evolution_servers.MAX_CAPACITY + 1):
        with pytest.raises(ValidationFailed) as refused:
            platform.set_server_capacity(operator, added.id, bad)
        assert (refused.value.code, refused.value.field) == ("servers.capacity_invalid", "capacity")
    tenant = make_tenant(f"Loja {uuid.uuid4().hex[:6]}")
    for i in range(3):
        make_number(tenant, f"Rack {i}", server_id=added.id)
    with pytest.raises(ValidationFailed) as below:
        platform.set_server_capacity(operator, added.id, "2")  # 3 numbers of a tenant are already on it
    assert (below.value.code, below.value.field, below.value.params["placed"]) == (
        "servers.capacity_below_placed",
        "capacity",
        3,
    )
    resized = platform.set_server_capacity(operator, str(added.id), " 3 ")
    assert (resized.capacity, resized.placed) == (3, 3)

    with pytest.raises(ValidationFailed) as refused_key:
        platform.set_server_key(operator, added.id, "not-its-key")  # probed first: not saved
    assert (refused_key.value.code, refused_key.value.field) == ("servers.key_refused", "api_key")
    with pytest.raises(ValidationFailed) as no_key:
        platform.set_server_key(operator, added.id, "  ")
    assert no_key.value.field == "api_key"
    assert platform.set_server_key(operator, added.id, sim_server.api_key).health == "ok"
    with admin_engine().connect() as conn:
        stored = conn.execute(
            text("SELECT api_key_enc FROM evolution_server_keys WHERE server_id = :id"), {"id": added.id}
        ).scalar_one()
    assert decrypt(stored) == sim_server.api_key

    with tenant_session(tenant) as s:  # a tenant's own server is not the platform's to change
        own = uuid.uuid4()
        s.execute(
            text("INSERT INTO evolution_servers (id, tenant_id, name, base_url) VALUES (:id, :t, 'Own', :url)"),
            {"id": own, "t": tenant, "url": f"https://own-{own.hex[:8]}.example.com"},
        )
        s.commit()
    for call in (platform.probe_server, lambda a, i: platform.set_server_capacity(a, i, 9), platform.delete_server):
        with pytest.raises(NotFound):
            call(operator, own)

    assert _audited(added.id) == ["platform.server_added", "platform.server_capacity", "platform.server_key"]


def test_a_blank_capacity_is_the_default_on_platform_and_settings_alike(operator, sim_server, make_tenant):
    """/platform and Settings → Servers read a cleared capacity box the same way (evolution_servers.clean_capacity)."""
    default = evolution_servers.DEFAULT_CAPACITY
    added = platform.add_server(operator, f"Rack {uuid.uuid4().hex[:6]}", sim_server.url, sim_server.api_key, 40)
    assert platform.set_server_capacity(operator, added.id, " ").capacity == default
    platform.set_server_capacity(operator, added.id, 40)
    assert platform.set_server_capacity(operator, added.id, None).capacity == default

    tenant = make_tenant(f"Loja {uuid.uuid4().hex[:6]}")
    admin = Actor(tenant_id=tenant, role=UserRole.admin, label="boss@loja", mfa_enabled=True)
    with tenant_session(tenant) as s:
        own = uuid.uuid4()
        s.execute(
            text("INSERT INTO evolution_servers (id, tenant_id, name, base_url, capacity) VALUES (:id, :t, 'Own', "
                 ":url, 40)"),
            {"id": own, "t": tenant, "url": f"https://own-{own.hex[:8]}.example.com"},
        )  # fmt: skip
        s.commit()
    assert evolution_servers.update_server(admin, own, capacity=" ").capacity == default


def test_disable_and_delete_name_the_numbers_and_tenants_on_the_server(operator, sim_server, make_tenant):
    added = platform.add_server(operator, f"Rack {uuid.uuid4().hex[:6]}", sim_server.url, sim_server.api_key, 40)
    empty = platform.server_impact(operator, added.id, "disable")
    held = Dependent("server_disabled", added.name, Effect.kept)
    assert (empty.name, empty.dependents, empty.blocked) == (added.name, (held,), False)
    with pytest.raises(ValidationFailed):
        platform.server_impact(operator, added.id, "rename")

    shop, bakery = make_tenant(f"Loja {uuid.uuid4().hex[:6]}"), make_tenant(f"Padaria {uuid.uuid4().hex[:6]}")
    numbers = [make_number(shop, f"Loja {i}", server_id=added.id) for i in range(2)]
    numbers.append(make_number(bakery, "Padaria", server_id=added.id))
    shop_name, bakery_name = (platform.get_tenant(operator, t).name for t in (shop, bakery))
    on_it = f"{shop_name} (2), {bakery_name} (1)"

    disable = platform.server_impact(operator, added.id, "disable")
    assert disable.dependents == (
        held,
        Dependent("server_numbers", "3", Effect.deactivated),
        Dependent("server_tenants", on_it, Effect.deactivated),
    )
    assert not disable.blocked and disable.archive  # it can be activated again
    assert platform.set_server_state(operator, added.id, "disabled").state == "disabled"

    delete = platform.server_impact(operator, str(added.id), "delete")
    assert delete.blocked and delete.dependents == (
        Dependent("server_numbers", "3", Effect.blocks),
        Dependent("server_tenants", on_it, Effect.blocks),
    )
    with pytest.raises(Conflict) as refused:
        platform.delete_server(operator, added.id)
    assert (refused.value.code, refused.value.params["placed"]) == ("servers.not_empty", 3)

    for tenant, ids in ((shop, numbers[:2]), (bakery, numbers[2:])):  # re-paired elsewhere: the server is empty
        with tenant_session(tenant) as s:
            s.execute(text("DELETE FROM numbers WHERE id = ANY(:ids)"), {"ids": ids})
            s.commit()
    assert platform.server_impact(operator, added.id, "delete").dependents == (
        Dependent("server_key", added.name, Effect.deleted),
    )
    platform.delete_server(operator, added.id)
    with pytest.raises(NotFound):
        platform.delete_server(operator, added.id)
    assert added.id not in {v.id for v in platform.list_servers(operator)}
    with admin_engine().connect() as conn:
        keys = conn.execute(text("SELECT count(*) FROM evolution_server_keys WHERE server_id = :id"), {"id": added.id})
        assert keys.scalar_one() == 0
    assert _audited(added.id) == ["platform.server_added", "platform.server_state", "platform.server_deleted"]

"""Phase rules of rich actions (services.action_rules): the tenant's, a conversation's overrides over them, validated
on the server with the field named, each level changed only by who may change it."""

from __future__ import annotations

import pytest

from mirage_app.base.errors import PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.logic.actions import DEFAULT_MIN_DAY, ActionRules
from mirage_app.models import UserRole
from mirage_app.services import action_rules
from mirage_app.services import conversations as conv


def _as(actor: Actor, role: UserRole) -> Actor:
    return Actor(tenant_id=actor.tenant_id, role=role, label=f"{role.value}@test", mfa_enabled=True)


def test_the_tenant_starts_with_the_defaults_and_keeps_what_it_sets(admin_actor):
    view = action_rules.get_tenant_rules(admin_actor)
    assert view.stored == {} and view.effective == ActionRules.default().as_mapping()
    saved = action_rules.set_tenant_rules(admin_actor, {"voice": 3, "image": ""}, ["group"])
    assert saved.stored == {"min_day": {"voice": 3}, "off": ["group"]}
    again = action_rules.get_tenant_rules(admin_actor)
    assert again.effective["min_day"]["voice"] == 3
    assert again.effective["min_day"]["image"] == DEFAULT_MIN_DAY["image"]
    assert again.effective["off"] == ["group"]
    # the engine reads the same JSON back into the same rules
    rules = ActionRules.merged(again.stored, None)
    assert rules.allows("voice", 3) and not rules.allows("group", 200)


@pytest.mark.parametrize(
    ("days", "off", "field"),
    [
        ({"voice": 0}, [], "min_day.voice"),
        ({"voice": 400}, [], "min_day.voice"),
        ({"voice": "três"}, [], "min_day.voice"),
        ({"voice": 2.5}, [], "min_day.voice"),
        ({"text": 2}, [], "min_day.text"),  # text is always allowed: not a rule
        ({"teleport": 2}, [], "min_day.teleport"),
        ({}, ["teleport"], "off"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(admin_actor, days, off, field):
    with pytest.raises(ValidationFailed) as refused:
        action_rules.set_tenant_rules(admin_actor, days, off)
    assert refused.value.field == field
    assert action_rules.get_tenant_rules(admin_actor).stored == {}


def test_only_admins_change_the_tenants_rules(admin_actor):
    for role in (UserRole.viewer, UserRole.operator):
        with pytest.raises(PermissionDenied):
            action_rules.set_tenant_rules(_as(admin_actor, role), {"voice": 2}, [])
    assert action_rules.get_tenant_rules(_as(admin_actor, UserRole.viewer)).stored == {}


def test_a_conversation_follows_the_tenant_until_it_overrides(admin_actor):
    c = conv.create_conversation(admin_actor, "Regras", "pair")
    action_rules.set_tenant_rules(admin_actor, {"voice": 3}, ["status"])
    view = action_rules.get_conversation_rules(admin_actor, c.id)
    assert view.stored == {} and view.effective == view.base and view.base["min_day"]["voice"] == 3

    operator = _as(admin_actor, UserRole.operator)
    saved = action_rules.set_conversation_rules(operator, c.id, {"image": 20, "voice": None}, None)
    assert saved.stored == {"min_day": {"image": 20}}  # the list of actions off stays the tenant's
    assert saved.effective["min_day"] == {**view.base["min_day"], "image": 20}
    assert saved.effective["off"] == ["status"]

    with pytest.raises(PermissionDenied):  # status back on here: sooner than the tenant allows, admin with MFA only
        action_rules.set_conversation_rules(operator, c.id, {}, [])
    own = action_rules.set_conversation_rules(admin_actor, c.id, {}, [])
    assert own.stored == {"off": []} and own.effective["off"] == []  # its own, empty list: status allowed here

    # the tenant's later change reaches the days the conversation did not set
    action_rules.set_tenant_rules(admin_actor, {"voice": 5}, ["status"])
    assert action_rules.get_conversation_rules(admin_actor, c.id).effective["min_day"]["voice"] == 5


def test_a_viewer_reads_a_conversations_rules_but_does_not_change_them(admin_actor):
    c = conv.create_conversation(admin_actor, "Leitura", "pair")
    viewer = _as(admin_actor, UserRole.viewer)
    assert action_rules.get_conversation_rules(viewer, c.id).stored == {}
    with pytest.raises(PermissionDenied):
        action_rules.set_conversation_rules(viewer, c.id, {"voice": 2}, None)
    with pytest.raises(ValidationFailed) as refused:
        action_rules.set_conversation_rules(admin_actor, c.id, {"sticker": -1}, None)
    assert refused.value.field == "min_day.sticker"


def test_allowing_an_action_sooner_needs_an_admin_with_mfa(admin_actor):
    no_mfa = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.admin, label="admin", mfa_enabled=False)
    action_rules.set_tenant_rules(no_mfa, min_day={"voice": 20}, off=["contact"])  # later, fewer: safer
    with pytest.raises(PermissionDenied):
        action_rules.set_tenant_rules(no_mfa, min_day={"voice": 2})  # sooner than before
    with pytest.raises(PermissionDenied):
        action_rules.set_tenant_rules(no_mfa, min_day={"voice": 20}, off=[])  # contact cards back on
    assert action_rules.set_tenant_rules(admin_actor, min_day={"voice": 2}).effective["min_day"]["voice"] == 2

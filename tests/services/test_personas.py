"""Personas: CRUD with validation, permissions, audit, and a preview through the reply generator."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from mirage_app.base.errors import NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.i18n import translate
from mirage_app.models import UserRole
from mirage_app.services import personas


def _actor(tenant, role):
    return Actor(tenant_id=tenant, role=role, label=f"{role}@test")


def test_create_update_list_delete(admin_actor):
    p = personas.create_persona(
        admin_actor,
        name="  Ana  ",
        style="alegre, fala de futebol",
        greeting_morning="Bom diaa!",
        traits={"age": "29", "emoji_use": "High", "typical_length": "short", "occupation": "designer"},
        active_hours={"start": "8:00", "end": "22:30"},
        locale="pt-BR",
    )
    assert p.name == "Ana" and p.traits == {"age": 29, "emoji_use": "high", "typical_length": "short",
                                            "occupation": "designer"}  # fmt: skip
    assert p.active_hours == {"start": "08:00", "end": "22:30"} and p.numbers == 0
    updated = personas.update_persona(admin_actor, p.id, greeting_evening="Boa noite, gente!", locale="en")
    assert updated.greeting_evening == "Boa noite, gente!" and updated.locale == "en" and updated.name == "Ana"
    assert [x.id for x in personas.list_personas(admin_actor)] == [p.id]
    assert personas.get_persona(admin_actor, p.id).greeting_morning == "Bom diaa!"
    personas.delete_persona(admin_actor, p.id)
    with pytest.raises(NotFound):
        personas.get_persona(admin_actor, p.id)
    with tenant_session(admin_actor.tenant_id) as s:
        actions = s.execute(text("SELECT action FROM audit_log WHERE entity = 'persona' ORDER BY at")).scalars().all()
    assert actions == ["persona.create", "persona.update", "persona.delete"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "A", "greeting_morning": "x" * 301}, "greeting_morning"),
        ({"name": "A", "traits": {"mood": "happy"}}, "traits.mood"),
        ({"name": "A", "traits": {"emoji_use": "tons"}}, "traits.emoji_use"),
        ({"name": "A", "traits": {"age": 7}}, "traits.age"),
        ({"name": "A", "active_hours": {"start": "22:00", "end": "08:00"}}, "active_hours"),
        ({"name": "A", "active_hours": {"start": "8h"}}, "active_hours"),
        ({"name": "A", "locale": "fr"}, "locale"),
    ],
)
def test_validation(admin_actor, fields, field):
    with pytest.raises(ValidationFailed) as err:
        personas.create_persona(admin_actor, **fields)
    assert err.value.field == field
    assert personas.list_personas(admin_actor) == []  # nothing half-written


def test_permissions_and_isolation(admin_actor, make_tenant):
    viewer = _actor(admin_actor.tenant_id, UserRole.viewer)
    operator = _actor(admin_actor.tenant_id, UserRole.operator)
    with pytest.raises(PermissionDenied):
        personas.create_persona(viewer, name="Nope")
    p = personas.create_persona(operator, name="Op")
    assert [x.name for x in personas.list_personas(viewer)] == ["Op"]
    other = _actor(make_tenant(), UserRole.admin)
    assert personas.list_personas(other) == []
    with pytest.raises(NotFound):
        personas.update_persona(other, p.id, name="Stolen")
    with pytest.raises(NotFound):
        personas.delete_persona(operator, uuid.uuid4())


def test_preview_offline_is_persona_and_daypart_aware(admin_actor):
    p = personas.create_persona(
        admin_actor, name="Mike", locale="en", greeting_evening="Evening, mate!", traits={"emoji_use": "none"}
    )
    evening = personas.preview(admin_actor, p.id, daypart="evening", seed="1")
    assert evening.source == "offline" and evening.locale == "en" and evening.text.startswith("Evening, mate!")
    morning = personas.preview(admin_actor, p.id, daypart="morning", locale="pt-BR", seed="1")
    assert "bom dia" in morning.text.lower()
    draft = personas.preview(admin_actor, draft={"name": "Rascunho", "greeting_afternoon": "Oi oi, boa tarde!"},
                             daypart="afternoon", seed="2")  # fmt: skip
    assert draft.text.startswith("Oi oi, boa tarde!") and draft.locale == "pt-BR"
    question = personas.preview(admin_actor, p.id, daypart="morning", phase="question", topic="surf", seed="3")
    assert question.text.endswith("?") or "?" in question.text
    with pytest.raises(ValidationFailed):
        personas.preview(admin_actor, p.id, daypart="night")
    with pytest.raises(ValidationFailed):
        personas.preview(admin_actor, p.id, phase="rant")


@pytest.mark.parametrize(
    ("traits", "code", "field"),
    [
        ({"age": "abc"}, "personas.age_invalid", "traits.age"),
        ({"age": 7}, "personas.age_invalid", "traits.age"),
        ({"emoji_use": "lots"}, "personas.emoji_use_invalid", "traits.emoji_use"),
        ({"typical_length": "epic"}, "personas.typical_length_invalid", "traits.typical_length"),
    ],
)
def test_a_bad_trait_is_named_in_words(admin_actor, traits, code, field):
    with pytest.raises(ValidationFailed) as bad:
        personas.create_persona(admin_actor, name="Ana", traits=traits)
    assert (bad.value.code, bad.value.field) == (code, field)
    for locale in ("pt-BR", "en"):
        text = translate(code, locale)
        assert text != code and "{" not in text
        assert not re.search(rf"\b{field.split('.')[1]}\b", text), text  # "age", not the "age" of "message"

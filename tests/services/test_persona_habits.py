"""A persona's habits (logic.actions.Habits) are stored through the persona service, validated there, each refusal
naming its habit; the view always carries every habit, the defaults filled in."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from mirage_app.base.errors import PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.logic.actions import Habits
from mirage_app.models import UserRole
from mirage_app.services import personas


def test_habits_default_then_keep_what_is_set(admin_actor):
    p = personas.create_persona(admin_actor, name="Bia")
    assert p.habits == asdict(Habits())
    updated = personas.update_persona(admin_actor, p.id, habits={"voice_notes": 0.25, "emoji": 1})
    assert updated.habits["voice_notes"] == 0.25 and updated.habits["emoji"] == 1.0
    assert personas.get_persona(admin_actor, p.id).habits == asdict(Habits(voice_notes=0.25, emoji=1.0))
    # the engine reads the stored JSON back into the same habits
    assert Habits.from_mapping(personas.get_persona(admin_actor, p.id).habits).voice_notes == 0.25


@pytest.mark.parametrize(
    ("habits", "field"),
    [
        ({"reactions": 1.5}, "habits.reactions"),
        ({"typos": -0.1}, "habits.typos"),
        ({"pictures": "muito"}, "habits.pictures"),
        ({"pictures": True}, "habits.pictures"),
        ({"singing": 0.2}, "habits.singing"),
        (["reactions"], "habits"),
    ],
)
def test_a_bad_habit_is_refused_naming_it(admin_actor, habits, field):
    p = personas.create_persona(admin_actor, name="Caio")
    with pytest.raises(ValidationFailed) as refused:
        personas.update_persona(admin_actor, p.id, habits=habits)
    assert refused.value.field == field
    assert personas.get_persona(admin_actor, p.id).habits == asdict(Habits())


def test_a_viewer_cannot_change_habits(admin_actor):
    p = personas.create_persona(admin_actor, name="Duda")
    viewer = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.viewer, label="v@test")
    with pytest.raises(PermissionDenied):
        personas.update_persona(viewer, p.id, habits={"reactions": 0.9})
    assert personas.get_persona(viewer, p.id).habits["reactions"] == Habits().reactions

"""What destroying something would do, read before the operator is asked.

A service that deletes offers `<thing>_impact(actor, id) -> Impact` beside its delete. The page shows the
dependents in a confirmation dialog; the delete itself applies the same rule again on the server (the dialog is a
courtesy, not the check). The rule everywhere: never leave an active object broken. Either the delete is refused
while something active depends on the thing (`blocked`), or what depends on it is deactivated and the dialog says
so; where history exists the thing is archived rather than erased (`archive`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mirage_app.base.errors import Conflict


class Effect(StrEnum):
    blocks = "blocks"  # the delete is refused while this exists (say how to clear it)
    deactivated = "deactivated"  # switched off by the delete, kept
    detached = "detached"  # keeps living without the link (e.g. a number without its persona)
    deleted = "deleted"  # goes with it
    kept = "kept"  # history kept (archived with it)


@dataclass(frozen=True)
class Dependent:
    kind: str  # what it is, a catalog key under "impact.kind." (policy, conversation, number, message...)
    name: str  # its name as the operator knows it, or a count ("38")
    effect: Effect


@dataclass(frozen=True)
class Impact:
    name: str  # the thing itself
    dependents: tuple[Dependent, ...] = field(default_factory=tuple)
    archive: bool = False  # history exists: the action archives instead of erasing

    @property
    def blocked(self) -> bool:
        return any(d.effect is Effect.blocks for d in self.dependents)

    def refuse_if_blocked(self, code: str, field: str | None = None) -> None:
        """The delete's own check: `Conflict(code)` naming what blocks it (`{names}` in the message)."""
        if self.blocked:
            names = ", ".join(d.name for d in self.dependents if d.effect is Effect.blocks)
            raise Conflict(code, field=field, names=names)

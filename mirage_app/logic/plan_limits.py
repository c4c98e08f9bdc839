"""Plan limits as pure decisions: which limits there are, a tenant's effective limits (its plan's defaults under
its own overrides), and whether one more of something still fits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# What a plan limits, in the order pages show them.
LIMIT_KINDS: tuple[str, ...] = ("numbers", "active_conversations", "contacts", "outreach_per_day", "api_keys", "users")

Limits = dict[str, int | None]  # None: unlimited


def effective_limits(defaults: Mapping[str, int | None], overrides: Mapping[str, int | None] | None) -> Limits:
    """The plan's defaults, each replaced by the tenant's override where it has one (an override is never None)."""
    given = overrides or {}
    return {kind: given[kind] if given.get(kind) is not None else defaults.get(kind) for kind in LIMIT_KINDS}


def clean_limit(value: object) -> int | None:
    """A limit typed by a person: blank means none (unlimited, or no override); else a whole number >= 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = int(str(value).strip())
    if number < 0:
        raise ValueError("a limit cannot be negative")
    return number


def fits(limit: int | None, used: int, adding: int = 1) -> bool:
    """Whether `adding` more fit under `limit` with `used` already taken (None: no limit)."""
    return limit is None or used + adding <= limit


@dataclass(frozen=True)
class Use:
    """One limit of a tenant against its use, for the overview's bars and the platform page."""

    kind: str
    used: int
    limit: int | None

    @property
    def percent(self) -> int:
        """0-100 for a progress bar (0 when unlimited; a limit of 0 with any use is full)."""
        if self.limit is None:
            return 0
        if self.limit == 0:
            return 100 if self.used else 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def reached(self) -> bool:
        return not fits(self.limit, self.used)

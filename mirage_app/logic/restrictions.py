"""WhatsApp's reach-out restriction (the "463" timelock) read from what Evolution 2.3.7 still shows, and the
monthly allowance of unanswered first messages. Pure: the engine feeds in the number's recent sends.

Evolution 2.3.7 drops the nack code: a send WhatsApp refuses is a 201 PENDING followed by one `messages.update`
ERROR and no ack (reference §17.2). A restricted account keeps its existing chats (they carry a privacy token)
but cannot open new ones. So, over a recent window of a number's sends whose fate is known:

- at least `min_new_errors` first messages to new contacts ended ERROR, and they are at least `min_error_share`
  of its first messages, while its messages in known chats mostly still arrive → `reach_out` (inferred);
- the same, but known chats fail as much → `all_failing`: the missing-token case of Evolution #2597/#2650 or an
  infrastructure fault, not a restriction (the failure streak and the number's health handle it);
- otherwise `clear`. Known chats that show nothing in the window do not clear a suspicion: not contacting new
  people is the safe side, and retrying would count as more reach-outs.

WhatsApp does not say when the restriction ends either, so its end is an estimate that doubles with every recent
restriction of the same number (`estimated_end`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from mirage_app.logic.dayparts import MIDNIGHT, at_local, to_local, zone

REACH_OUT = "reach_out"  # `number_restrictions.kind` of the 463 timelock


class Verdict(StrEnum):
    clear = "clear"
    reach_out = "reach_out"
    all_failing = "all_failing"


@dataclass(frozen=True)
class SendResult:
    """One outbound message whose fate is known: ERROR (`failed`), or acked by WhatsApp."""

    at: datetime
    new_contact: bool  # a first message to someone the number never talked with
    failed: bool


@dataclass(frozen=True)
class RestrictionRule:
    window: timedelta = timedelta(hours=6)
    min_new_errors: int = 3
    min_error_share: float = 0.6
    base_length: timedelta = timedelta(hours=24)
    max_length: timedelta = timedelta(days=7)
    # Restrictions of the same number within this span before a new one lengthen its estimate.
    memory: timedelta = timedelta(days=30)


DEFAULT_RULE = RestrictionRule()


@dataclass(frozen=True)
class Inference:
    verdict: Verdict
    new_errors: int
    new_acked: int
    known_errors: int
    known_acked: int
    first_error_at: datetime | None

    def evidence(self) -> dict[str, Any]:
        """What `number_restrictions.evidence` keeps, so the screen can say why Mirage believes it."""
        return {
            "new_errors": self.new_errors,
            "new_acked": self.new_acked,
            "known_errors": self.known_errors,
            "known_acked": self.known_acked,
            "first_error_at": self.first_error_at.isoformat() if self.first_error_at else None,
        }


def _share(errors: int, acked: int) -> float:
    total = errors + acked
    return errors / total if total else 0.0


def infer(results: Iterable[SendResult], now: datetime, rule: RestrictionRule = DEFAULT_RULE) -> Inference:
    """The verdict on a number's sends of the last `rule.window` before `now` (others are ignored)."""
    since = now - rule.window
    recent = [r for r in results if since <= r.at <= now]
    new_errors = sum(1 for r in recent if r.new_contact and r.failed)
    new_acked = sum(1 for r in recent if r.new_contact and not r.failed)
    known_errors = sum(1 for r in recent if not r.new_contact and r.failed)
    known_acked = sum(1 for r in recent if not r.new_contact and not r.failed)
    first_error_at = min((r.at for r in recent if r.new_contact and r.failed), default=None)
    verdict = Verdict.clear
    if new_errors >= rule.min_new_errors and _share(new_errors, new_acked) >= rule.min_error_share:
        known_failing = known_errors > 0 and _share(known_errors, known_acked) >= rule.min_error_share
        verdict = Verdict.all_failing if known_failing else Verdict.reach_out
    return Inference(verdict, new_errors, new_acked, known_errors, known_acked, first_error_at)


def estimated_end(started_at: datetime, earlier: int, rule: RestrictionRule = DEFAULT_RULE) -> datetime:
    """When an inferred restriction is taken to end: `base_length`, doubled per `earlier` restriction of the
    number within `rule.memory`, at most `max_length`."""
    length = min(rule.base_length * (2 ** min(max(earlier, 0), 16)), rule.max_length)
    return started_at + length


def is_active(ends_at: datetime, lifted_at: datetime | None, now: datetime) -> bool:
    return lifted_at is None and now < ends_at


# -- the monthly allowance of unanswered first messages ------------------------------------------------------------


def month_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """UTC [start, end) of the tenant-local calendar month holding `now`."""
    local = to_local(now, tz_name)
    first = local.date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    tz = zone(tz_name)
    return at_local(first, MIDNIGHT, tz).astimezone(UTC), at_local(following, MIDNIGHT, tz).astimezone(UTC)


def allowance_left(allowance: int, unanswered: int) -> int:
    """First messages to new contacts that may still go unanswered this month (never negative)."""
    return max(allowance - unanswered, 0)

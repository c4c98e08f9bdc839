"""Why a message or an outreach target is waiting, and until when: the reason codes the engine stores with the wait
(`messages.wait_reason`, `outreach_policies.wait_reason`), what a stored code says on screen, and when a queued
message has waited too long to still go out.

A stored reason is a code, optionally with the cap's use: "hourly_cap:10/10" (sent in the window / the limit).
Screens turn codes into words with the `wait.<code>` catalog keys (i18n/*/reasons.py). A message's wait lasts
until its `send_after` (message_until); a policy's until is stored with it (`outreach_policies.wait_until`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mirage_app.logic.caps import DAILY_CAP, HOURLY_CAP, MIN_GAP, QUIET_HOURS, CapState, Decision
from mirage_app.logic.pacing import planned_typing_ms

# A queued message older than this has missed whatever it was for (an outreach opener deferred past the next
# day, a reply nobody is waiting for any more): it ends `failed` with EXPIRED instead of staying queued.
MAX_QUEUED = timedelta(hours=24)
EXPIRED = "expired"

# The send pipeline's codes besides the caps' (logic.caps).
PLANNED = "planned"  # the humanised delay before sending (reading, then typing)
READING = "reading"  # the read receipt went out; the reading time runs before typing
TYPING = "typing"  # claimed and handed to Evolution, which types for the planned time
DUE = "due"  # its time has come: waiting for a send worker
SEND_RETRY = "send_retry"  # Evolution failed the last attempt: backing off
SETTLING = "settling"  # the number was paired too recently (warm-up settle time)
AWAITING_EVIDENCE = "awaiting_evidence"  # the last attempt may have gone out: waiting for a webhook's proof
WARMUP_CAP = "warmup_cap"  # the number's warm-up daily cap (the daily cap of the send pipeline)
WARMUP_CODES = {DAILY_CAP: WARMUP_CAP}
EMERGENCY_STOP = "emergency_stop"  # the tenant's emergency stop is on: every send held until resumed
REPUTATION_COOLDOWN = "reputation_cooldown"  # the number is cooling down (logic.reputation): held until it ends
REPUTATION_CAPS = {DAILY_CAP: "reputation_daily_cap", HOURLY_CAP: "reputation_hourly_cap"}
# Held by the number's Evolution server (`server_<health>`, models.servers.HELD_HEALTH) or by the number itself
# (`number_<status>`, any status but connected and paused: a paused number fails its sends).
SERVER_HOLDS = ("server_unreachable", "server_license_required", "server_unauthorized")
NUMBER_HOLDS = ("number_disconnected", "number_connecting", "number_error")

# Number safety (logic.restrictions, logic.proxies): no new contacts while WhatsApp restricts the number or the
# month's unanswered first messages are used up; a number whose proxy fails its test holds every send.
NUMBER_RESTRICTED = "number_restricted"
FIRST_MESSAGE_ALLOWANCE = "first_message_allowance"
PROXY_FAILING = "proxy_failing"
SAFETY_CODES = (NUMBER_RESTRICTED, FIRST_MESSAGE_ALLOWANCE, PROXY_FAILING)

# Outreach: the policy's windows (dayparts x allowed days) and caps, checked by the tick and the send guard alike.
OUTSIDE_DAYPARTS = "outside_dayparts"
OUTREACH_CODES = {cap: f"outreach_{cap}" for cap in (DAILY_CAP, HOURLY_CAP, MIN_GAP)}
IN_FLIGHT = "in_flight"  # another opener of the policy's number is still queued
NUMBER_OFFLINE = "number_offline"  # the policy's number is not connected
NO_TARGET = "no_target"  # nothing eligible to write to
PLAN_OUTREACH_LIMIT = "plan_outreach_limit"  # the tenant's plan allows no more outreach messages today
# A target's own wait (target_wait).
INACTIVE = "inactive"
QUEUE = "queue"
EXCHANGE = "exchange"
OPTED_OUT = "opted_out"
NO_CONSENT = "no_consent"
OTHER_POLICY = "other_policy"

# Every code a screen has words for (`wait.<code>`); any other stored code (an Evolution error) reads as a retry.
KNOWN = frozenset(
    {
        QUIET_HOURS, DAILY_CAP, HOURLY_CAP, MIN_GAP, WARMUP_CAP, SETTLING, AWAITING_EVIDENCE, *SERVER_HOLDS,
        *NUMBER_HOLDS, OUTSIDE_DAYPARTS, *OUTREACH_CODES.values(), IN_FLIGHT, NUMBER_OFFLINE, NO_TARGET, INACTIVE,
        QUEUE, EXCHANGE, OPTED_OUT, NO_CONSENT, OTHER_POLICY, PLANNED, READING, TYPING, DUE, SEND_RETRY, EXPIRED,
        EMERGENCY_STOP, REPUTATION_COOLDOWN, *REPUTATION_CAPS.values(),
        *SAFETY_CODES, PLAN_OUTREACH_LIMIT,
    }
)  # fmt: skip


@dataclass(frozen=True)
class Wait:
    reason: str  # a code of KNOWN
    until: datetime | None = None
    used: int | None = None
    limit: int | None = None

    def stored(self) -> str:
        """The value of a `wait_reason` column."""
        if self.used is None or self.limit is None:
            return self.reason
        return f"{self.reason}:{self.used}/{self.limit}"


def parse(stored: str | None, until: datetime | None = None) -> Wait | None:
    """A `wait_reason` column (and its `wait_until`) back as a Wait; unknown codes read as a send retry."""
    if not stored:
        return None
    code, _, use = stored.partition(":")
    used = limit = None
    if use:
        left, _, right = use.partition("/")
        if left.isdigit() and right.isdigit():
            used, limit = int(left), int(right)
    return Wait(code if code in KNOWN else SEND_RETRY, until, used, limit)


def cap_wait(
    decision: Decision,
    state: CapState,
    hourly_limit: int | None,
    daily_limit: int | None,
    *,
    codes: Mapping[str, str] | None = None,
) -> Wait:
    """The wait a blocked cap decision means, with the cap's use (x/y). `codes` renames the caps' reasons for whose
    caps they are (WARMUP_CODES: the send pipeline's daily cap is the warm-up's; OUTREACH_CODES: a policy's)."""
    reason = decision.reason or HOURLY_CAP
    code = (codes or {}).get(reason, reason)
    if reason == HOURLY_CAP and hourly_limit is not None:
        return Wait(code, decision.retry_at, int(state.sent_last_hour), hourly_limit)  # weighted: whole messages
    if reason == DAILY_CAP and daily_limit is not None:
        return Wait(code, decision.retry_at, int(state.sent_today), daily_limit)
    return Wait(code, decision.retry_at)


def message_until(
    wait_reason: str | None, send_after: datetime | None, dispatched_at: datetime | None, meta: Mapping[str, Any] | None
) -> datetime | None:
    """Until when a queued message's stored wait lasts: its next attempt (`send_after`), except while Evolution
    types it (handed over at `dispatched_at`, typing for the planned time)."""
    if wait_reason == TYPING and dispatched_at is not None:
        return dispatched_at + timedelta(milliseconds=planned_typing_ms(meta))
    return send_after if wait_reason else None


def of_queued(wait_reason: str | None, wait_until: datetime | None, send_after: datetime | None, now: datetime) -> Wait:
    """Why a queued message is still queued, as far as its row tells: the engine's stored wait while it lasts,
    else its planned (humanised) send time, else it is due and waiting for a worker."""
    stored = parse(wait_reason, wait_until)
    if stored is not None and (wait_until is None or wait_until > now):
        return stored
    if send_after is not None and send_after > now:
        return Wait(PLANNED, send_after)
    return Wait(DUE)


def expired(created_at: datetime, now: datetime) -> bool:
    """Has a still queued message waited past MAX_QUEUED?"""
    return now - created_at >= MAX_QUEUED


def explain(tr: Mapping[str, str], wait: Wait | None, until_label: str = "") -> str:
    """The wait in words: "Hourly cap used 10/10 · until 14:32". `until_label` is `wait.until` already formatted
    (tenant zone, page language)."""
    if wait is None:
        return ""
    text = tr.get(f"wait.{wait.reason}", tr.get("wait.send_retry", wait.reason))
    if wait.used is not None and wait.limit is not None:
        text = f"{text} {wait.used}/{wait.limit}"
    if until_label:
        text = f"{text} · {tr.get('wait.until', 'until {time}').format(time=until_label)}"
    return text


def message_line(
    tr: Mapping[str, str],
    status: str,
    wait_reason: str | None,
    wait_until: datetime | None,
    send_after: datetime | None,
    error: str | None,
    now: datetime,
    until_label: Callable[[datetime], str],
) -> str:
    """What a message row says besides its status: why a queued one waits and until when ("Hourly cap used
    10/10 · until 14:32"), or why a failed one could not go out; "" otherwise. `until_label` formats a moment in
    the tenant's zone and the page's language."""
    if status == "queued":
        wait = of_queued(wait_reason, wait_until, send_after, now)
        return explain(tr, wait, until_label(wait.until) if wait.until is not None else "")
    if status == "failed" and error:
        return tr.get(f"end.{error}", "")
    return ""


@dataclass(frozen=True)
class TargetFacts:
    """What a target's row says about why it may be waiting (services.outreach.targets)."""

    status: str
    consent: str
    suppressed: bool
    other_exchange: bool  # its contact is in an exchange with another policy right now
    policy_active: bool
    policy_wait: str | None  # the policy's last tick: outreach_policies.wait_reason / wait_until
    policy_wait_until: datetime | None
    queued: bool  # an outreach message to it is still queued (its wait below)
    queued_reason: str | None = None
    queued_until: datetime | None = None
    queued_send_after: datetime | None = None


def target_wait(facts: TargetFacts, now: datetime) -> Wait | None:
    """Why a pending or in-progress target has not been written to (yet / again), and until when; None for the
    others. Its own blocks come first (they outlast the policy's), then its message's, then the policy's."""
    if facts.status == "in_progress":
        if facts.queued:
            return of_queued(facts.queued_reason, facts.queued_until, facts.queued_send_after, now)
        return Wait(EXCHANGE)
    if facts.status != "pending":
        return None
    if facts.suppressed:
        return Wait(OPTED_OUT)
    if facts.consent != "granted":
        return Wait(NO_CONSENT)
    if not facts.policy_active:
        return Wait(INACTIVE)
    if facts.other_exchange:
        return Wait(OTHER_POLICY)
    policy = parse(facts.policy_wait, facts.policy_wait_until)
    if policy is not None and policy.reason != NO_TARGET:
        return policy
    return Wait(QUEUE)

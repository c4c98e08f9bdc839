"""Login throttling: repeated failures first slow an account down, then lock it; one IP has its own budget.

Failures are kept in Redis sorted sets scored by the injected clock (a sliding window, so tests warp time instead
of sleeping), keyed by a keyed hash of the email, so unknown emails are throttled exactly like real ones and Redis
holds no addresses. The account lock is also written to `users.failed_logins` / `locked_until` by the caller, so
it survives a Redis restart; if Redis is down, login keeps working on those database counters alone.

API keys reuse the per-IP budget alone (`api_key_throttle`: wrong keys per address per minute, its own keys).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError

from mirage_app.base.errors import Throttled
from mirage_app.core.redis import get_redis
from mirage_app.core.security import hash_token

log = logging.getLogger("mirage.auth.throttle")


@dataclass(frozen=True)
class ThrottlePolicy:
    """Every number of the policy, in one place."""

    free_failures: int = 5  # failures within the window before any delay
    base_delay_s: int = 2  # then 2 s, 4 s, 8 s ... between attempts
    max_delay_s: int = 60
    lock_after: int = 10  # failures within the window that lock the account
    lock_for: timedelta = timedelta(minutes=15)
    account_window: timedelta = timedelta(minutes=15)
    ip_max_failures: int = 30
    ip_window: timedelta = timedelta(minutes=15)
    ip_code: str = "auth.ip_throttled"  # what an address over its budget is told

    def delay_s(self, failures: int) -> int:
        if failures < self.free_failures:
            return 0
        return min(self.base_delay_s * 2 ** (failures - self.free_failures), self.max_delay_s)


POLICY = ThrottlePolicy()
_PREFIX = "mirage:login:"


@dataclass(frozen=True)
class FailureOutcome:
    failures: int  # failures in the window, including this one
    retry_after: int | None  # seconds before the next attempt is accepted
    locked_until: datetime | None


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


class LoginThrottle:
    def __init__(
        self, redis_factory: Callable[[], Redis] = get_redis, policy: ThrottlePolicy = POLICY, prefix: str = _PREFIX
    ) -> None:
        self._redis_factory = redis_factory
        self.policy = policy
        self._prefix = prefix

    # -- keys ---------------------------------------------------------------------------------------------------
    def _account_key(self, account: str) -> str:
        return f"{self._prefix}acct:{hash_token('login:' + account.strip().lower())}"

    def _ip_key(self, ip: str) -> str:
        return f"{self._prefix}ip:{ip}"

    def _redis(self) -> Redis | None:
        try:
            return self._redis_factory()
        except (RedisError, RuntimeError) as exc:
            log.warning("login throttle without Redis: %s", exc)
            return None

    # -- policy -------------------------------------------------------------------------------------------------
    def check(self, account: str, ip: str | None, *, now: datetime, db_locked_until: datetime | None = None) -> None:
        """Raise Throttled if this attempt must not even be tried (IP over budget, account locked or cooling)."""
        if db_locked_until is not None and db_locked_until > now:
            raise Throttled("auth.account_locked", _seconds(db_locked_until - now))
        redis = self._redis()
        if redis is None:
            return
        try:
            self._check_redis(redis, account, ip, now)
        except RedisError as exc:
            log.warning("login throttle check skipped, Redis error: %s", exc)

    def _check_ip_redis(self, redis: Redis, ip: str | None, ts: float) -> None:
        p = self.policy
        if ip:
            window_start = f"({ts - p.ip_window.total_seconds()}"  # exclusive: a failure counts for exactly the window
            if redis.zcount(self._ip_key(ip), window_start, "+inf") >= p.ip_max_failures:
                oldest = redis.zrangebyscore(self._ip_key(ip), window_start, "+inf", start=0, num=1, withscores=True)
                wait = oldest[0][1] + p.ip_window.total_seconds() - ts if oldest else 1
                raise Throttled(p.ip_code, math.ceil(wait))

    def _check_redis(self, redis: Redis, account: str, ip: str | None, now: datetime) -> None:
        p, ts = self.policy, now.timestamp()
        self._check_ip_redis(redis, ip, ts)
        key = self._account_key(account)
        locked = redis.get(key + ":lock")
        if locked is not None and float(locked) > ts:
            raise Throttled("auth.account_locked", math.ceil(float(locked) - ts))
        failures = redis.zcount(key, f"({ts - p.account_window.total_seconds()}", "+inf")
        delay = p.delay_s(failures)
        if delay:
            last = redis.zrevrange(key, 0, 0, withscores=True)
            wait = last[0][1] + delay - ts if last else 0
            if wait > 0:
                raise Throttled("auth.slow_down", math.ceil(wait))

    def failure(self, account: str, ip: str | None, *, now: datetime, db_failures: int | None = None) -> FailureOutcome:
        """Count a failed attempt. `db_failures` is the account's stored counter (None for an unknown email)."""
        redis = self._redis()
        failures = None
        if redis is not None:
            try:
                failures = self._failure_redis(redis, account, ip, now)
            except RedisError as exc:
                log.warning("login failure counted in the database only, Redis error: %s", exc)
        if failures is None:
            failures = (db_failures or 0) + 1
        if failures >= self.policy.lock_after:
            locked_until = now + self.policy.lock_for
            self._lock_redis(redis, account, locked_until)
            return FailureOutcome(failures, _seconds(self.policy.lock_for), locked_until)
        return FailureOutcome(failures, self.policy.delay_s(failures) or None, None)

    def _add_ip_failure(self, pipe, ip: str | None, ts: float, member: str, ttl: int) -> None:
        if ip:
            pipe.zadd(self._ip_key(ip), {member: ts})
            pipe.zremrangebyscore(self._ip_key(ip), "-inf", ts - self.policy.ip_window.total_seconds())
            pipe.expire(self._ip_key(ip), ttl)

    def _failure_redis(self, redis: Redis, account: str, ip: str | None, now: datetime) -> int:
        p, ts, member = self.policy, now.timestamp(), f"{now.timestamp()}:{uuid.uuid4().hex}"
        ttl = int((p.account_window + p.lock_for + p.ip_window).total_seconds())
        key = self._account_key(account)
        pipe = redis.pipeline()
        self._add_ip_failure(pipe, ip, ts, member, ttl)
        pipe.zadd(key, {member: ts})
        pipe.zremrangebyscore(key, "-inf", ts - p.account_window.total_seconds())
        pipe.expire(key, ttl)
        pipe.zcount(key, f"({ts - p.account_window.total_seconds()}", "+inf")
        return int(pipe.execute()[-1])

    def _lock_redis(self, redis: Redis | None, account: str, locked_until: datetime) -> None:
        """The lock replaces the counted failures: once it ends the account starts afresh."""
        if redis is None:
            return
        key = self._account_key(account)
        try:
            pipe = redis.pipeline()
            pipe.delete(key)
            pipe.set(key + ":lock", locked_until.timestamp(), ex=int(self.policy.lock_for.total_seconds()) * 2)
            pipe.execute()
        except RedisError as exc:
            log.warning("account lock kept in the database only, Redis error: %s", exc)

    def success(self, account: str) -> None:
        redis = self._redis()
        if redis is None:
            return
        try:
            key = self._account_key(account)
            redis.delete(key, key + ":lock")
        except RedisError as exc:
            log.warning("login success not recorded in Redis: %s", exc)

    # -- the per-address budget alone (API keys: there is no account to count against) ------------------------
    def check_ip(self, ip: str | None, *, now: datetime) -> None:
        """Raise Throttled if `ip` spent its failure budget within the window; a Redis outage lets it through."""
        redis = self._redis()
        if redis is None:
            return
        try:
            self._check_ip_redis(redis, ip, now.timestamp())
        except RedisError as exc:
            log.warning("address throttle check skipped, Redis error: %s", exc)

    def ip_failure(self, ip: str | None, *, now: datetime) -> None:
        """Count a failed attempt against `ip` alone."""
        redis = self._redis()
        if redis is None or not ip:
            return
        try:
            pipe = redis.pipeline()
            self._add_ip_failure(
                pipe, ip, now.timestamp(), f"{now.timestamp()}:{uuid.uuid4().hex}", _seconds(self.policy.ip_window)
            )
            pipe.execute()
        except RedisError as exc:
            log.warning("address failure not counted, Redis error: %s", exc)


default_throttle = LoginThrottle()
# Wrong API keys: 20 per address per minute, then 429 until the oldest failure leaves the window.
API_KEY_POLICY = ThrottlePolicy(ip_max_failures=20, ip_window=timedelta(minutes=1), ip_code="rate_limited")
api_key_throttle = LoginThrottle(policy=API_KEY_POLICY, prefix="mirage:apikey:")

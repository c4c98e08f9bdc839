"""Login throttling with a frozen clock: delays after 5 failures, a 15-minute lock after 10, a per-IP budget,
and a database-only fallback when Redis is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlmodel import select

from mirage_app.base.errors import AuthFailed, Throttled
from mirage_app.core.db import tenant_session
from mirage_app.models import AuditLog, User
from mirage_app.services import auth
from mirage_app.services.throttle import POLICY, LoginThrottle
from tests.services.conftest import unique_email

WRONG = "definitely wrong password"


def _fail(email, clock, *, ip=None, throttle=None, wait=True):
    """One wrong attempt, then (by default) waiting out any delay; returns the error raised."""
    kwargs = {"throttle": throttle} if throttle else {}
    with pytest.raises((AuthFailed, Throttled)) as info:
        auth.login(email, WRONG, ip=ip, clock=clock, **kwargs)
    if wait:
        clock.advance(timedelta(seconds=POLICY.max_delay_s))
    return info.value


def _db_state(user):
    with tenant_session(user.tenant_id) as s:
        row = s.get(User, user.id)
        return row.failed_logins, row.locked_until


def test_policy_numbers():
    assert [POLICY.delay_s(n) for n in range(1, 11)] == [0, 0, 0, 0, 2, 4, 8, 16, 32, 60]
    assert POLICY.lock_after == 10 and POLICY.lock_for == timedelta(minutes=15)
    assert POLICY.ip_max_failures == 30 and POLICY.ip_window == timedelta(minutes=15)


def test_failures_slow_down_then_lock_the_account(tenant_a, make_user, clock, new_ip):
    user = make_user(tenant_a)
    errors = [_fail(user.email, clock, ip=new_ip()) for _ in range(4)]
    assert all(isinstance(e, AuthFailed) and e.retry_after is None for e in errors)
    fifth = _fail(user.email, clock, ip=new_ip())
    assert isinstance(fifth, AuthFailed) and fifth.retry_after == 2

    # Sixth failure: then an immediate retry is refused without even checking the password.
    with pytest.raises(AuthFailed) as sixth:
        auth.login(user.email, WRONG, clock=clock)
    assert sixth.value.retry_after == 4
    with pytest.raises(Throttled) as cooling:
        auth.login(user.email, user.password, clock=clock)
    assert cooling.value.code == "auth.slow_down" and cooling.value.retry_after == 4
    clock.advance(timedelta(seconds=4))

    for _ in range(3):
        _fail(user.email, clock)
    assert _db_state(user)[0] == 9
    locked = _fail(user.email, clock)  # the tenth
    assert isinstance(locked, Throttled) and locked.code == "auth.account_locked"
    assert locked.retry_after == 15 * 60 and locked.status == 429
    assert "15 minutes" in locked.message

    # Even the right password is refused while locked, and nothing is reset by trying.
    with pytest.raises(Throttled):
        auth.login(user.email, user.password, clock=clock)
    failed, locked_until = _db_state(user)
    assert failed == 0 and locked_until > clock.now()  # the lock replaces the count
    with tenant_session(tenant_a) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "auth.account_locked")).one()
    assert entry.actor == "system" and entry.entity_id == str(user.id)

    clock.set(locked_until + timedelta(seconds=1))
    assert auth.login(user.email, user.password, clock=clock).session_token
    assert _db_state(user) == (0, None)


def test_success_resets_the_account_counter(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    for _ in range(4):
        _fail(user.email, clock)
    auth.login(user.email, user.password, clock=clock)
    assert _db_state(user) == (0, None)
    assert _fail(user.email, clock).retry_after is None  # counting starts again


def test_old_failures_fall_out_of_the_window(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    for _ in range(9):
        _fail(user.email, clock)
    clock.advance(POLICY.account_window)
    assert isinstance(_fail(user.email, clock), AuthFailed)  # not the tenth within 15 minutes


def test_unknown_emails_are_throttled_like_real_ones(clock):
    email = unique_email("ghost")
    outcomes = [_fail(email, clock) for _ in range(10)]
    assert outcomes[4].retry_after == 2
    assert isinstance(outcomes[-1], Throttled) and outcomes[-1].code == "auth.account_locked"


def test_one_ip_has_a_failure_budget(tenant_a, make_user, clock, new_ip):
    ip = new_ip()
    user = make_user(tenant_a)
    for n in range(POLICY.ip_max_failures):
        _fail(f"spray-{n}@example.com", clock, ip=ip, wait=False)
    with pytest.raises(Throttled) as info:
        auth.login(user.email, user.password, ip=ip, clock=clock)
    assert info.value.code == "auth.ip_throttled" and info.value.retry_after > 0
    assert auth.login(user.email, user.password, ip=new_ip(), clock=clock).session_token  # other addresses work
    clock.advance(POLICY.ip_window)
    assert auth.login(user.email, user.password, ip=ip, clock=clock).session_token


def _broken_redis():
    raise RedisConnectionError("redis is down")


class _FailingRedis:
    def __getattr__(self, name):
        raise RedisConnectionError("redis is down")


@pytest.mark.parametrize("factory", [_broken_redis, _FailingRedis], ids=["factory-fails", "commands-fail"])
def test_login_works_without_redis_and_still_locks(tenant_a, make_user, clock, factory):
    throttle = LoginThrottle(redis_factory=factory)
    user = make_user(tenant_a)
    assert auth.login(user.email, user.password, ip="192.0.2.9", clock=clock, throttle=throttle).session_token
    errors = [_fail(user.email, clock, ip="192.0.2.9", throttle=throttle) for _ in range(10)]
    assert all(isinstance(e, AuthFailed) for e in errors[:9])
    assert isinstance(errors[-1], Throttled) and errors[-1].code == "auth.account_locked"
    with pytest.raises(Throttled):
        auth.login(user.email, user.password, clock=clock, throttle=throttle)
    clock.advance(POLICY.lock_for)
    assert auth.login(user.email, user.password, clock=clock, throttle=throttle).session_token

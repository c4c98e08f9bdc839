"""Helpers for the auth/permission tests: real users in real tenants, a frozen clock, TOTP codes on demand."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher

from mirage_app.base.permissions import Actor
from mirage_app.core import security
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.core.security import hash_password
from mirage_app.models import User, UserRole
from mirage_app.services import mfa

PASSWORD = "correct horse battery"
_ips = itertools.count(1)


@dataclass
class TestUser:
    __test__ = False
    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    password: str
    role: UserRole
    totp_secret: str | None = None
    recovery_codes: list[str] | None = None

    def actor(self, *, mfa_enabled: bool | None = None, ip: str | None = "198.51.100.7") -> Actor:
        """An actor as `resolve_session` would build it (without a session row)."""
        return Actor(
            tenant_id=self.tenant_id,
            role=self.role,
            label=self.email,
            user_id=self.id,
            mfa_enabled=self.totp_secret is not None if mfa_enabled is None else mfa_enabled,
            ip=ip,
        )


@pytest.fixture(scope="package", autouse=True)
def fast_argon2():
    """Still argon2id, with the cheapest parameters: this machine takes ~250 ms per production-strength hash, and
    the throttling tests need dozens. Production parameters are checked in test_plaintext.py."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture
def clock() -> FrozenClock:
    """Starts at the real time: the database's own `now()` checks in the credential look-ups stay consistent."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def new_ip():
    """A fresh client address per call, so per-IP throttling in one test never affects another."""

    def _ip() -> str:
        n = next(_ips)
        return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"

    return _ip


def unique_email(prefix: str) -> str:
    """Emails are unique across all tenants, and the database lives for the whole test session."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def totp_now(user: TestUser, clock: FrozenClock) -> str:
    return pyotp.TOTP(user.totp_secret).at(clock.now())


def next_totp(user: TestUser, clock: FrozenClock) -> str:
    """A code from the next 30-second step: each code is accepted once only."""
    clock.advance(timedelta(seconds=30))
    return totp_now(user, clock)


@pytest.fixture
def make_user(clock):
    def _make(tenant_id: uuid.UUID, role: UserRole | str = UserRole.operator, *, mfa_on: bool = False) -> TestUser:
        email = unique_email(str(role))
        with tenant_session(tenant_id) as s:
            user = User(
                tenant_id=tenant_id,
                email=email,
                role=UserRole(role),
                password_hash=hash_password(PASSWORD),
                password_changed_at=clock.now(),
            )
            s.add(user)
            s.commit()
        made = TestUser(user.id, tenant_id, email, PASSWORD, UserRole(role))
        if mfa_on:
            enable_mfa(made, clock)
        return made

    return _make


def enable_mfa(user: TestUser, clock: FrozenClock) -> None:
    actor = user.actor(mfa_enabled=False)
    enrolment = mfa.begin_enrolment(actor, clock=clock)
    user.totp_secret = enrolment.secret
    user.recovery_codes = mfa.confirm_enrolment(actor, next_totp(user, clock), clock=clock)

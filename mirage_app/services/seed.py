"""First-run data: the "Default Tenant" and its admin, with a generated password that is printed once.

The default tenant is on the unlimited "enterprise" plan and its first admin is also the platform operator (who
creates the other tenants, services.platform)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, select

from mirage_app.core.db import admin_engine, system_session, tenant_session
from mirage_app.core.security import generate_password, hash_password
from mirage_app.models import Tenant, TenantPlan, TenantSettings, User, UserRole
from mirage_app.services.auth_sessions import revoke_user_sessions

DEFAULT_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")
DEFAULT_ADMIN_EMAIL = "admin@mirage.local"


@dataclass(frozen=True)
class SeedResult:
    tenant_id: uuid.UUID
    admin_email: str
    generated_password: str | None  # None when the admin already existed


def create_tenant(
    name: str,
    *,
    tenant_id: uuid.UUID | None = None,
    plan: TenantPlan = TenantPlan.enterprise,
    timezone: str = "America/Sao_Paulo",
    locale: str = "pt-BR",
) -> uuid.UUID:
    """Creating a tenant is a system operation: it runs on the owner connection, then the rest as the tenant."""
    tenant_id = tenant_id or uuid.uuid4()
    with Session(admin_engine()) as s:
        s.add(Tenant(id=tenant_id, name=name, plan=plan, timezone=timezone, locale=locale))
        s.commit()
    with tenant_session(tenant_id) as s:
        s.add(TenantSettings(tenant_id=tenant_id))
        s.commit()
    return tenant_id


def ensure_default_tenant(password: str | None = None) -> SeedResult:
    with Session(admin_engine()) as s:
        exists = s.get(Tenant, DEFAULT_TENANT_ID) is not None
    if not exists:
        create_tenant("Default Tenant", tenant_id=DEFAULT_TENANT_ID)
    # The owner's connection: only the platform may make a platform operator (migration 0025).
    with tenant_session(DEFAULT_TENANT_ID, engine=admin_engine()) as s:
        admin = s.exec(select(User).where(User.email == DEFAULT_ADMIN_EMAIL)).first()
        if admin is not None:
            return SeedResult(DEFAULT_TENANT_ID, DEFAULT_ADMIN_EMAIL, None)
        generated = password or generate_password()
        s.add(
            User(
                tenant_id=DEFAULT_TENANT_ID,
                email=DEFAULT_ADMIN_EMAIL,
                role=UserRole.admin,
                password_hash=hash_password(generated),
                display_name="Admin",
                is_platform_operator=True,
            )
        )
        s.commit()
    return SeedResult(DEFAULT_TENANT_ID, DEFAULT_ADMIN_EMAIL, None if password else generated)


def reset_admin_password(email: str) -> str:
    """Recovery path for a lost first-run password: a new generated one, sessions revoked."""
    with system_session() as s:
        row = s.execute(text("SELECT user_id, tenant_id FROM auth_user_by_email(:e)"), {"e": email}).first()
    if row is None:
        raise SystemExit(f"no active user {email}")
    password = generate_password()
    with tenant_session(row.tenant_id) as s:
        user = s.get(User, row.user_id)
        user.password_hash = hash_password(password)
        # A reset clears a lock-out and asks for a personal password at the next sign-in.
        user.password_changed_at, user.failed_logins, user.locked_until = None, 0, None
        s.add(user)
        s.commit()
    revoke_user_sessions(row.tenant_id, row.user_id)
    return password

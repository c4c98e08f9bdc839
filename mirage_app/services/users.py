"""People of a tenant: invitations by one-time link, roles, deactivation, language.

Views returned here never carry password hashes, TOTP secrets or recovery codes, so they can go into UI state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import hash_password, hash_token, new_token
from mirage_app.i18n import LOCALES
from mirage_app.models import Invitation, Tenant, User, UserRole
from mirage_app.services import plan_limits
from mirage_app.services.auth import actor_for, lookup_user, validate_email, validate_password
from mirage_app.services.auth_sessions import create_session, revoke_in
from mirage_app.services.mfa import own_user
from mirage_app.services.suspension import refuse_if_suspended

INVITATION_TTL = timedelta(hours=72)
DISPLAY_NAME_MAX = 120


@dataclass(frozen=True)
class UserView:
    id: uuid.UUID
    email: str
    display_name: str | None
    role: str
    locale: str
    mfa_enabled: bool
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=str(user.role),
            locale=user.locale,
            mfa_enabled=user.mfa_enabled,
            is_active=user.is_active,
            locked_until=user.locked_until,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
        )


@dataclass(frozen=True)
class InvitationView:
    id: uuid.UUID
    email: str
    role: str
    status: str  # pending / accepted / revoked / expired
    expires_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, inv: Invitation, now: datetime) -> InvitationView:
        return cls(inv.id, inv.email, str(inv.role), _status(inv, now), inv.expires_at, inv.created_at)


@dataclass(frozen=True)
class InviteResult:
    invitation: InvitationView
    token: str  # shown once, inside the link
    accept_path: str  # "/invite/<token>"; prefix with MIRAGE_PUBLIC_URL to share


@dataclass(frozen=True)
class InvitationPreview:
    """What the accept page shows before the person sets a password."""

    email: str
    role: str
    tenant_name: str
    locale: str  # the tenant's language, a good default for the form
    expires_at: datetime


@dataclass(frozen=True)
class AcceptResult:
    session_token: str
    actor: Actor


def _status(inv: Invitation, now: datetime) -> str:
    if inv.accepted_at is not None:
        return "accepted"
    if inv.revoked_at is not None:
        return "revoked"
    if inv.expires_at <= now:
        return "expired"
    return "pending"


def _role(role: str | UserRole) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        raise ValidationFailed("validation.role_invalid", field="role") from None


def validate_locale(locale: str | None) -> str:
    if locale not in LOCALES:
        raise ValidationFailed("validation.locale_invalid", field="locale")
    return locale


def _display_name(name: str | None) -> str | None:
    value = (name or "").strip()
    if len(value) > DISPLAY_NAME_MAX:
        raise ValidationFailed("validation.name_too_long", field="display_name", max_length=DISPLAY_NAME_MAX)
    return value or None


def _target(s: Session, user_id: uuid.UUID | str) -> User:
    """A user of the actor's tenant (RLS makes other tenants' users simply not found)."""
    try:
        uid = uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("users.not_found") from None
    user = s.get(User, uid, with_for_update=True)
    if user is None:
        raise NotFound("users.not_found")
    return user


def _active_admins(s: Session) -> list[uuid.UUID]:
    """Lock the active admins (in id order, before the target row) so that two concurrent demotions cannot both
    pass the last-admin check, and cannot deadlock each other."""
    return list(
        s.exec(
            select(User.id)
            .where(User.role == UserRole.admin, col(User.is_active).is_(True))
            .order_by(col(User.id))
            .with_for_update()
        ).all()
    )


def _ensure_another_admin(admins: list[uuid.UUID], user: User) -> None:
    if user.role == UserRole.admin and user.is_active and not [a for a in admins if a != user.id]:
        raise Conflict("users.last_admin")


# -- reading ---------------------------------------------------------------------------------------------------------


def list_users(actor: Actor) -> list[UserView]:
    authorize(actor, Action.users_read)
    with tenant_session(actor.tenant_id) as s:
        users = s.exec(select(User).order_by(func.lower(User.email))).all()
        return [UserView.of(u) for u in users]


def list_invitations(
    actor: Actor, *, include_closed: bool = False, clock: Clock = system_clock
) -> list[InvitationView]:
    authorize(actor, Action.users_read)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        rows = s.exec(select(Invitation).order_by(col(Invitation.created_at).desc())).all()
    views = [InvitationView.of(inv, now) for inv in rows]
    return views if include_closed else [v for v in views if v.status == "pending"]


def get_profile(actor: Actor) -> UserView:
    """The actor's own account, for the profile part of the settings page."""
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotFound("users.not_found")
        return UserView.of(user)


# -- invitations -----------------------------------------------------------------------------------------------------


def invite(actor: Actor, email: str, role: str | UserRole, *, clock: Clock = system_clock) -> InviteResult:
    """A one-time link valid for `INVITATION_TTL`; an earlier pending invitation for the same email is revoked."""
    authorize(actor, Action.users_manage)
    address = validate_email(email)
    user_role = _role(role)
    if lookup_user(address) is not None:
        raise Conflict("users.email_taken", field="email")
    now = clock.now()
    token = new_token()
    with tenant_session(actor.tenant_id) as s:
        if s.exec(select(User.id).where(func.lower(User.email) == address)).first() is not None:
            raise Conflict("users.email_taken", field="email")  # an inactive user of this tenant
        earlier = s.exec(
            select(Invitation).where(
                func.lower(Invitation.email) == address,
                col(Invitation.accepted_at).is_(None),
                col(Invitation.revoked_at).is_(None),
            )
        ).all()
        for old in earlier:
            old.revoked_at = now
            audit.record(s, actor, "users.invitation_revoked", "invitation", old.id, {"email": old.email}, clock=clock)
        s.flush()
        plan_limits.ensure_room(s, "users", clock=clock)
        inv = _new_invitation(s, actor.tenant_id, address, user_role, token, actor.user_id, now)
        after = {"email": address, "role": user_role.value, "expires_at": inv.expires_at}
        audit.record(s, actor, "users.invited", "invitation", inv.id, None, after, clock=clock)
        s.commit()
        return InviteResult(InvitationView.of(inv, now), token, f"/invite/{token}")


def _new_invitation(
    s: Session, tenant_id: uuid.UUID, address: str, role: UserRole, token: str, by: uuid.UUID | None, now: datetime
) -> Invitation:
    inv = Invitation(
        tenant_id=tenant_id,
        email=address,
        role=role,
        token_hash=hash_token(token),
        invited_by=by,
        expires_at=now + INVITATION_TTL,
        created_at=now,
    )
    s.add(inv)
    s.flush()
    return inv


def invite_first_admin(s, tenant_id: uuid.UUID, address: str, by: str, *, clock: Clock = system_clock) -> InviteResult:
    """The first admin of a tenant the platform operator is creating, in its transaction (services.platform checks
    who may and validated the address): an invitation link, so no password travels. `by` names the operator in
    the tenant's audit log."""
    now = clock.now()
    token = new_token()
    inv = _new_invitation(s, tenant_id, address, UserRole.admin, token, None, now)
    after = {"email": address, "role": UserRole.admin.value, "expires_at": inv.expires_at}
    audit.record(s, None, "users.invited", "invitation", inv.id, None, after, tenant_id=tenant_id, by=by,
                 clock=clock)  # fmt: skip
    return InviteResult(InvitationView.of(inv, now), token, f"/invite/{token}")


def revoke_invitation(actor: Actor, invitation_id: uuid.UUID | str, *, clock: Clock = system_clock) -> InvitationView:
    authorize(actor, Action.users_manage)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        try:
            inv = s.get(Invitation, uuid.UUID(str(invitation_id)), with_for_update=True)
        except ValueError:
            inv = None
        if inv is None:
            raise NotFound("invitations.not_found")
        if inv.accepted_at is not None:
            raise Conflict("invitations.used")
        if inv.revoked_at is None:
            inv.revoked_at = now
            audit.record(s, actor, "users.invitation_revoked", "invitation", inv.id, {"email": inv.email}, clock=clock)
            s.commit()
        return InvitationView.of(inv, now)


def _open_invitation(s: Session, invitation_id: uuid.UUID, now: datetime, *, lock: bool) -> Invitation:
    inv = s.get(Invitation, invitation_id, with_for_update=lock)
    if inv is None:
        raise NotFound("invitations.not_found")
    status = _status(inv, now)
    if status == "accepted":
        raise Conflict("invitations.used")
    if status == "revoked":
        raise Conflict("invitations.revoked")
    if status == "expired":
        raise Conflict("invitations.expired")
    return inv


def _find_invitation(raw_token: str | None) -> tuple[uuid.UUID, uuid.UUID]:
    """(tenant_id, invitation_id) through the definer look-up, or NotFound."""
    if not raw_token or len(raw_token) > 200:
        raise NotFound("invitations.not_found")
    with system_session() as s:
        row = s.execute(
            text("SELECT invitation_id, tenant_id FROM auth_invitation_by_token(:h)"), {"h": hash_token(raw_token)}
        ).first()
    if row is None:
        raise NotFound("invitations.not_found")
    return row.tenant_id, row.invitation_id


def describe_invitation(raw_token: str, *, clock: Clock = system_clock) -> InvitationPreview:
    """For the accept page; raises the same errors as `accept_invitation` for unusable links."""
    tenant_id, invitation_id = _find_invitation(raw_token)
    with tenant_session(tenant_id) as s:
        refuse_if_suspended(s)
        inv = _open_invitation(s, invitation_id, clock.now(), lock=False)
        tenant = s.get(Tenant, tenant_id)
        return InvitationPreview(inv.email, str(inv.role), tenant.name, tenant.locale, inv.expires_at)


def accept_invitation(
    raw_token: str,
    password: str,
    locale: str,
    display_name: str | None = None,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    clock: Clock = system_clock,
) -> AcceptResult:
    """Create the invited user in the invitation's tenant and sign them in.

    Raises NotFound("invitations.not_found"), Conflict("invitations.expired" / "used" / "revoked" /
    "users.email_taken"), ValidationFailed (password, locale, display_name). Nothing changes on any error.
    """
    tenant_id, invitation_id = _find_invitation(raw_token)
    now = clock.now()
    with tenant_session(tenant_id) as s:
        refuse_if_suspended(s)
        inv = _open_invitation(s, invitation_id, now, lock=True)
        validate_password(password, inv.email)
        chosen_locale = validate_locale(locale)
        name = _display_name(display_name)
        if lookup_user(inv.email) is not None:
            raise Conflict("users.email_taken")
        user = User(
            tenant_id=tenant_id,
            email=inv.email,
            password_hash=hash_password(password),
            role=inv.role,
            display_name=name,
            locale=chosen_locale,
            password_changed_at=now,
            last_login_at=now,
            created_at=now,
        )
        s.add(user)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict("users.email_taken") from None  # an inactive account elsewhere holds this email
        inv.accepted_at = now
        row, token = create_session(
            s, tenant_id=tenant_id, user_id=user.id, ip=ip, user_agent=user_agent, mfa_verified=False, clock=clock
        )
        s.flush()
        actor = actor_for(user, row, ip)
        after = {"email": user.email, "role": str(user.role), "invitation_id": str(inv.id)}
        audit.record(s, actor, "users.invitation_accepted", "user", user.id, None, after, clock=clock)
        s.commit()
    return AcceptResult(token, actor)


# -- managing users --------------------------------------------------------------------------------------------------


def change_role(
    actor: Actor, user_id: uuid.UUID | str, role: str | UserRole, *, clock: Clock = system_clock
) -> UserView:
    """Takes effect on the user's next request (sessions resolve the role every time)."""
    authorize(actor, Action.users_manage)
    new_role = _role(role)
    with tenant_session(actor.tenant_id) as s:
        admins = _active_admins(s)
        user = _target(s, user_id)
        if user.role == new_role:
            return UserView.of(user)
        _ensure_another_admin(admins, user)
        before = {"role": str(user.role)}
        user.role = new_role
        user.updated_at = clock.now()
        audit.record(s, actor, "users.role_changed", "user", user.id, before, {"role": new_role.value}, clock=clock)
        s.commit()
        return UserView.of(user)


def deactivate_user(actor: Actor, user_id: uuid.UUID | str, *, clock: Clock = system_clock) -> UserView:
    """The user can no longer sign in; their sessions are revoked at once. The last admin cannot go."""
    authorize(actor, Action.users_manage)
    with tenant_session(actor.tenant_id) as s:
        admins = _active_admins(s)
        user = _target(s, user_id)
        if not user.is_active:
            return UserView.of(user)
        _ensure_another_admin(admins, user)
        user.is_active = False
        user.updated_at = clock.now()
        revoked = revoke_in(s, user.id, clock=clock)
        after = {"is_active": False, "sessions_revoked": revoked}
        audit.record(s, actor, "users.deactivated", "user", user.id, {"is_active": True}, after, clock=clock)
        s.commit()
        return UserView.of(user)


def set_locale(actor: Actor, locale: str, *, clock: Clock = system_clock) -> str:
    """The actor's own interface language ("pt-BR" or "en")."""
    authorize(actor, Action.account_self)
    chosen = validate_locale(locale)
    with tenant_session(actor.tenant_id) as s:
        user = own_user(s, actor)
        if user.locale != chosen:
            before = {"locale": user.locale}
            user.locale = chosen
            user.updated_at = clock.now()
            audit.record(s, actor, "account.locale_changed", "user", user.id, before, {"locale": chosen}, clock=clock)
            s.commit()
    return chosen

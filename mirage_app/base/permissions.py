"""The one place that decides who may do what.

Every Reflex event handler and API route that reads or changes tenant data calls `authorize(actor, action)` (or a
service that does) before touching the database; pages use `can()` only to hide buttons, never as the check.

Roles: viewers read; operators also configure numbers, personas, conversations, contacts and outreach; admins
also manage the tenant, its users, API keys and audit log. Sensitive actions additionally need an admin whose
session passed TOTP (MFA on). API keys act with role "operator" (`API_KEY_ROLE`): they can automate everything an
operator can, and never manage users or keys, export contacts or act on someone's own account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from mirage_app.base.errors import AuthFailed, PermissionDenied
from mirage_app.models.enums import UserRole


class Action(StrEnum):
    data_read = "data.read"
    account_self = "account.self"  # own password, MFA and language
    numbers_manage = "numbers.manage"
    personas_manage = "personas.manage"
    conversations_manage = "conversations.manage"  # incl. settings overrides, schedule, participants, topics
    contacts_manage = "contacts.manage"  # incl. CSV import, tags, consent, suppression
    contacts_export = "contacts.export"  # incl. one person's data export (LGPD Art. 18)
    contacts_erase = "contacts.erase"  # erase one person's data (LGPD Art. 18), their number kept only as a hash
    outreach_manage = "outreach.manage"  # policies, targets, activation
    media_manage = "media.manage"  # the media library: upload, tag, delete
    settings_tenant = "settings.tenant"
    settings_safety_limits_raise = "settings.safety_limits_raise"
    users_read = "users.read"
    users_manage = "users.manage"
    api_keys_read = "api_keys.read"
    api_keys_manage = "api_keys.manage"
    audit_read = "audit.read"
    servers_manage = "servers.manage"  # the tenant's own Evolution servers: capacity, drain, disable, remove
    servers_credentials = "servers.credentials"  # add an Evolution server or change its API key


_VIEWER = frozenset({Action.data_read, Action.account_self})
_OPERATOR = _VIEWER | {
    Action.numbers_manage,
    Action.personas_manage,
    Action.conversations_manage,
    Action.contacts_manage,
    Action.outreach_manage,
    Action.media_manage,
}
_ADMIN = frozenset(Action)

ROLE_PERMISSIONS: dict[UserRole, frozenset[Action]] = {
    UserRole.viewer: _VIEWER,
    UserRole.operator: frozenset(_OPERATOR),
    UserRole.admin: _ADMIN,
}

SENSITIVE_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.users_manage,
        Action.api_keys_manage,
        Action.contacts_export,
        Action.contacts_erase,
        Action.settings_safety_limits_raise,
        Action.servers_credentials,
    }
)

# Acting on "my account" only makes sense for a person.
USER_ONLY_ACTIONS: frozenset[Action] = frozenset({Action.account_self})

API_KEY_ROLE = UserRole.operator
PLATFORM_ACTION = "platform.manage"  # not a tenant Action: no tenant role holds it


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user (user_id, session_id) or a tenant API key (api_key_id)."""

    tenant_id: uuid.UUID
    role: UserRole
    label: str  # the user's email, or "api_key:<name>"
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    mfa_enabled: bool = False  # MFA on and verified for this session
    ip: str | None = None
    locale: str = "pt-BR"
    display_name: str | None = None
    platform_operator: bool = False  # the platform-level role (users.is_platform_operator), never an API key's

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


def _denial(actor: Actor, action: Action) -> PermissionDenied | None:
    if action not in ROLE_PERMISSIONS[UserRole(actor.role)]:
        return PermissionDenied("role", action=action.value)
    if action in USER_ONLY_ACTIONS and not actor.is_user:
        return PermissionDenied("user_required", action=action.value)
    if action in SENSITIVE_ACTIONS and not actor.mfa_enabled:
        return PermissionDenied("mfa_required", action=action.value)
    return None


def authorize(actor: Actor | None, action: Action) -> Actor:
    """Raise PermissionDenied unless `actor` may do `action` (AuthFailed when nobody is signed in)."""
    if actor is None:
        raise AuthFailed("auth.required")
    denial = _denial(actor, Action(action))
    if denial is not None:
        raise denial
    return actor


def authorize_platform(actor: Actor | None) -> Actor:
    """The platform operator's actions (tenants, plans): a person holding the platform role whose session passed
    MFA. Tenant roles, admins included, never reach them."""
    if actor is None:
        raise AuthFailed("auth.required")
    if not actor.is_user or not actor.platform_operator:
        raise PermissionDenied("platform", action=PLATFORM_ACTION)
    if not actor.mfa_enabled:
        raise PermissionDenied("mfa_required", action=PLATFORM_ACTION)
    return actor


def is_platform_operator(actor: Actor | None) -> bool:
    """For hiding the platform link; the check is `authorize_platform`."""
    return actor is not None and actor.is_user and actor.platform_operator


def can(actor: Actor | None, action: Action) -> bool:
    return actor is not None and _denial(actor, Action(action)) is None


def allowed_actions(actor: Actor) -> list[str]:
    return sorted(action.value for action in Action if can(actor, action))

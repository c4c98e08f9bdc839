"""`/settings`: security (password, MFA), users and invitations, API keys, tenant defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.base.permissions import Action, can
from mirage_app.core.config import get_settings
from mirage_app.services import api_keys, auth, mfa, tenant_settings, users
from mirage_app.states.auth import AuthState

WARMUP = ("day1", "growth", "first_week_cap", "max_daily", "settle_hours_after_pairing")


def _stamp(when) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if when else "—"


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    name: str
    role: str
    mfa_enabled: bool
    active: bool
    last_login: str


@dataclass(frozen=True)
class InvitationRow:
    id: str
    email: str
    role: str
    status: str  # pending / accepted / revoked / expired
    expires: str


@dataclass(frozen=True)
class ApiKeyRow:
    id: str
    name: str
    display: str  # the scheme and prefix; the secret is shown once, at creation
    created: str
    last_used: str
    revoked: bool


@dataclass(frozen=True)
class TenantDefaults:
    """The tenant form, as typed: number fields are parsed on save."""

    timezone: str = ""
    locale: str = ""
    min_delay_s: str = ""
    max_delay_s: str = ""
    hourly_burst_limit: str = ""
    quiet_hours_enabled: bool = False
    quiet_start: str = ""
    quiet_end: str = ""
    humanize: bool = False
    allow_bot_to_bot: bool = False
    day1: str = ""
    growth: str = ""
    first_week_cap: str = ""
    max_daily: str = ""
    settle_hours_after_pairing: str = ""

    @classmethod
    def of(cls, view: tenant_settings.TenantSettingsView) -> TenantDefaults:
        return cls(
            timezone=view.timezone,
            locale=view.locale,
            min_delay_s=str(view.min_delay_s),
            max_delay_s=str(view.max_delay_s),
            hourly_burst_limit=str(view.hourly_burst_limit),
            quiet_hours_enabled=view.quiet_hours_enabled,
            quiet_start=view.quiet_start,
            quiet_end=view.quiet_end,
            humanize=view.humanize,
            allow_bot_to_bot=view.allow_bot_to_bot,
            **{k: str(view.warmup.get(k, "")) for k in WARMUP},
        )

    def changes(self) -> dict:
        """What `tenant_settings.update_settings` takes; raises ValueError when a number field is not a number."""
        changes = {
            "timezone": self.timezone,
            "locale": self.locale,
            "min_delay_s": int(self.min_delay_s),
            "max_delay_s": int(self.max_delay_s),
            "hourly_burst_limit": int(self.hourly_burst_limit),
            "quiet_hours_enabled": self.quiet_hours_enabled,
            "humanize": self.humanize,
            "allow_bot_to_bot": self.allow_bot_to_bot,
            "warmup": {
                "day1": int(self.day1),
                "growth": float(self.growth),
                "first_week_cap": int(self.first_week_cap),
                "max_daily": int(self.max_daily),
                "settle_hours_after_pairing": float(self.settle_hours_after_pairing),
            },
        }
        if self.quiet_hours_enabled:
            changes |= {"quiet_start": self.quiet_start, "quiet_end": self.quiet_end}
        return changes


class SettingsState(AuthState):
    tab: str = "security"
    first_run: bool = False
    password_error: str = ""
    # MFA
    mfa_qr: str = ""
    mfa_secret: str = ""
    mfa_error: str = ""
    recovery_codes: list[str] = []
    recovery_left: int = 0
    # users
    user_rows: list[UserRow] = []
    invitation_rows: list[InvitationRow] = []
    invite_error: str = ""
    invite_link: str = ""
    # API keys
    key_rows: list[ApiKeyRow] = []
    key_error: str = ""
    new_key: str = ""
    # tenant defaults
    tenant: TenantDefaults = TenantDefaults()
    tenant_error: str = ""

    @rx.event
    def on_load(self):
        params = self.router.url.query_parameters
        self.tab = params.get("tab", self.tab or "security")
        self.first_run = params.get("first") == "1"
        self.mfa_qr = self.mfa_secret = self.mfa_error = self.password_error = ""
        self.invite_link = self.new_key = self.invite_error = self.key_error = ""
        self.recovery_codes = []
        return self._reload()

    def _reload(self):
        """Re-read everything the tabs show; returns the error toast when that fails."""

        def read(actor):
            return (
                tenant_settings.get_settings(actor),
                mfa.recovery_codes_left(actor) if actor.mfa_enabled else 0,
                users.list_users(actor) if can(actor, Action.users_read) else [],
                users.list_invitations(actor) if can(actor, Action.users_read) else [],
                api_keys.list_keys(actor) if can(actor, Action.api_keys_read) else [],
            )

        loaded = self._call(read)
        if not loaded.ok:
            return loaded.feedback
        tenant, self.recovery_left, user_views, invitations, keys = loaded.value
        self.tenant = TenantDefaults.of(tenant)
        self.user_rows = [
            UserRow(
                id=str(u.id),
                email=u.email,
                name=u.display_name or "",
                role=u.role,
                mfa_enabled=u.mfa_enabled,
                active=u.is_active,
                last_login=_stamp(u.last_login_at),
            )
            for u in user_views
        ]
        self.invitation_rows = [
            InvitationRow(str(i.id), i.email, i.role, i.status, _stamp(i.expires_at)) for i in invitations
        ]
        self.key_rows = [
            ApiKeyRow(
                id=str(k.id),
                name=k.name,
                display=k.display,
                created=_stamp(k.created_at),
                last_used=_stamp(k.last_used_at),
                revoked=k.revoked_at is not None,
            )
            for k in keys
        ]
        return None

    @rx.event
    def set_tab(self, tab: str):
        self.tab = tab

    # -- security ------------------------------------------------------------------------------------
    @rx.event
    def change_password(self, form: dict):
        if form.get("new_password") != form.get("confirm"):
            self.password_error = self.tr["invite.mismatch"]
            return None
        changed = self._call(
            auth.change_password,
            form.get("current_password", ""),
            form.get("new_password", ""),
            error_to="password_error",
            success="settings.password_changed",
        )
        if changed.ok:
            self.first_run = False
        return changed.feedback

    @rx.event
    def start_mfa(self):
        started = self._call(mfa.begin_enrolment)
        if started.ok:
            self.mfa_qr, self.mfa_secret, self.mfa_error = started.value.qr_svg_data_uri, started.value.secret, ""
        return started.feedback

    @rx.event
    def confirm_mfa(self, form: dict):
        confirmed = self._call(
            mfa.confirm_enrolment, form.get("code", ""), error_to="mfa_error", success="settings.mfa_on"
        )
        if not confirmed.ok:
            return confirmed.feedback
        self.recovery_codes, self.mfa_qr, self.mfa_secret = confirmed.value, "", ""
        self.mfa_enabled = True
        self._reload()
        return confirmed.feedback

    @rx.event
    def disable_mfa(self, form: dict):
        disabled = self._call(mfa.disable, form.get("code", ""), error_to="mfa_error", success="settings.mfa_off")
        if disabled.ok:
            self.mfa_enabled, self.recovery_codes = False, []
        return disabled.feedback

    @rx.event
    def regenerate_codes(self, form: dict):
        regenerated = self._call(mfa.regenerate_recovery_codes, form.get("code", ""), error_to="mfa_error")
        if not regenerated.ok:
            return regenerated.feedback
        self.recovery_codes = regenerated.value
        self._reload()
        return None

    # -- tenant defaults -----------------------------------------------------------------------------
    @rx.event
    def set_tenant_field(self, name: str, value: str | bool):
        """A text box (str) or a switch (bool) of the tenant form."""
        self.tenant = replace(self.tenant, **{name: value})

    @rx.event
    def save_tenant(self):
        try:
            changes = self.tenant.changes()
        except ValueError:
            self.tenant_error = self.tr["conversations.numbers_only"]
            return None
        saved = self._call(
            tenant_settings.update_settings, error_to="tenant_error", success="instances.saved", **changes
        )
        if saved.ok:
            self._reload()
        return saved.feedback

    # -- users ---------------------------------------------------------------------------------------
    @rx.event
    def invite(self, form: dict):
        self.invite_link = ""
        invited = self._call(
            users.invite,
            form.get("email", ""),
            form.get("role", "operator"),
            error_to="invite_error",
            success="settings.invited",
        )
        if not invited.ok:
            return invited.feedback
        base = self.router.url.origin or get_settings().public_url
        self.invite_link = base.rstrip("/") + invited.value.accept_path
        self._reload()
        return invited.feedback

    def _change_and_reload(self, fn, *args, success: str):
        changed = self._call(fn, *args, success=success)
        self._reload()
        return changed.feedback

    @rx.event
    def revoke_invitation(self, invitation_id: str):
        return self._change_and_reload(users.revoke_invitation, invitation_id, success="settings.invitation_revoked")

    @rx.event
    def change_role(self, user_id: str, role: str):
        return self._change_and_reload(users.change_role, user_id, role, success="settings.role_changed")

    @rx.event
    def deactivate(self, user_id: str):
        return self._change_and_reload(users.deactivate_user, user_id, success="settings.user_deactivated")

    # -- API keys ------------------------------------------------------------------------------------
    @rx.event
    def create_key(self, form: dict):
        self.new_key = ""
        created = self._call(
            api_keys.create_key, form.get("name", ""), error_to="key_error", success="settings.key_created"
        )
        if not created.ok:
            return created.feedback
        _, self.new_key = created.value
        self._reload()
        return created.feedback

    @rx.event
    def revoke_key(self, key_id: str):
        return self._change_and_reload(api_keys.revoke_key, key_id, success="settings.key_revoked")

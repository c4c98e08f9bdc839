"""`/settings`: security (password, MFA, sessions), users and invitations, API keys, tenant defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, can
from mirage_app.core.config import get_settings
from mirage_app.i18n import formats
from mirage_app.logic.form_fields import NOT_A_NUMBER, NotANumber, named_error, numbers
from mirage_app.logic.user_agent import browser_name
from mirage_app.services import api_keys, auth, auth_sessions, mfa, tenant_settings, users
from mirage_app.states.auth import AuthState, Outcome
from mirage_app.states.confirming import ConfirmDelete, confirm_view

WARMUP = ("day1", "growth", "first_week_cap", "max_daily", "settle_hours_after_pairing")
TABS = ("security", "users", "api_keys", "tenant", "servers", "safety", "alerts")
PASSWORD_INPUTS = ("current-password", "new-password", "confirm-password")
NUMBER_FIELDS: dict[str, type] = {
    "min_delay_s": int,
    "max_delay_s": int,
    "hourly_burst_limit": int,
    "day1": int,
    "growth": float,
    "first_week_cap": int,
    "max_daily": int,
    "settle_hours_after_pairing": float,
    "webhook_retention_days": int,
    "body_retention_days": int,
}
# Retention periods, and the impact line (`impact.<kind>.deleted`) a shorter one shows in its confirmation.
RETENTION_IMPACT = {"webhook_retention_days": "retention_webhooks", "body_retention_days": "retention_bodies"}
# The words for the field a service error names: the message starts with them and the input is marked.
FIELD_LABELS = {
    "current_password": "settings.current_password",
    "new_password": "settings.new_password",
    "confirm": "invite.confirm",
    "email": "settings.email",
    "role": "settings.role",
    "name": "settings.key_name",
    "warmup": "tenant.warmup",
    **{f: f"tenant.{f}" for f in tenant_settings.FIELDS if f != "warmup"},
    **{f: f"tenant.{f}" for f in WARMUP},
}


@dataclass(frozen=True)
class Ending:
    """Deactivating a user, revoking an invitation or a key, ending sessions: asked first, with what it ends."""

    verb: str  # the dialog's `confirm.verb.<verb>`
    ends: str  # what stops working, an `impact.<ends>.<effect>` sentence
    effect: Effect
    service: Callable[..., object]
    toast: str
    takes_id: bool = True  # the service is called with the target's id (else with the actor alone)


# The dialog's target is "<kind>:<id>" ("other_sessions:" has no id).
ENDINGS = {
    "user": Ending("deactivate", "user_sessions", Effect.deleted, users.deactivate_user, "settings.user_deactivated"),
    "invitation": Ending(
        "revoke", "invitation_link", Effect.deleted, users.revoke_invitation, "settings.invitation_revoked"
    ),
    "key": Ending("revoke", "api_key_clients", Effect.deactivated, api_keys.revoke_key, "settings.key_revoked"),
    "session": Ending(
        "sign_out", "session_browser", Effect.deleted, auth_sessions.revoke_my_session, "settings.session_ended"
    ),
    "other_sessions": Ending(
        "sign_out_others",
        "other_sessions",
        Effect.deleted,
        auth_sessions.revoke_my_other_sessions,
        "settings.other_sessions_ended",
        takes_id=False,
    ),
    "sessions_of": Ending(
        "end_sessions",
        "user_signed_out",
        Effect.deleted,
        auth_sessions.revoke_sessions_of,
        "settings.user_sessions_ended",
    ),
}
# Which rows a target's id is looked up in, and the field the dialog names it by.
NAMED_BY = {
    "user": ("user_rows", "email"),
    "sessions_of": ("user_rows", "email"),
    "invitation": ("invitation_rows", "email"),
    "key": ("key_rows", "name"),
    "session": ("session_rows", "label"),
}


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    name: str
    role: str
    mfa_enabled: bool
    active: bool
    last_login: str  # in the tenant's zone and the page's language, like every time below


@dataclass(frozen=True)
class InvitationRow:
    id: str
    email: str
    role: str  # in words
    status: str  # pending / accepted / revoked / expired
    status_label: str
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
class SessionRow:
    """One of the signed-in person's live sessions."""

    id: str
    browser: str  # "Firefox · Linux", or "unknown browser" in words
    ip: str
    label: str  # browser and address, as the confirmation names it
    started: str
    last_seen: str
    current: bool  # the session this page runs in: it ends by signing out, not from the list


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
    webhook_retention_days: str = ""
    body_retention_days: str = ""

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
            webhook_retention_days=str(view.webhook_retention_days),
            body_retention_days=str(view.body_retention_days),
            **{k: str(view.warmup.get(k, "")) for k in WARMUP},
        )

    def changes(self) -> dict:
        """What `tenant_settings.update_settings` takes; raises `NotANumber` naming the first number field that is
        not one."""
        parsed = numbers({name: getattr(self, name) for name in NUMBER_FIELDS}, NUMBER_FIELDS)
        changes = {
            "timezone": self.timezone,
            "locale": self.locale,
            "quiet_hours_enabled": self.quiet_hours_enabled,
            "humanize": self.humanize,
            "allow_bot_to_bot": self.allow_bot_to_bot,
            "warmup": {k: parsed.pop(k) for k in WARMUP},
            **parsed,
        }
        if self.quiet_hours_enabled:
            changes |= {"quiet_start": self.quiet_start, "quiet_end": self.quiet_end}
        return changes


class SettingsState(ConfirmDelete, AuthState):
    tab: str = "security"
    first_run: bool = False
    first_password_chosen: bool = False  # the first-run admin chose a password: show the next step
    password_error: str = ""
    error_field: str = ""  # the input the last error is about, marked on screen
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
    # the person's own sessions
    session_rows: list[SessionRow] = []
    # tenant defaults
    tenant: TenantDefaults = TenantDefaults()
    tenant_error: str = ""
    retention_saved: dict[str, int] = {}  # the periods as stored: a shorter one typed is confirmed first

    @rx.event
    def on_load(self):
        params = self.router.url.query_parameters
        wanted = params.get("tab", self.tab or "security")
        self.tab = wanted if wanted in TABS else "security"
        self.first_run = params.get("first") == "1"
        self.first_password_chosen = False
        self.mfa_qr = self.mfa_secret = self.mfa_error = self.password_error = self.error_field = ""
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
                auth_sessions.list_my_sessions(actor),
            )

        loaded = self._call(read)
        if not loaded.ok:
            return loaded.feedback
        tenant, self.recovery_left, user_views, invitations, keys, sessions = loaded.value
        self.tenant = TenantDefaults.of(tenant)
        self.retention_saved = {key: getattr(tenant, key) for key in RETENTION_IMPACT}
        self.tenant_tz = tenant.timezone  # a saved zone applies to every time on screen at once
        tr, stamp = self.tr, self.stamp
        self.user_rows = [
            UserRow(
                id=str(u.id),
                email=u.email,
                name=u.display_name or "",
                role=u.role,
                mfa_enabled=u.mfa_enabled,
                active=u.is_active,
                last_login=stamp(u.last_login_at),
            )
            for u in user_views
        ]
        self.invitation_rows = [
            InvitationRow(
                id=str(i.id),
                email=i.email,
                role=formats.label(tr, "role", i.role),
                status=i.status,
                status_label=formats.label(tr, "invitation_status", i.status),
                expires=stamp(i.expires_at),
            )
            for i in invitations
        ]
        self.key_rows = [
            ApiKeyRow(
                id=str(k.id),
                name=k.name,
                display=k.display,
                created=stamp(k.created_at),
                last_used=stamp(k.last_used_at),
                revoked=k.revoked_at is not None,
            )
            for k in keys
        ]
        self.session_rows = [self._session_row(v) for v in sessions]
        return None

    def _session_row(self, view: auth_sessions.SessionView) -> SessionRow:
        browser = browser_name(view.user_agent) or self.tr["settings.session_unknown_browser"]
        return SessionRow(
            id=str(view.id),
            browser=browser,
            ip=view.ip or formats.DASH,
            label=f"{browser} ({view.ip})" if view.ip else browser,
            started=self.stamp(view.created_at),
            last_seen=self.stamp(view.last_seen_at),
            current=view.current,
        )

    @rx.event
    def set_tab(self, tab: str):
        if tab in TABS:  # a tab the page has, nothing else
            self.tab = tab

    def _name_the_field(self, outcome: Outcome, error_to: str) -> None:
        """After a refused form: the message starts with the field's name, and that input is marked."""
        self.error_field, message = named_error(self.tr, FIELD_LABELS, outcome.error_field, getattr(self, error_to))
        setattr(self, error_to, message)

    # -- security ------------------------------------------------------------------------------------
    @rx.event
    def change_password(self, form: dict):
        """The form keeps what was typed when it is refused (nothing to type again); it empties once changed."""
        self.error_field = ""
        if form.get("new_password") != form.get("confirm"):
            self.error_field, self.password_error = named_error(
                self.tr, FIELD_LABELS, "confirm", self.tr["invite.mismatch"]
            )
            return None
        changed = self._call(
            auth.change_password,
            form.get("current_password", ""),
            form.get("new_password", ""),
            error_to="password_error",
            success="settings.password_changed",
        )
        if not changed.ok:
            self._name_the_field(changed, "password_error")
            return changed.feedback
        self.first_password_chosen, self.first_run = self.first_run, False
        return [changed.feedback, *[rx.set_value(input_id, "") for input_id in PASSWORD_INPUTS]]

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
        """A shorter retention period deletes data within the hour: asked first (the `retention:` confirmation)."""
        self.error_field = ""
        try:
            changes = self.tenant.changes()
        except NotANumber as exc:
            self.error_field, self.tenant_error = named_error(self.tr, FIELD_LABELS, exc.field, self.tr[NOT_A_NUMBER])
            return None
        shortened = tuple(
            Dependent(RETENTION_IMPACT[key], str(changes[key]), Effect.deleted)
            for key in RETENTION_IMPACT
            if changes[key] < self.retention_saved.get(key, 0)
        )
        if shortened:
            self.confirm = confirm_view(self.tr, Impact("", shortened), "retention:", verb="shorten_retention")
            return None
        return self._save_tenant(changes)

    def _save_tenant(self, changes: dict):
        saved = self._call(
            tenant_settings.update_settings, error_to="tenant_error", success="instances.saved", **changes
        )
        if not saved.ok:
            self._name_the_field(saved, "tenant_error")
            return saved.feedback
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
            self._name_the_field(invited, "invite_error")
            return invited.feedback
        base = self.router.url.origin or get_settings().public_url
        self.invite_link = base.rstrip("/") + invited.value.accept_path
        self._reload()
        return [invited.feedback, rx.set_value("invite-email", "")]  # a refused address stays, to be corrected

    def _change_and_reload(self, fn, *args, success: str):
        changed = self._call(fn, *args, success=success)
        self._reload()
        return changed.feedback

    @rx.event
    def change_role(self, user_id: str, role: str):
        return self._change_and_reload(users.change_role, user_id, role, success="settings.role_changed")

    # -- API keys ------------------------------------------------------------------------------------
    @rx.event
    def create_key(self, form: dict):
        self.new_key = ""
        created = self._call(
            api_keys.create_key, form.get("name", ""), error_to="key_error", success="settings.key_created"
        )
        if not created.ok:
            self._name_the_field(created, "key_error")
            return created.feedback
        _, self.new_key = created.value
        self._reload()
        return [created.feedback, rx.set_value("key-name", "")]

    # -- deactivating a user, revoking an invitation or a key, ending sessions: asked first (ConfirmDelete) -------
    def _named(self, kind: str, row_id: str) -> str:
        """What the dialog calls the thing ended; for "sign out everywhere else", how many sessions end."""
        if kind == "other_sessions":
            return str(sum(not r.current for r in self.session_rows))
        rows, field = NAMED_BY[kind]
        return next((getattr(r, field) for r in getattr(self, rows) if r.id == row_id), "")

    def _impact(self, target_id: str) -> Outcome[Impact]:
        kind, _, row_id = target_id.partition(":")
        name, ending = self._named(kind, row_id), ENDINGS[kind]
        return Outcome(ok=True, value=Impact(name, (Dependent(ending.ends, name, ending.effect),)))

    def _view(self, impact: Impact, target_id: str):
        return confirm_view(self.tr, impact, target_id, verb=ENDINGS[target_id.partition(":")[0]].verb)

    def _delete(self, target_id: str):
        kind, _, row_id = target_id.partition(":")
        if kind == "retention":  # the confirmed save of shorter retention periods (save_tenant)
            return self._save_tenant(self.tenant.changes())
        ending = ENDINGS[kind]
        return self._change_and_reload(ending.service, *([row_id] if ending.takes_id else []), success=ending.toast)

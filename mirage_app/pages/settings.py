"""`/settings`: security (password, MFA), users and invitations, API keys, tenant defaults."""

from __future__ import annotations

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.base.permissions import Action, can
from mirage_app.components.auth_card import field_error
from mirage_app.components.layout import app_page, page_layout
from mirage_app.components.notice import notice
from mirage_app.core.config import get_settings
from mirage_app.services import api_keys, auth, mfa, tenant_settings, users
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t

ROLES = ["admin", "operator", "viewer"]


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
    user_rows: list[dict[str, str]] = []
    invitation_rows: list[dict[str, str]] = []
    invite_error: str = ""
    invite_link: str = ""
    # API keys
    key_rows: list[dict[str, str]] = []
    key_error: str = ""
    new_key: str = ""
    # tenant defaults
    tenant: dict[str, str] = {}
    tenant_error: str = ""

    @rx.event
    def on_load(self):
        params = self.router.url.query_parameters
        self.tab = params.get("tab", self.tab or "security")
        self.first_run = params.get("first") == "1"
        self.mfa_qr = self.mfa_secret = self.mfa_error = self.password_error = ""
        self.invite_link = self.new_key = self.invite_error = self.key_error = ""
        self.recovery_codes = []
        self._reload()

    def _reload(self) -> None:
        actor = self._actor()
        if actor is None:
            return
        view = tenant_settings.get_settings(actor)
        warm = view.warmup
        self.tenant = {
            "timezone": view.timezone,
            "locale": view.locale,
            "min_delay_s": str(view.min_delay_s),
            "max_delay_s": str(view.max_delay_s),
            "hourly_burst_limit": str(view.hourly_burst_limit),
            "quiet_start": view.quiet_start,
            "quiet_end": view.quiet_end,
            "quiet_hours_enabled": "1" if view.quiet_hours_enabled else "0",
            "humanize": "1" if view.humanize else "0",
            "allow_bot_to_bot": "1" if view.allow_bot_to_bot else "0",
            "day1": str(warm.get("day1", "")),
            "growth": str(warm.get("growth", "")),
            "first_week_cap": str(warm.get("first_week_cap", "")),
            "max_daily": str(warm.get("max_daily", "")),
            "settle_hours_after_pairing": str(warm.get("settle_hours_after_pairing", "")),
        }
        self.recovery_left = mfa.recovery_codes_left(actor) if actor.mfa_enabled else 0
        if can(actor, Action.users_read):
            self.user_rows = [
                {
                    "id": str(u.id),
                    "email": u.email,
                    "name": u.display_name or "",
                    "role": u.role,
                    "mfa": "✓" if u.mfa_enabled else "—",
                    "active": "1" if u.is_active else "0",
                    "last_login": u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "—",
                }
                for u in users.list_users(actor)
            ]
            self.invitation_rows = [
                {
                    "id": str(i.id),
                    "email": i.email,
                    "role": i.role,
                    "status": i.status,
                    "expires": i.expires_at.strftime("%Y-%m-%d %H:%M"),
                }
                for i in users.list_invitations(actor)
            ]
        if can(actor, Action.api_keys_read):
            self.key_rows = [
                {
                    "id": str(k.id),
                    "name": k.name,
                    "display": k.display,
                    "created": k.created_at.strftime("%Y-%m-%d %H:%M"),
                    "last_used": k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "—",
                    "revoked": "1" if k.revoked_at else "0",
                }
                for k in api_keys.list_keys(actor)
            ]

    @rx.event
    def set_tab(self, tab: str):
        self.tab = tab

    # -- security ------------------------------------------------------------------------------------
    @rx.event
    def change_password(self, form: dict):
        self.password_error = ""
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        if form.get("new_password") != form.get("confirm"):
            self.password_error = self.tr["invite.mismatch"]
            return None
        try:
            auth.change_password(actor, form.get("current_password", ""), form.get("new_password", ""))
        except ServiceError as exc:
            self.password_error = self._error(exc)
            return None
        self.first_run = False
        return rx.toast.success(self.tr["settings.password_changed"], id="password-changed")

    @rx.event
    def start_mfa(self):
        result, feedback = self._call(mfa.begin_enrolment)
        if result is not None:
            self.mfa_qr, self.mfa_secret, self.mfa_error = result.qr_svg_data_uri, result.secret, ""
        return feedback

    @rx.event
    def confirm_mfa(self, form: dict):
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        try:
            self.recovery_codes = mfa.confirm_enrolment(actor, form.get("code", ""))
        except ServiceError as exc:
            self.mfa_error = self._error(exc)
            return None
        self.mfa_qr = self.mfa_secret = self.mfa_error = ""
        self.mfa_enabled = True
        self._reload()
        return rx.toast.success(self.tr["settings.mfa_on"], id="mfa-on")

    @rx.event
    def disable_mfa(self, form: dict):
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        try:
            mfa.disable(actor, form.get("code", ""))
        except ServiceError as exc:
            self.mfa_error = self._error(exc)
            return None
        self.mfa_enabled, self.recovery_codes, self.mfa_error = False, [], ""
        return rx.toast.info(self.tr["settings.mfa_off"])

    @rx.event
    def regenerate_codes(self, form: dict):
        codes, feedback = self._call(mfa.regenerate_recovery_codes, form.get("code", ""))
        if codes is not None:
            self.recovery_codes = codes
            self._reload()
        return feedback

    @rx.event
    def save_language(self, locale: str):
        _, feedback = self._call(users.set_locale, locale, success="settings.language_saved")
        self.set_locale(locale)
        return feedback

    # -- tenant defaults -----------------------------------------------------------------------------
    @rx.event
    def set_tenant_field(self, name: str, value: str):
        self.tenant = {**self.tenant, name: value}

    @rx.event
    def save_tenant(self):
        self.tenant_error = ""
        f = self.tenant
        try:
            changes = {
                "timezone": f["timezone"],
                "locale": f["locale"],
                "min_delay_s": int(f["min_delay_s"]),
                "max_delay_s": int(f["max_delay_s"]),
                "hourly_burst_limit": int(f["hourly_burst_limit"]),
                "quiet_hours_enabled": f["quiet_hours_enabled"] == "1",
                "humanize": f["humanize"] == "1",
                "allow_bot_to_bot": f["allow_bot_to_bot"] == "1",
                "warmup": {
                    "day1": int(f["day1"]),
                    "growth": float(f["growth"]),
                    "first_week_cap": int(f["first_week_cap"]),
                    "max_daily": int(f["max_daily"]),
                    "settle_hours_after_pairing": float(f["settle_hours_after_pairing"]),
                },
            }
            if f["quiet_hours_enabled"] == "1":
                changes |= {"quiet_start": f["quiet_start"], "quiet_end": f["quiet_end"]}
        except ValueError:
            self.tenant_error = self.tr["conversations.numbers_only"]
            return None
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        try:
            tenant_settings.update_settings(actor, **changes)
        except ServiceError as exc:
            self.tenant_error = self._error(exc)
            return None
        self._reload()
        return rx.toast.success(self.tr["instances.saved"])

    # -- users ---------------------------------------------------------------------------------------
    @rx.event
    def invite(self, form: dict):
        self.invite_error, self.invite_link = "", ""
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        try:
            result = users.invite(actor, form.get("email", ""), form.get("role", "operator"))
        except ServiceError as exc:
            self.invite_error = self._error(exc)
            return None
        base = self.router.url.origin or get_settings().public_url
        self.invite_link = base.rstrip("/") + result.accept_path
        self._reload()
        return rx.toast.success(self.tr["settings.invited"], id="invited")

    @rx.event
    def revoke_invitation(self, invitation_id: str):
        _, feedback = self._call(users.revoke_invitation, invitation_id, success="settings.invitation_revoked")
        self._reload()
        return feedback

    @rx.event
    def change_role(self, user_id: str, role: str):
        _, feedback = self._call(users.change_role, user_id, role, success="settings.role_changed")
        self._reload()
        return feedback

    @rx.event
    def deactivate(self, user_id: str):
        _, feedback = self._call(users.deactivate_user, user_id, success="settings.user_deactivated")
        self._reload()
        return feedback

    # -- API keys ------------------------------------------------------------------------------------
    @rx.event
    def create_key(self, form: dict):
        self.key_error, self.new_key = "", ""
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        try:
            _, raw = api_keys.create_key(actor, form.get("name", ""))
        except ServiceError as exc:
            self.key_error = self._error(exc)
            return None
        self.new_key = raw
        self._reload()
        return rx.toast.success(self.tr["settings.key_created"], id="key-created")

    @rx.event
    def revoke_key(self, key_id: str):
        _, feedback = self._call(api_keys.revoke_key, key_id, success="settings.key_revoked")
        self._reload()
        return feedback


# -- views ---------------------------------------------------------------------------------------------------
def _section(title_key: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(t(title_key), size="4"), *children, spacing="3", width="100%"), **props)


def _password_card() -> rx.Component:
    return _section(
        "settings.password",
        rx.cond(SettingsState.first_run, rx.callout(t("settings.first_run"), icon="key-round", color_scheme="amber")),
        rx.form(
            rx.vstack(
                rx.input(
                    name="current_password",
                    type="password",
                    placeholder=t("settings.current_password"),
                    id="current-password",
                    width="100%",
                    auto_complete="current-password",
                ),
                rx.input(
                    name="new_password",
                    type="password",
                    placeholder=t("settings.new_password"),
                    id="new-password",
                    width="100%",
                    auto_complete="new-password",
                ),
                rx.input(
                    name="confirm",
                    type="password",
                    placeholder=t("invite.confirm"),
                    id="confirm-password",
                    width="100%",
                    auto_complete="new-password",
                ),
                field_error(SettingsState.password_error, "password-error"),
                rx.button(t("settings.change_password"), type="submit", id="change-password"),
                spacing="2",
                width="100%",
                max_width="420px",
            ),
            on_submit=SettingsState.change_password,
            reset_on_submit=True,
        ),
    )


def _mfa_card() -> rx.Component:
    enrol = rx.cond(
        SettingsState.mfa_qr != "",
        rx.vstack(
            rx.text(t("settings.mfa_scan"), size="2"),
            rx.hstack(
                rx.image(src=SettingsState.mfa_qr, width="180px", height="180px", class_name="qr", id="mfa-qr"),
                rx.vstack(
                    rx.text(t("settings.mfa_manual"), size="1", color_scheme="gray"),
                    rx.code(SettingsState.mfa_secret, id="mfa-secret", size="2"),
                    rx.form(
                        rx.hstack(
                            rx.input(name="code", placeholder="123456", id="mfa-code", auto_complete="one-time-code"),
                            rx.button(t("login.verify"), type="submit", id="mfa-confirm"),
                        ),
                        on_submit=SettingsState.confirm_mfa,
                    ),
                    field_error(SettingsState.mfa_error, "mfa-error"),
                    spacing="2",
                ),
                spacing="5",
                align="center",
                wrap="wrap",
            ),
        ),
        rx.button(
            rx.icon("shield-plus", size=16), t("settings.mfa_enable"), on_click=SettingsState.start_mfa, id="mfa-start"
        ),
    )
    manage = rx.vstack(
        rx.hstack(
            rx.badge(t("settings.mfa_active"), color_scheme="grass", id="mfa-status"),
            rx.text(t("settings.recovery_left"), ": ", SettingsState.recovery_left, size="2"),
        ),
        rx.form(
            rx.hstack(
                rx.input(name="code", placeholder=t("login.code"), id="mfa-manage-code"),
                rx.button(t("settings.regenerate_codes"), type="submit", variant="soft"),
            ),
            on_submit=SettingsState.regenerate_codes,
        ),
        rx.form(
            rx.hstack(
                rx.input(name="code", placeholder=t("login.code"), id="mfa-disable-code"),
                rx.button(t("settings.mfa_disable"), type="submit", color_scheme="red", variant="soft"),
            ),
            on_submit=SettingsState.disable_mfa,
        ),
        field_error(SettingsState.mfa_error, "mfa-error"),
        spacing="2",
    )
    codes = rx.cond(
        SettingsState.recovery_codes.length() > 0,
        notice(
            "key",
            rx.vstack(
                rx.text(t("settings.recovery_once"), weight="medium"),
                rx.grid(
                    rx.foreach(SettingsState.recovery_codes, lambda c: rx.code(c, class_name="recovery-code")),
                    columns="2",
                    spacing="2",
                    id="recovery-codes",
                ),
            ),
            color="amber",
        ),
    )
    return _section(
        "settings.mfa",
        rx.text(t("settings.mfa_hint"), size="2", color_scheme="gray"),
        rx.cond(AuthState.mfa_enabled, manage, enrol),
        codes,
    )


def _role_select(row: dict) -> rx.Component:
    return rx.select(
        ROLES,
        value=row["role"],
        on_change=lambda role: SettingsState.change_role(row["id"], role),
        size="1",
        disabled=row["active"] == "0",
    )


def _users_card() -> rx.Component:
    invite_form = rx.form(
        rx.hstack(
            rx.input(
                name="email", input_mode="email", placeholder="pessoa@empresa.com", id="invite-email", width="260px"
            ),
            rx.select(ROLES, name="role", default_value="operator", id="invite-role"),
            rx.button(rx.icon("send", size=16), t("settings.invite"), type="submit", id="invite-send"),
            wrap="wrap",
        ),
        on_submit=SettingsState.invite,
        reset_on_submit=True,
    )
    link = rx.cond(
        SettingsState.invite_link != "",
        notice(
            "link", rx.vstack(rx.text(t("settings.invite_link")), rx.code(SettingsState.invite_link, id="invite-link"))
        ),
    )
    users_table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(t(k))
                    for k in ("settings.email", "settings.role", "settings.mfa_short", "settings.last_login", "")
                ]
            )
        ),
        rx.table.body(
            rx.foreach(
                SettingsState.user_rows,
                lambda u: rx.table.row(
                    rx.table.cell(
                        rx.vstack(rx.text(u["email"]), rx.text(u["name"], size="1", color_scheme="gray"), spacing="0")
                    ),
                    rx.table.cell(_role_select(u)),
                    rx.table.cell(u["mfa"]),
                    rx.table.cell(u["last_login"]),
                    rx.table.cell(
                        rx.cond(
                            u["active"] == "1",
                            rx.button(
                                t("settings.deactivate"),
                                size="1",
                                variant="soft",
                                color_scheme="red",
                                on_click=SettingsState.deactivate(u["id"]),
                            ),
                            rx.badge(t("settings.inactive"), color_scheme="gray"),
                        )
                    ),
                ),
            )
        ),
        width="100%",
        id="users-table",
    )
    invitations = rx.cond(
        SettingsState.invitation_rows.length() > 0,
        rx.vstack(
            rx.text(t("settings.invitations"), weight="medium"),
            rx.foreach(
                SettingsState.invitation_rows,
                lambda i: rx.hstack(
                    rx.text(i["email"]),
                    rx.badge(i["role"]),
                    rx.badge(i["status"], variant="outline"),
                    rx.text(i["expires"], size="1", color_scheme="gray"),
                    rx.spacer(),
                    rx.cond(
                        i["status"] == "pending",
                        rx.button(
                            t("settings.revoke"),
                            size="1",
                            variant="ghost",
                            color_scheme="red",
                            on_click=SettingsState.revoke_invitation(i["id"]),
                        ),
                    ),
                    width="100%",
                    align="center",
                ),
            ),
            width="100%",
        ),
    )
    return _section(
        "settings.users",
        invite_form,
        field_error(SettingsState.invite_error, "invite-error"),
        link,
        users_table,
        invitations,
    )


def _keys_card() -> rx.Component:
    return _section(
        "settings.api_keys",
        rx.text(t("settings.api_keys_hint"), size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.input(name="name", placeholder=t("settings.key_name"), id="key-name"),
                rx.button(rx.icon("key-round", size=16), t("settings.create_key"), type="submit", id="key-create"),
            ),
            on_submit=SettingsState.create_key,
            reset_on_submit=True,
        ),
        field_error(SettingsState.key_error, "key-error"),
        rx.cond(
            SettingsState.new_key != "",
            notice(
                "key",
                rx.vstack(rx.text(t("settings.key_once")), rx.code(SettingsState.new_key, id="new-api-key")),
                color="amber",
            ),
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(t(k))
                        for k in ("settings.key_name", "settings.key", "settings.created", "settings.last_used", "")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    SettingsState.key_rows,
                    lambda k: rx.table.row(
                        rx.table.cell(k["name"]),
                        rx.table.cell(rx.code(k["display"])),
                        rx.table.cell(k["created"]),
                        rx.table.cell(k["last_used"]),
                        rx.table.cell(
                            rx.cond(
                                k["revoked"] == "0",
                                rx.button(
                                    t("settings.revoke"),
                                    size="1",
                                    variant="soft",
                                    color_scheme="red",
                                    on_click=SettingsState.revoke_key(k["id"]),
                                ),
                                rx.badge(t("settings.revoked"), color_scheme="gray"),
                            )
                        ),
                    ),
                )
            ),
            width="100%",
            id="keys-table",
        ),
    )


def _tenant_input(key: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(f"tenant.{key}"), size="2", weight="medium"),
        rx.input(
            value=SettingsState.tenant[key],
            on_change=lambda v: SettingsState.set_tenant_field(key, v),
            id=f"tenant-{key}",
            **props,
        ),
        spacing="1",
    )


def _tenant_switch(key: str) -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=SettingsState.tenant[key] == "1",
            id=f"tenant-{key}",
            on_change=lambda v: SettingsState.set_tenant_field(key, rx.cond(v, "1", "0")),
        ),
        rx.text(t(f"tenant.{key}"), size="2"),
        align="center",
    )


def _tenant_card() -> rx.Component:
    return _section(
        "settings.tab.tenant",
        rx.text(t("settings.tenant_hint"), size="2", color_scheme="gray"),
        rx.grid(_tenant_input("timezone"), _tenant_input("locale"), columns="2", spacing="4", width="100%"),
        rx.heading(t("tenant.pacing"), size="3"),
        rx.grid(
            _tenant_input("min_delay_s", type="number"),
            _tenant_input("max_delay_s", type="number"),
            _tenant_input("hourly_burst_limit", type="number"),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
        ),
        rx.hstack(
            _tenant_switch("humanize"),
            _tenant_switch("allow_bot_to_bot"),
            _tenant_switch("quiet_hours_enabled"),
            spacing="6",
            wrap="wrap",
        ),
        rx.cond(
            SettingsState.tenant["quiet_hours_enabled"] == "1",
            rx.grid(
                _tenant_input("quiet_start", type="time"),
                _tenant_input("quiet_end", type="time"),
                columns="2",
                spacing="4",
                width="100%",
            ),
        ),
        rx.heading(t("tenant.warmup"), size="3"),
        rx.text(t("tenant.warmup_hint"), size="1", color_scheme="gray"),
        rx.grid(
            _tenant_input("day1", type="number"),
            _tenant_input("growth", type="number", step="0.1"),
            _tenant_input("first_week_cap", type="number"),
            _tenant_input("max_daily", type="number"),
            _tenant_input("settle_hours_after_pairing", type="number"),
            columns=rx.breakpoints(initial="2", sm="5"),
            spacing="4",
            width="100%",
        ),
        rx.callout(t("tenant.safety_hint"), icon="shield", color_scheme="gray", size="1"),
        field_error(SettingsState.tenant_error, "tenant-error"),
        rx.button(t("common.save"), on_click=SettingsState.save_tenant, id="tenant-save", disabled=~AuthState.is_admin),
    )


def _admin_only(component: rx.Component) -> rx.Component:
    return rx.cond(
        AuthState.is_admin,
        rx.cond(
            AuthState.mfa_enabled,
            component,
            rx.callout(t("permission.mfa_required"), icon="shield-alert", color_scheme="amber"),
        ),
        rx.callout(t("permission.role"), icon="lock", color_scheme="gray"),
    )


@app_page("/settings", "Settings", on_load=SettingsState.on_load)
def settings_page() -> rx.Component:
    return page_layout(
        "page.settings.title",
        "page.settings.subtitle",
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger(t("settings.tab.security"), value="security", id="tab-security"),
                rx.tabs.trigger(t("settings.tab.users"), value="users", id="tab-users"),
                rx.tabs.trigger(t("settings.tab.api_keys"), value="api_keys", id="tab-api-keys"),
                rx.tabs.trigger(t("settings.tab.tenant"), value="tenant", id="tab-tenant"),
            ),
            rx.tabs.content(rx.vstack(_password_card(), _mfa_card(), spacing="4", padding_top="1em"), value="security"),
            rx.tabs.content(rx.box(_admin_only(_users_card()), padding_top="1em"), value="users"),
            rx.tabs.content(rx.box(_admin_only(_keys_card()), padding_top="1em"), value="api_keys"),
            rx.tabs.content(rx.box(_tenant_card(), padding_top="1em"), value="tenant"),
            value=SettingsState.tab,
            on_change=SettingsState.set_tab,
        ),
    )

"""`/invite/[token]`: an invited person sets a password and a language, then lands signed in."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import auth_card, field_error
from mirage_app.components.notice import notice
from mirage_app.i18n import LOCALE_NAMES, formats, normalise_locale
from mirage_app.logic.form_fields import named_error
from mirage_app.services import users
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t

LABELS = {"password": "login.password", "display_name": "invite.name", "confirm": "invite.confirm"}


class InviteState(AuthState):
    valid: bool = False
    error: str = ""
    invite_email: str = ""
    invite_role: str = ""
    tenant_name: str = ""
    chosen_locale: str = "pt-BR"

    def _token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event
    def on_load(self):
        described = self._call(users.describe_invitation, self._token(), anonymous=True, error_to="error")
        self.valid = described.ok
        if described.ok:
            preview = described.value
            self.invite_email, self.invite_role, self.tenant_name = preview.email, preview.role, preview.tenant_name
            self.chosen_locale = normalise_locale(self.locale or preview.locale)

    @rx.var
    def invite_role_label(self) -> str:
        return formats.label(self.tr, "role", self.invite_role)

    @rx.event
    def pick_locale(self, locale: str):
        self.chosen_locale = normalise_locale(locale)
        self.locale = self.chosen_locale

    @rx.event
    def accept(self, form: dict):
        if form.get("password") != form.get("confirm"):
            _, self.error = named_error(self.tr, LABELS, "confirm", self.tr["invite.mismatch"])
            return None
        accepted = self._call(
            users.accept_invitation,
            self._token(),
            form.get("password", ""),
            self.chosen_locale,
            form.get("display_name") or None,
            ip=self.router.session.client_ip,
            user_agent=self.router.headers.user_agent,
            anonymous=True,
            error_to="error",
        )
        if not accepted.ok:
            _, self.error = named_error(self.tr, LABELS, accepted.error_field, self.error)
            return accepted.feedback
        self.locale = self.chosen_locale
        return [rx.toast.success(self.tr.get("invite.welcome", "")), self._enter(accepted.value.session_token, "/")]


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            notice(
                "mail-check",
                rx.text(
                    t("invite.for"),
                    " ",
                    rx.text.strong(InviteState.invite_email),
                    " · ",
                    InviteState.tenant_name,
                    " · ",
                    InviteState.invite_role_label,
                ),
                width="100%",
            ),
            rx.text(t("invite.name"), size="2", weight="medium"),
            rx.input(name="display_name", id="invite-name", width="100%", size="3"),
            rx.text(t("login.password"), size="2", weight="medium"),
            rx.input(
                name="password",
                type="password",
                id="invite-password",
                width="100%",
                size="3",
                auto_complete="new-password",
                required=True,
            ),
            rx.text(t("invite.password_hint"), size="1", color_scheme="gray"),
            rx.text(t("invite.confirm"), size="2", weight="medium"),
            rx.input(
                name="confirm",
                type="password",
                id="invite-confirm",
                width="100%",
                size="3",
                auto_complete="new-password",
                required=True,
            ),
            rx.text(t("app.language"), size="2", weight="medium"),
            rx.radio_group(
                list(LOCALE_NAMES.values()),
                value=rx.cond(InviteState.chosen_locale == "en", "English", "Português (Brasil)"),
                on_change=lambda v: InviteState.pick_locale(rx.cond(v == "English", "en", "pt-BR")),
                direction="row",
                class_name="invite-locale",
            ),
            field_error(InviteState.error, "invite-error"),
            rx.button(t("invite.accept"), type="submit", width="100%", size="3", id="invite-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=InviteState.accept,
        reset_on_submit=False,
        width="100%",
    )


@rx.page(route="/invite/[token]", title="Mirage · Convite", on_load=InviteState.on_load)
def invite_page() -> rx.Component:
    return auth_card(
        t("invite.title"),
        t("invite.subtitle"),
        rx.cond(InviteState.valid, _form(), field_error(InviteState.error, "invite-error")),
    )

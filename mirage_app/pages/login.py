"""`/login`: password, then (when MFA is on) a TOTP or recovery code."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import auth_card, field_error
from mirage_app.services import auth
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t


class LoginState(AuthState):
    step: str = "password"  # or "mfa"
    error: str = ""
    _pending_token: str = ""  # backend-only: never sent to the page

    def _destination(self, password_change: bool = False) -> str:
        if password_change:
            return "/settings?tab=security&first=1"
        target = self.router.url.query_parameters.get("next", "/")
        return target if target.startswith("/") and not target.startswith("//") else "/"

    @rx.event
    def on_load(self):
        if self.step != "mfa":  # a password accepted a moment ago may be waiting for its code
            self.error = ""
        if self._actor() is not None:
            return rx.redirect(self._destination())
        return None

    def _sign_in(self, fn, *args):
        """Run an `auth` sign-in step for this browser; errors show under the form."""
        return self._call(
            fn,
            *args,
            ip=self.router.session.client_ip,
            user_agent=self.router.headers.user_agent,
            anonymous=True,
            error_to="error",
        )

    @rx.event
    def submit_password(self, form: dict):
        signed_in = self._sign_in(auth.login, form.get("email", ""), form.get("password", ""))
        if not signed_in.ok:
            return signed_in.feedback
        result = signed_in.value
        if result.mfa_required:
            self.step, self._pending_token = "mfa", result.pending_token or ""
            return None
        return self._enter(result.session_token or "", self._destination(result.password_change_required))

    @rx.event
    def submit_code(self, form: dict):
        signed_in = self._sign_in(auth.complete_mfa, self._pending_token, form.get("code", ""))
        if not signed_in.ok:
            if signed_in.error_code == "mfa.pending_expired":
                self.step = "password"
            return signed_in.feedback
        result = signed_in.value
        self.step, self._pending_token = "password", ""
        return self._enter(result.session_token or "", self._destination(result.password_change_required))

    @rx.event
    def back(self):
        self.step, self.error, self._pending_token = "password", "", ""


def _password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(t("login.email"), size="2", weight="medium"),
            rx.input(
                name="email",
                type="email",
                placeholder="voce@empresa.com",
                id="login-email",
                width="100%",
                auto_complete="username",
                required=True,
                size="3",
            ),
            rx.text(t("login.password"), size="2", weight="medium"),
            rx.input(
                name="password",
                type="password",
                id="login-password",
                width="100%",
                auto_complete="current-password",
                required=True,
                size="3",
            ),
            field_error(LoginState.error, "login-error"),
            rx.button(t("login.submit"), type="submit", width="100%", size="3", id="login-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=LoginState.submit_password,
        reset_on_submit=False,
        width="100%",
    )


def _code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.callout(t("login.mfa_hint"), icon="shield-check", color_scheme="cyan", width="100%"),
            rx.text(t("login.code"), size="2", weight="medium"),
            rx.input(
                name="code",
                id="login-code",
                placeholder="123456",
                auto_complete="one-time-code",
                width="100%",
                size="3",
                required=True,
                auto_focus=True,
            ),
            field_error(LoginState.error, "login-error"),
            rx.button(t("login.verify"), type="submit", width="100%", size="3", id="login-verify"),
            rx.button(t("login.back"), type="button", variant="ghost", on_click=LoginState.back, width="100%"),
            spacing="3",
            width="100%",
        ),
        on_submit=LoginState.submit_code,
        width="100%",
    )


@rx.page(route="/login", title="Mirage · Entrar", on_load=LoginState.on_load)
def login_page() -> rx.Component:
    return auth_card(
        t("page.login.title"),
        t("login.subtitle"),
        rx.cond(LoginState.step == "mfa", _code_form(), _password_form()),
    )

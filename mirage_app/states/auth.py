"""Who is signed in, for every page, and the one way event handlers call services.

Authorization itself lives in the services (`permissions.authorize` runs inside every mutating service
function), so an event sent straight to the websocket is refused exactly like a click. This state only finds the
actor from the session cookie and turns service errors into translated toasts and inline messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.base.permissions import Action, Actor, allowed_actions
from mirage_app.core.db import tenant_session
from mirage_app.i18n import translate
from mirage_app.models import User
from mirage_app.services import auth
from mirage_app.states.ui import UiState

T = TypeVar("T")
SESSION_COOKIE = "mirage_session"


def error_text(exc: ServiceError, locale: str) -> str:
    """The translated message for a service error (English default when a catalog lacks the code)."""
    text = translate(exc.code, locale, **exc.params)
    return exc.message if text == exc.code else text


def _password_change_pending(actor: Actor) -> bool:
    """The first-run admin signed in with a generated password must choose their own before anything else."""
    with tenant_session(actor.tenant_id) as s:
        return s.get(User, actor.user_id).password_changed_at is None


class AuthState(UiState):
    session_token: str = rx.Cookie("", name=SESSION_COOKIE, max_age=7 * 24 * 3600, same_site="strict")
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    mfa_enabled: bool = False
    permissions: list[str] = []

    # -- helpers for every page state ----------------------------------------------------------------
    def _actor(self) -> Actor | None:
        return auth.resolve_session(self.session_token or None, ip=self.router.session.client_ip)

    def _call(self, fn: Callable[..., T], *args: Any, success: str | None = None, **kwargs: Any):
        """Run `fn(actor, *args)`; returns (result, feedback event). Errors become toasts, never tracebacks."""
        actor = self._actor()
        if actor is None:
            return None, rx.redirect("/login")
        try:
            result = fn(actor, *args, **kwargs)
        except ServiceError as exc:
            return None, rx.toast.error(error_text(exc, self.lang), id="service-error")
        feedback = rx.toast.success(translate(success, self.lang), id="service-ok") if success else None
        return result, feedback

    def _error(self, exc: ServiceError) -> str:
        return error_text(exc, self.lang)

    @rx.var
    def can_manage(self) -> bool:
        """Operators and admins change configuration; viewers only read."""
        return Action.numbers_manage.value in self.permissions

    @rx.var
    def role_label(self) -> str:
        return self.tr.get(f"role.{self.user_role}", self.user_role)

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == "admin"

    # -- events --------------------------------------------------------------------------------------
    @rx.event
    def check_login(self):
        """on_load of every protected page: unknown or expired session → the sign-in page."""
        actor = self._actor()
        if actor is None:
            self.user_email = ""
            path = self.router.url.path or "/"
            return rx.redirect(f"/login?next={quote(path)}" if path not in ("/", "") else "/login")
        if actor.user_id is not None and _password_change_pending(actor) and self.router.url.path != "/settings":
            return rx.redirect("/settings?tab=security&first=1")
        self.user_email = actor.label
        self.user_name = actor.display_name or actor.label.split("@")[0]
        self.user_role = str(actor.role.value if hasattr(actor.role, "value") else actor.role)
        self.mfa_enabled = actor.mfa_enabled
        self.permissions = allowed_actions(actor)
        return None

    @rx.event
    def logout(self):
        auth.logout(self.session_token or None, ip=self.router.session.client_ip)
        self.session_token = ""
        self.user_email = ""
        self.permissions = []
        return rx.redirect("/login")

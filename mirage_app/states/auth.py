"""Who is signed in, for every page, and the one way event handlers call services.

Authorization itself lives in the services (`permissions.authorize` runs inside every mutating service
function), so an event sent straight to the websocket is refused exactly like a click. This state only finds the
actor from the session cookie and turns service errors into translated toasts and inline messages.

The session token never reaches page JavaScript or the state sent to the browser: it travels in an HttpOnly
cookie, set over HTTP (api/session.py), and is read here from the cookie header of the websocket's handshake.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

import reflex as rx
from reflex.event import EventSpec

from mirage_app.base.errors import ServiceError
from mirage_app.base.permissions import Action, Actor, allowed_actions, is_platform_operator
from mirage_app.core.db import tenant_session
from mirage_app.core.web_security import backend_origin, cookie_value
from mirage_app.i18n import formats, translate
from mirage_app.models import Tenant, User
from mirage_app.services import auth, auth_sessions
from mirage_app.states.ui import UiState

T = TypeVar("T")


def error_text(exc: ServiceError, locale: str) -> str:
    """The translated message for a service error (English default when a catalog lacks the code)."""
    text = translate(exc.code, locale, **exc.params)
    return exc.message if text == exc.code else text


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What `AuthState._call` did: `value` is the service's result when `ok`, `error_code` the catalog key of the
    `ServiceError` when not, `error_field` the form field it names (if any); `feedback` (a toast, or the redirect to
    /login) is what the event handler returns."""

    ok: bool
    value: T | None = None
    error_code: str | None = None
    feedback: EventSpec | None = None
    error_field: str | None = None


def _signed_in_facts(actor: Actor) -> tuple[bool, str]:
    """Whether the first-run admin must still choose their own password (before anything else), and the tenant's
    time zone (every time on screen is in it)."""
    with tenant_session(actor.tenant_id) as s:
        zone = s.get(Tenant, actor.tenant_id).timezone
        user = s.get(User, actor.user_id) if actor.user_id is not None else None
        return user is not None and user.password_changed_at is None, zone


class AuthState(UiState):
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    mfa_enabled: bool = False
    permissions: list[str] = []
    tenant_tz: str = "UTC"  # the tenant's IANA zone: every time a page shows is in it
    platform_operator: bool = False  # shows the platform link; services.platform checks on every call

    # -- the one way page states call a service -----------------------------------------------------
    def _session_token(self) -> str | None:
        """The session cookie this browser's websocket was opened with."""
        return cookie_value(self.router.headers.cookie)

    def _actor(self) -> Actor | None:
        return auth.resolve_session(self._session_token(), ip=self.router.session.client_ip)

    def _backend_origin(self) -> str:
        return backend_origin(rx.config.get_config().api_url, self.router.url)

    def _navigate_to_backend(self, path: str, **query: str):
        """A full navigation (not the router's) to one of the backend's session routes."""
        url = f"{self._backend_origin()}{path}?{urlencode(query)}"
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    def _enter(self, session_token: str, destination: str):
        """Signed in: the browser trades a one-time code for the HttpOnly cookie, then opens `destination`."""
        origin = self.router.url.origin
        code = auth_sessions.hand_off(session_token, origin + destination)
        return self._navigate_to_backend("/api/session/claim", code=code, to=origin + "/login")

    def _call(
        self,
        fn: Callable[..., T],
        *args: Any,
        success: str | None = None,
        error_to: str | None = None,
        anonymous: bool = False,
        **kwargs: Any,
    ) -> Outcome[T]:
        """Run `fn(actor, *args, **kwargs)` as the signed-in person (`fn(*args, **kwargs)` when `anonymous`).

        A `ServiceError` is translated into the operator's language and shown in the form's inline callout when
        the caller names its state var (`error_to`, cleared before the call), otherwise as a toast; `success`
        is the catalog key of the toast shown when the call works. An expired session sends the visitor to
        /login. The handler returns `outcome.feedback`.
        """
        if error_to:
            setattr(self, error_to, "")
        actor = None if anonymous else self._actor()
        if actor is None and not anonymous:
            return Outcome(ok=False, feedback=self._to_login())
        try:
            value = fn(*args, **kwargs) if anonymous else fn(actor, *args, **kwargs)
        except ServiceError as exc:
            return self._failed(exc, error_to)
        return self._succeeded(value, success)

    async def _call_in_thread(
        self, fn: Callable[..., T], *args: Any, success: str | None = None, error_to: str | None = None, **kwargs: Any
    ) -> Outcome[T]:
        """`_call` for background events: the service runs in a worker thread without holding the state lock."""
        async with self:
            if error_to:
                setattr(self, error_to, "")
            actor = self._actor()
        if actor is None:
            async with self:
                return Outcome(ok=False, feedback=self._to_login())
        try:
            value = await asyncio.to_thread(fn, actor, *args, **kwargs)
        except ServiceError as exc:
            async with self:
                return self._failed(exc, error_to)
        async with self:
            return self._succeeded(value, success)

    def _to_login(self):
        """Back to the sign-in page, which returns here once signed in."""
        path = self.router.url.path or "/"
        return rx.redirect(f"/login?next={quote(path)}" if path not in ("/", "") else "/login")

    def _failed(self, exc: ServiceError, error_to: str | None) -> Outcome:
        message = error_text(exc, self.lang)
        if error_to:
            setattr(self, error_to, message)
            return Outcome(ok=False, error_code=exc.code, error_field=exc.field)
        toast = rx.toast.error(message, id="service-error")
        return Outcome(ok=False, error_code=exc.code, feedback=toast, error_field=exc.field)

    def _succeeded(self, value: T, success: str | None) -> Outcome[T]:
        feedback = rx.toast.success(translate(success, self.lang), id="service-ok") if success else None
        return Outcome(ok=True, value=value, feedback=feedback)

    @rx.var
    def can_manage(self) -> bool:
        """Operators and admins change configuration; viewers only read."""
        return Action.numbers_manage.value in self.permissions

    @rx.var
    def can_read_audit(self) -> bool:
        """The audit page and its nav link: the same permission the service checks."""
        return Action.audit_read.value in self.permissions

    @rx.var
    def role_label(self) -> str:
        return formats.label(self.tr, "role", self.user_role)

    @rx.var
    def zone_label(self) -> str:
        """ "America/Sao_Paulo (UTC−03:00)", shown in the header so that every time on screen says its zone."""
        return formats.zone_label(self.tenant_tz, datetime.now(UTC))

    def stamp(self, when: datetime | None, **kwargs: Any) -> str:
        """A moment in the tenant's zone and the page's language (see `i18n.formats.stamp`)."""
        return formats.stamp(when, self.tenant_tz, self.lang, **kwargs)

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == "admin"

    # -- events --------------------------------------------------------------------------------------
    @rx.event
    def check_login(self):
        """on_load of every protected page: unknown or expired session → the sign-in page."""
        actor = self._actor()
        if actor is None:
            self._forget()
            return self._to_login()
        password_pending = self._remember(actor)
        if password_pending and self.router.url.path != "/settings":
            return rx.redirect("/settings?tab=security&first=1")
        return None

    @rx.event
    def identify(self):
        """on_load of pages anyone may see (the 404): who is signed in, if anyone, without sending them away."""
        actor = self._actor()
        if actor is None:
            self._forget()
        else:
            self._remember(actor)

    def _remember(self, actor: Actor) -> bool:
        """Who is signed in and their tenant's zone; returns whether the first-run admin must still choose their
        own password."""
        password_pending, self.tenant_tz = _signed_in_facts(actor)
        self.user_email = actor.label
        self.user_name = actor.display_name or actor.label.split("@")[0]
        self.user_role = str(actor.role.value if hasattr(actor.role, "value") else actor.role)
        self.mfa_enabled = actor.mfa_enabled
        self.permissions = allowed_actions(actor)
        self.platform_operator = is_platform_operator(actor)
        return password_pending

    def _forget(self) -> None:
        """Signed out or expired: nothing of the last person stays on screen (name, role, zone, permissions)."""
        self.user_email = self.user_name = self.user_role = ""
        self.mfa_enabled = self.platform_operator = False
        self.permissions = []
        self.tenant_tz = "UTC"

    @rx.event
    def logout(self):
        auth.logout(self._session_token(), ip=self.router.session.client_ip)
        self._forget()
        return self._navigate_to_backend("/api/session/end", to=self.router.url.origin + "/login")

"""Errors raised by services and shown to people by both the Reflex UI and the API.

Each error carries an i18n key (`code`) plus `params`, so the UI can translate it; `message` is the English default
text, which the API returns as-is. `field` names the form field at fault, for inline validation.
"""

from __future__ import annotations

from typing import Any

# English defaults; the UI catalogues can carry the same keys for pt-BR.
MESSAGES: dict[str, str] = {
    "error.generic": "Something went wrong.",
    "auth.invalid_credentials": "Email or password is incorrect.",
    "auth.required": "Sign in to continue.",
    "auth.slow_down": "Too many failed attempts. Try again in {retry_after} seconds.",
    "auth.account_locked": "Too many failed attempts: this account is locked. Try again in {minutes} minutes.",
    "auth.ip_throttled": "Too many failed attempts from this address. Try again in {minutes} minutes.",
    "auth.session_expired": "Your session has expired. Sign in again.",
    "auth.wrong_password": "The current password is incorrect.",
    "validation.email_invalid": "Enter a valid email address.",
    "validation.password_too_short": "Use at least {min_length} characters.",
    "validation.password_too_long": "Use at most {max_length} characters.",
    "validation.password_common": "This password is too common. Choose another.",
    "validation.password_contains_email": "The password must not contain your email name.",
    "validation.password_reused": "The new password must differ from the current one.",
    "validation.locale_invalid": "Choose one of the available languages.",
    "validation.role_invalid": "Choose admin, operator or viewer.",
    "validation.name_required": "Enter a name.",
    "validation.name_too_long": "Use at most {max_length} characters.",
    "mfa.invalid_code": "The code is incorrect or has expired.",
    "mfa.already_enabled": "Two-factor authentication is already on.",
    "mfa.not_enabled": "Two-factor authentication is not on.",
    "mfa.not_started": "Start the set-up again: scan a new QR code.",
    "mfa.pending_expired": "The sign-in took too long. Enter your email and password again.",
    "permission.role": "Your role does not allow this action.",
    "permission.mfa_required": "Turn on two-factor authentication to do this.",
    "permission.user_required": "Only a signed-in person can do this, not an API key.",
    "users.not_found": "User not found.",
    "users.email_taken": "A user with this email already exists.",
    "users.last_admin": "The tenant must keep at least one active admin.",
    "invitations.not_found": "This invitation link is not valid.",
    "invitations.expired": "This invitation has expired. Ask an admin for a new one.",
    "invitations.used": "This invitation has already been used.",
    "invitations.revoked": "This invitation was revoked. Ask an admin for a new one.",
    "api_keys.not_found": "API key not found.",
    "api_keys.invalid": "The API key is missing, unknown or revoked.",
}


def message_for(code: str, params: dict[str, Any] | None = None) -> str:
    text = MESSAGES.get(code, MESSAGES["error.generic"])
    try:
        return text.format(**(params or {}))
    except (KeyError, IndexError):
        return text


class ServiceError(Exception):
    """Base of every expected, user-facing failure; `status` is the HTTP status the API answers with."""

    status: int = 400

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        field: str | None = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        self.code = code
        self.params = params
        self.message = message or message_for(code, params)
        self.field = field
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def detail(self) -> Any:
        """API `detail`: the message, or the same `[{field, message}]` shape as request validation errors."""
        if self.field:
            return [{"field": self.field, "message": self.message}]
        return self.message


class ValidationFailed(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class PermissionDenied(ServiceError):
    """`reason` is "role", "mfa_required" or "user_required"; the i18n code is `permission.<reason>`."""

    status = 403

    def __init__(self, reason: str, message: str | None = None, *, action: str | None = None) -> None:
        self.reason = reason
        self.action = action
        super().__init__(f"permission.{reason}", message, action=action)


class AuthFailed(ServiceError):
    """401. `retry_after` (seconds) is set once repeated failures start to slow the account down."""

    status = 401

    def __init__(
        self,
        code: str = "auth.invalid_credentials",
        message: str | None = None,
        *,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(code, message, field=field)


class Throttled(ServiceError):
    status = 429

    def __init__(self, code: str, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(code, message, retry_after=self.retry_after, minutes=-(-self.retry_after // 60))

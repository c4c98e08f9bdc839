"""Errors raised by services and shown to people by both the Reflex UI and the API.

Each error carries an i18n key (`code`) plus `params`, so the UI can translate it; `message` is the English text
from the English catalog (`mirage_app/i18n/en/`), which the API returns as-is. `field` names the form field at
fault, for inline validation.
"""

from __future__ import annotations

from typing import Any

from mirage_app.i18n.en import CATALOG as ENGLISH


def message_for(code: str, params: dict[str, Any] | None = None) -> str:
    text = ENGLISH.get(code) or ENGLISH["error.generic"]
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


class TenantSuspended(ServiceError):
    """403: the platform operator suspended the tenant; its people cannot sign in and its API keys are refused."""

    status = 403

    def __init__(self, reason: str | None) -> None:
        super().__init__("tenant.suspended", reason=reason or "-")

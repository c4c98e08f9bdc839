"""Settings → Alerts: the tenant's alert channels, a test button per channel and the last deliveries.

Everyone signed in sees the channels and the deliveries; the forms are drawn for admins and the service checks the
role on every call. A service error lands under the field it names; a new webhook's secret is shown once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.i18n import formats
from mirage_app.services import alert_channels
from mirage_app.states.auth import AuthState, error_text

FORM_FIELDS = ("name", "url", "host", "port", "tls", "user", "password", "sender", "recipients", "phone")
STATUS_COLORS = {
    "sent": "grass",
    "retrying": "amber",
    "pending": "blue",
    "held": "gray",
    "summarised": "gray",
    "failed": "red",
}


@dataclass(frozen=True)
class ChannelRow:
    id: str
    kind: str
    kind_label: str
    name: str
    target: str
    enabled: bool
    url: str
    host: str
    port: str
    tls: str
    user: str
    sender: str
    recipients: str  # the "to" box
    phone: str


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    at: str  # tenant time zone
    channel: str
    event: str
    status: str
    status_label: str
    attempt: int
    outcome: str  # the status code, or the error


@dataclass(frozen=True)
class FormErrors:
    """Inline errors of a channel form by box: `sender` and `recipients` are the service's "from" and "to" (names
    a page can use: `to` would shadow Var.to); `form` for the rest."""

    name: str = ""
    url: str = ""
    host: str = ""
    port: str = ""
    tls: str = ""
    user: str = ""
    password: str = ""
    sender: str = ""
    recipients: str = ""
    phone: str = ""
    form: str = ""


def _channel_row(view: alert_channels.ChannelView, tr: dict[str, str]) -> ChannelRow:
    c = view.config
    return ChannelRow(
        id=str(view.id),
        kind=view.kind,
        kind_label=tr.get(f"alerts.kind.{view.kind}", view.kind),
        name=view.name,
        target=view.target,
        enabled=view.enabled,
        url=c.get("url", ""),
        host=c.get("host", ""),
        port=str(c.get("port", "587")),
        tls=c.get("tls", "starttls"),
        user=c.get("user", ""),
        sender=c.get("from", ""),
        recipients=c.get("to", ""),
        phone=c.get("phone", ""),
    )


def _fields(form: dict) -> dict[str, str]:
    """The form's boxes as the service names them."""
    fields = {key: form.get(key, "") for key in ("url", "host", "port", "tls", "user", "password", "phone")}
    return fields | {"from": form.get("sender", ""), "to": form.get("recipients", "")}


def _errors(exc: ServiceError, message: str) -> FormErrors:
    field = {"from": "sender", "to": "recipients"}.get(exc.field or "", exc.field)
    return replace(FormErrors(), **{field if field in FORM_FIELDS else "form": message})


def _read(actor) -> tuple[list, list]:
    return alert_channels.list_channels(actor), alert_channels.recent_deliveries(actor)


class AlertsState(AuthState):
    channel_rows: list[ChannelRow] = []
    delivery_rows: list[DeliveryRow] = []
    alerts_loaded: bool = False
    # the add form
    new_kind: str = "webhook"
    add_errors: FormErrors = FormErrors()
    adding: bool = False
    add_form_version: int = 0  # bumped after a save: the form is drawn again, empty (no password kept)
    new_secret: str = ""  # a new webhook's signing secret, shown once
    # a channel's editor, its test, its removal
    edit_id: str = ""
    edit_errors: FormErrors = FormErrors()
    testing_id: str = ""
    remove_id: str = ""

    @rx.event
    def refresh(self, _tick=None):
        """on_load of /settings and every few seconds while the alerts tab is open."""
        self._load()

    def _load(self) -> None:
        loaded = self._call(
            lambda actor: (alert_channels.list_channels(actor), alert_channels.recent_deliveries(actor))
        )
        if not loaded.ok:
            return
        channels, deliveries = loaded.value
        self.channel_rows = [_channel_row(v, self.tr) for v in channels]
        self.delivery_rows = [
            DeliveryRow(
                id=str(d.id),
                at=self.stamp(d.at),
                channel=d.channel_name,
                event=self.tr.get(f"alerts.event.{d.kind}", formats.DASH),
                status=d.status,
                status_label=formats.label(self.tr, "alerts.status", d.status),
                attempt=d.attempt,
                outcome=(str(d.status_code) if d.status_code else "") + (f" {d.error}" if d.error else ""),
            )
            for d in deliveries
        ]
        self.alerts_loaded = True

    @rx.event
    def set_new_kind(self, kind: str):
        self.new_kind, self.add_errors = kind, FormErrors()

    @rx.event(background=True)
    async def add_channel(self, form: dict):
        async with self:
            if self.adding:
                return None
            self.adding, self.add_errors, self.new_secret = True, FormErrors(), ""
            actor, kind = self._actor(), self.new_kind
        if actor is None:
            async with self:
                self.adding = False
                return self._to_login()
        try:
            created = await asyncio.to_thread(
                alert_channels.create_channel, actor, kind, form.get("name", ""), _fields(form)
            )
        except ServiceError as exc:
            async with self:
                self.adding, self.add_errors = False, _errors(exc, error_text(exc, self.lang))
            return None
        async with self:
            self.adding = False
            self.new_secret = created.secret or ""
            self.add_form_version += 1
            self._load()
            return rx.toast.success(self.tr["alerts.added"], id="service-ok")

    @rx.event
    def edit(self, channel_id: str):
        self.edit_id, self.edit_errors, self.remove_id = channel_id, FormErrors(), ""

    @rx.event
    def cancel_edit(self):
        self.edit_id, self.edit_errors = "", FormErrors()

    @rx.event
    def save_edit(self, form: dict):
        actor = self._actor()
        if actor is None:
            return self._to_login()
        enabled = form.get("enabled") in ("on", True, "true")
        try:
            alert_channels.update_channel(actor, self.edit_id, form.get("name", ""), _fields(form), enabled)
        except ServiceError as exc:
            self.edit_errors = _errors(exc, error_text(exc, self.lang))
            return None
        self.edit_id = ""
        self._load()
        return rx.toast.success(self.tr["alerts.saved"], id="service-ok")

    @rx.event
    def ask_remove(self, channel_id: str):
        self.remove_id = channel_id

    @rx.event
    def remove(self, channel_id: str):
        removed = self._call(alert_channels.delete_channel, channel_id, success="alerts.deleted")
        self.remove_id = ""
        self._load()
        return removed.feedback

    @rx.event(background=True)
    async def send_test(self, channel_id: str):
        async with self:
            if self.testing_id:
                return None
            self.testing_id = channel_id
        tested = await self._call_in_thread(alert_channels.send_test_alert, channel_id)
        async with self:
            self.testing_id = ""
            self._load()
            if not tested.ok:
                return tested.feedback
            outcome = tested.value
            if outcome.ok:
                return rx.toast.success(self.tr["alerts.test_ok"].format(code=outcome.status_code), id="alert-test-ok")
            reason = outcome.error or str(outcome.status_code)
            return rx.toast.error(self.tr["alerts.test_failed"].format(error=reason), id="alert-test-failed")

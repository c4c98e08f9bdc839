"""Live instance list and the connect dialog, shared by `/` and `/instances`."""

from __future__ import annotations

import asyncio

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.logic.warmup import stage_label
from mirage_app.services import instances, metrics
from mirage_app.states.auth import AuthState


def _ago(when, now) -> str:
    if when is None:
        return "—"
    seconds = int((now - when).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


class InstancesState(AuthState):
    rows: list[dict[str, str]] = []
    optouts_24h: int = 0
    personas: list[dict[str, str]] = []
    loaded: bool = False
    # connect dialog
    dialog_open: bool = False
    dialog_number_id: str = ""
    dialog_qr: str = ""
    dialog_status: str = ""
    dialog_error: str = ""
    creating: bool = False
    # messages dialog
    messages_open: bool = False
    messages_title: str = ""
    message_rows: list[dict[str, str]] = []
    # rename dialog
    rename_id: str = ""
    rename_label: str = ""

    @rx.var
    def alerts(self) -> list[dict[str, str]]:
        return [r for r in self.rows if r["status"] in ("error", "paused", "disconnected") or r["reason"]]

    @rx.var
    def connected_count(self) -> int:
        return sum(1 for r in self.rows if r["status"] == "connected")

    @rx.var
    def today_total(self) -> int:
        return sum(int(r["today"]) for r in self.rows)

    @rx.var
    def week_total(self) -> int:
        return sum(int(r["week"]) for r in self.rows)

    @rx.event
    def refresh(self, _tick=None):
        return self._load()

    def _load(self):
        actor = self._actor()
        if actor is None:
            return None  # check_login (the first on_load step) already sends the visitor to /login

        from mirage_app.core.clock import system_clock

        now = system_clock.now()
        views = instances.list_instances(actor)
        self.rows = [
            {
                "id": str(v.id),
                "label": v.label,
                "session": v.session_id,
                "wa_number": v.wa_number or "—",
                "status": v.status,
                "status_label": self.tr.get(f"status.{v.status}", v.status),
                "persona_id": str(v.persona_id) if v.persona_id else "",
                "persona": v.persona_name or self.tr["instances.no_persona"],
                "today": str(v.messages_today),
                "week": str(v.messages_7d),
                "last_seen": _ago(v.last_seen, now),
                "reason": v.paused_reason or v.disconnect_reason or "",
                "warmup": stage_label(v.active_days, locale=self.lang) if v.paired_at else "—",
                "latency": f"{v.reply_latency_s:.0f}s" if v.reply_latency_s is not None else "—",
            }
            for v in views
        ]
        self.personas = [{"id": pid, "name": name} for pid, name in instances.persona_choices(actor)]
        self.optouts_24h = metrics.recent_optouts(actor)
        self.loaded = True
        if self.dialog_open and self.dialog_number_id:
            current = next((r for r in self.rows if r["id"] == self.dialog_number_id), None)
            if current and current["status"] == "connected":
                self.dialog_open = False
                return rx.toast.success(self.tr["instances.connected_toast"].format(label=current["label"]))
        return None

    # -- connect dialog ------------------------------------------------------------------------------
    @rx.event
    def open_new(self):
        self.dialog_open, self.dialog_number_id, self.dialog_qr, self.dialog_error = True, "", "", ""
        self.dialog_status = ""

    @rx.event
    def set_dialog_open(self, is_open: bool):
        self.dialog_open = is_open

    @rx.event(background=True)
    async def create(self, form: dict):
        async with self:
            if self.creating:
                return
            self.creating, self.dialog_error = True, ""
            actor = self._actor()
        try:
            view = await asyncio.to_thread(
                instances.create_instance, actor, form.get("label", ""), form.get("persona_id") or None
            )
        except ServiceError as exc:
            async with self:
                self.creating, self.dialog_error = False, self._error(exc)
            return
        async with self:
            self.creating = False
            self.dialog_number_id, self.dialog_qr, self.dialog_status = str(view.id), view.qr_code or "", view.status
            self._load()

    @rx.event(background=True)
    async def refresh_qr(self, _tick=None):
        """While the dialog is open the QR is renewed (Evolution rotates codes about every 45 s)."""
        async with self:
            if not (self.dialog_open and self.dialog_number_id):
                return
            actor, number_id = self._actor(), self.dialog_number_id
        try:
            view = await asyncio.to_thread(instances.get_qr, actor, number_id)
        except ServiceError as exc:
            async with self:
                self.dialog_error = self._error(exc)
            return
        async with self:
            self.dialog_qr, self.dialog_status, self.dialog_error = view.qr_code or "", view.status, ""
            if view.status == "connected":
                self.dialog_open = False
                self._load()
                return rx.toast.success(self.tr["instances.connected_toast"].format(label=""))
        return None

    @rx.event(background=True)
    async def reconnect(self, number_id: str):
        async with self:
            actor = self._actor()
            self.dialog_open, self.dialog_number_id, self.dialog_qr, self.dialog_error = True, number_id, "", ""
        try:
            view = await asyncio.to_thread(instances.reconnect, actor, number_id)
        except ServiceError as exc:
            async with self:
                self.dialog_error = self._error(exc)
            return
        async with self:
            self.dialog_qr, self.dialog_status = view.qr_code or "", view.status

    @rx.event
    def simulate_scan(self):
        _, feedback = self._call(instances.simulate_scan, self.dialog_number_id)
        return feedback

    # -- per-number actions --------------------------------------------------------------------------
    @rx.event(background=True)
    async def stop(self, number_id: str):
        async with self:
            actor = self._actor()
        try:
            await asyncio.to_thread(instances.stop, actor, number_id)
        except ServiceError as exc:
            async with self:
                return rx.toast.error(self._error(exc))
        async with self:
            self._load()
            return rx.toast.info(self.tr["instances.stopped"])

    @rx.event
    def set_persona(self, number_id: str, persona_id: str):
        _, feedback = self._call(
            instances.update_instance, number_id, persona_id=persona_id or None, success="instances.saved"
        )
        self._load()
        return feedback

    @rx.event
    def start_rename(self, number_id: str, label: str):
        self.rename_id, self.rename_label = number_id, label

    @rx.event
    def cancel_rename(self):
        self.rename_id = ""

    @rx.event
    def save_rename(self, form: dict):
        _, feedback = self._call(
            instances.update_instance, self.rename_id, label=form.get("label", ""), success="instances.saved"
        )
        self.rename_id = ""
        self._load()
        return feedback

    @rx.event
    def show_messages(self, number_id: str, label: str):
        result, feedback = self._call(instances.recent_messages, number_id)
        if result is None:
            return feedback
        self.messages_title, self.messages_open = label, True
        self.message_rows = [
            {
                "at": m.created_at.strftime("%d/%m %H:%M"),
                "dir": "out" if str(m.from_number_id) == number_id else "in",
                "body": m.body or "…",
                "status": str(m.status.value if hasattr(m.status, "value") else m.status),
            }
            for m in result
        ]
        return None

    @rx.event
    def set_messages_open(self, is_open: bool):
        self.messages_open = is_open

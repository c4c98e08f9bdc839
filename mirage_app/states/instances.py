"""Live instance list and the connect dialog, shared by `/` and `/instances`."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from mirage_app.core.clock import system_clock
from mirage_app.i18n import formats
from mirage_app.logic import waits
from mirage_app.models.servers import HELD_HEALTH, ServerState
from mirage_app.services import evolution_servers, instances, metrics, number_lifecycle, proxies
from mirage_app.states.auth import AuthState
from mirage_app.states.bubbles import Bubble, bubble
from mirage_app.states.number_safety import proxy_options, read_safety, safety_fields
from mirage_app.states.rows import SelectOption

ALERT_STATUSES = ("error", "paused", "disconnected")


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


def reason_text(tr: dict[str, str], paused_reason: str | None, disconnect_reason: str | None) -> str:
    """Why a number is paused or disconnected, in words: the stored reasons are codes ("stopped", "qr_limit",
    "banned (401)", "failure_streak:<last error>"), and an unknown one reads as a plain "disconnected"."""
    raw = paused_reason or disconnect_reason or ""
    if not raw:
        return ""
    code, colon, detail = raw.partition(":")
    if not colon:  # "banned (401)"
        code, _, detail = raw.partition(" (")
        detail = detail.removesuffix(")")
    text = tr.get(f"instances.reason.{code.strip()}", tr["instances.reason.other"])
    return text.format(detail=detail.strip() or "—")


@dataclass(frozen=True)
class InstanceRow:
    id: str
    label: str
    wa_number: str
    status: str
    status_label: str
    persona_id: str  # "" when no persona is assigned
    persona: str
    messages_today: str  # "sent / received" (services.metrics.number_activity)
    messages_7d: str
    last_seen: str
    reason: str  # why it is paused or disconnected, in words; "" when nothing is wrong
    paired: bool  # it was paired once: "Reconnect" rather than "Connect"
    warmup: str
    latency: str
    server_name: str  # the Evolution server it lives on; "" before placement
    server_health: str
    server_health_label: str
    server_held: bool  # its server is unreachable, unlicensed or refuses the key: sends wait (not a WhatsApp issue)
    server_leaving: bool  # its server cannot keep it (held, draining or disabled): offer to move it
    reputation: str  # "Reputation 82" ("" before its first computation)
    band: str  # logic.reputation band code, "" before its first computation
    band_label: str  # the band in words, with the cooldown's end when cooling down
    proxy_id: str  # "" when it goes out through the server's own connection
    proxy_label: str
    proxy_down: bool  # its proxy's last test failed: sends wait
    restricted_text: str  # "No new contacts until …" (tenant time zone); "" when it may contact new people
    restriction_note: str  # inferred or reported, and whether the end is an estimate


@dataclass(frozen=True)
class ServerAlert:
    """An Evolution server visible to the tenant whose numbers cannot send right now."""

    name: str
    health: str
    text: str  # "<health> since <when>", in the tenant's time zone


@dataclass(frozen=True)
class ArchivedRow:
    """A number deleted after it had history: shown apart, with its history still readable."""

    id: str
    label: str
    wa_number: str
    archived_at: str
    messages: str  # "38 mensagens"


class InstancesState(AuthState):
    rows: list[InstanceRow] = []
    optouts_24h: int = 0
    personas: list[SelectOption] = []
    proxy_options: list[SelectOption] = []
    server_options: list[SelectOption] = []  # servers that can take a number now: "name (numbers/capacity)"
    server_alerts: list[ServerAlert] = []
    loaded: bool = False
    # connect dialog (a new number, or `reconnect_id` paired again, on a server picked or automatic)
    dialog_open: bool = False
    reconnect_id: str = ""
    reconnect_label: str = ""
    reconnect_connected: bool = False  # still paired (its server is down): only a chosen server moves it
    dialog_number_id: str = ""
    dialog_qr: str = ""
    dialog_error: str = ""
    creating: bool = False
    # messages dialog
    messages_open: bool = False
    messages_title: str = ""
    message_rows: list[Bubble] = []
    # rename dialog
    rename_id: str = ""
    # numbers deleted after they had history (the delete's confirmation lives on the page: NumberDeleteState)
    archived: list[ArchivedRow] = []
    show_archived: bool = False

    @rx.var
    def alerts(self) -> list[InstanceRow]:
        return [r for r in self.rows if r.status in ALERT_STATUSES or r.reason]

    @rx.var
    def connected_count(self) -> int:
        return sum(1 for r in self.rows if r.status == "connected")

    # The overview's totals: the same figures as /metrics (services.metrics.tenant_activity).
    sent_today: int = 0
    received_today: int = 0
    sent_week: int = 0
    received_week: int = 0

    @rx.var
    def received_today_text(self) -> str:
        """ "8 recebidas" under today's sent total."""
        return formats.count(self.tr, "totals.received", self.received_today)

    @rx.var
    def received_week_text(self) -> str:
        return formats.count(self.tr, "totals.received", self.received_week)

    @rx.event
    def refresh(self, _tick=None):
        return self._load()

    def _load(self):
        def read(actor):
            return (
                instances.list_instances_with_totals(actor),
                instances.persona_choices(actor),
                metrics.recent_optouts(actor),
                evolution_servers.list_servers(actor),
                instances.list_archived(actor),
                read_safety(actor),
            )

        loaded = self._call(read)
        if not loaded.ok:
            return None  # check_login (the first on_load step) already sends the visitor to /login
        listed, persona_pairs, self.optouts_24h, servers, archived, safety = loaded.value
        views, totals = listed.instances, listed.totals
        self.sent_today, self.received_today = totals.sent_today, totals.received_today
        self.sent_week, self.received_week = totals.sent_week, totals.received_week
        now = system_clock.now()
        server_states = {v.id: v.state for v in servers}
        self.rows = [
            InstanceRow(
                id=str(v.id),
                label=v.label,
                wa_number=v.wa_number or "—",
                status=v.status,
                status_label=formats.label(self.tr, "status", v.status),
                persona_id=str(v.persona_id) if v.persona_id else "",
                persona=v.persona_name or self.tr["instances.no_persona"],
                messages_today=f"{v.activity.sent_today} / {v.activity.received_today}",
                messages_7d=f"{v.activity.sent_week} / {v.activity.received_week}",
                last_seen=_ago(v.last_seen, now),
                reason=reason_text(self.tr, v.paused_reason, v.disconnect_reason),
                paired=v.paired_at is not None,
                warmup=self._warmup(v),
                latency=f"{v.reply_latency_s:.0f}s" if v.reply_latency_s is not None else "—",
                server_name=v.server_name or "",
                server_health=v.server_health or "",
                server_health_label=formats.label(self.tr, "server_health", v.server_health),
                server_held=v.server_health in HELD_HEALTH,
                server_leaving=v.server_id is not None
                and (v.server_health in HELD_HEALTH or server_states.get(v.server_id) != ServerState.active),
                reputation=self._reputation(v),
                band=v.reputation_band or "",
                band_label=self._band_label(v),
                **safety_fields(safety, v.id, self.tr, self.stamp),
            )
            for v in views
        ]
        self.personas = SelectOption.from_pairs(persona_pairs)
        self.proxy_options = proxy_options(safety)
        self._servers(servers)
        self._archived(archived)
        self.loaded = True
        if self.dialog_open and self.dialog_number_id:
            current = next((r for r in self.rows if r.id == self.dialog_number_id), None)
            if current and current.status == "connected":
                self.dialog_open = False
                return rx.toast.success(self.tr["instances.connected_toast"].format(label=current.label))
        return None

    def _reputation(self, v: instances.InstanceView) -> str:
        if v.reputation_score is None:
            return ""
        return self.tr["reputation.score"].format(score=f"{v.reputation_score:.0f}")

    def _band_label(self, v: instances.InstanceView) -> str:
        if v.reputation_band is None:
            return self.tr["reputation.none"]
        if v.reputation_band == "cooling_down" and v.reputation_cooldown_until is not None:
            return self.tr["reputation.cooldown_until"].format(time=self.stamp(v.reputation_cooldown_until))
        return self.tr[f"reputation.band.{v.reputation_band}"]

    def _servers(self, servers: list[evolution_servers.ServerView]) -> None:
        self.server_options = [
            SelectOption(str(v.id), f"{v.name} ({v.placed}/{v.capacity})")
            for v in servers
            if v.state == ServerState.active and v.free > 0 and not v.held
        ]
        alert = self.tr["overview.server_alert"]
        self.server_alerts = [
            ServerAlert(
                name=v.name,
                health=v.health,
                text=alert.format(
                    health=formats.label(self.tr, "server_health", v.health), since=self.stamp(v.health_since)
                ),
            )
            for v in servers
            if v.held
        ]

    def _warmup(self, v: instances.InstanceView) -> str:
        """ "Dia 3 de aquecimento" / "Aquecido": the day the send caps use (logic.warmup.day_today)."""
        if v.paired_at is None:
            return self.tr["instances.warmup_unpaired"]
        if v.warmed_up:
            return self.tr["instances.warmup_done"]
        return self.tr["instances.warmup_day"].format(n=v.warm_day)

    def _archived(self, views: list[instances.ArchivedView]) -> None:
        self.archived = [
            ArchivedRow(
                id=str(v.id),
                label=v.label,
                wa_number=v.wa_number or "—",
                archived_at=self.stamp(v.archived_at),
                messages=formats.count(self.tr, "instances.messages_count", v.messages),
            )
            for v in views
        ]

    # -- connect dialog ------------------------------------------------------------------------------
    @rx.event
    def open_new(self):
        self.dialog_open, self.dialog_number_id, self.dialog_qr, self.dialog_error = True, "", "", ""
        self.reconnect_id = ""

    @rx.event
    def set_dialog_open(self, is_open: bool):
        """Closing the dialog before the scan ends the attempt: the card reads "Desconectado" with Connect again."""
        self.dialog_open = is_open
        if is_open or not self.dialog_number_id:
            return None
        number_id, self.dialog_number_id, self.dialog_qr = self.dialog_number_id, "", ""
        if any(r.id == number_id and r.status == "connected" for r in self.rows):
            return None
        cancelled = self._call(number_lifecycle.cancel_attempt, number_id)
        self._load()
        return cancelled.feedback

    @rx.event(background=True)
    async def create(self, form: dict):
        async with self:
            if self.creating:
                return None
            self.creating = True
            reconnect_id = self.reconnect_id
            if reconnect_id and self.reconnect_connected and not form.get("server_id"):
                self.creating, self.dialog_error = False, self.tr["servers.pool_full"]
                return None
        server_id = form.get("server_id") or None
        if reconnect_id:
            created = await self._call_in_thread(instances.reconnect, reconnect_id, server_id, error_to="dialog_error")
        else:
            created = await self._call_in_thread(
                instances.create_instance,
                form.get("label", ""),
                form.get("persona_id") or None,
                server_id,
                error_to="dialog_error",
            )
        async with self:
            self.creating = False
            if not created.ok:
                return created.feedback
            view = created.value
            self.dialog_number_id, self.dialog_qr = str(view.id), view.qr_code or ""
            self._load()
        return None

    @rx.event(background=True)
    async def refresh_qr(self, _tick=None):
        """While the dialog is open the QR is renewed (Evolution rotates codes about every 45 s)."""
        async with self:
            if not (self.dialog_open and self.dialog_number_id):
                return None
            number_id = self.dialog_number_id
        renewed = await self._call_in_thread(instances.get_qr, number_id, error_to="dialog_error")
        if not renewed.ok:
            return renewed.feedback
        async with self:
            view = renewed.value
            self.dialog_qr = view.qr_code or ""
            if view.status == "connected":
                return self._load()  # closes the dialog and says which number connected
        return None

    @rx.event
    def reconnect(self, number_id: str, label: str):
        """Opens the dialog on its server step: keep the number where it is (it moves by itself when that server
        cannot take it), or move it to another; the QR follows."""
        self.dialog_open, self.dialog_number_id, self.dialog_qr, self.dialog_error = True, "", "", ""
        self.reconnect_id, self.reconnect_label = number_id, label
        self.reconnect_connected = any(r.id == number_id and r.status == "connected" for r in self.rows)

    @rx.event
    def simulate_scan(self):
        return self._call(instances.simulate_scan, self.dialog_number_id).feedback

    # -- per-number actions --------------------------------------------------------------------------
    @rx.event(background=True)
    async def stop(self, number_id: str):
        stopped = await self._call_in_thread(instances.stop, number_id, success="instances.stopped")
        if stopped.ok:
            async with self:
                self._load()
        return stopped.feedback

    @rx.event
    def set_persona(self, number_id: str, persona_id: str):
        saved = self._call(
            instances.update_instance, number_id, persona_id=persona_id or None, success="instances.saved"
        )
        self._load()
        return saved.feedback

    @rx.event(background=True)
    async def set_proxy(self, number_id: str, proxy_id: str):
        """Put the number on a proxy ("" = none): Evolution applies it and restarts the session, off the lock."""
        saved = await self._call_in_thread(proxies.assign_proxy, number_id, proxy_id or None, success="instances.saved")
        async with self:
            self._load()
        return saved.feedback

    @rx.event
    def start_rename(self, number_id: str):
        self.rename_id = number_id

    @rx.event
    def cancel_rename(self):
        self.rename_id = ""

    @rx.event
    def save_rename(self, form: dict):
        saved = self._call(
            instances.update_instance, self.rename_id, label=form.get("label", ""), success="instances.saved"
        )
        self.rename_id = ""
        self._load()
        return saved.feedback

    @rx.event
    def show_messages(self, number_id: str, label: str):
        listed = self._call(instances.recent_messages, number_id)
        if not listed.ok:
            return listed.feedback
        self.messages_title, self.messages_open = label, True
        now = system_clock.now()
        backend = self._backend_origin()
        self.message_rows = [
            bubble(
                self.tr,
                m,
                backend=backend,
                stamp=lambda when: self.stamp(when, now=now),
                outgoing=str(m.from_number_id) == number_id,
                status_kind="message_status",
                wait=waits.message_line(
                    self.tr,
                    m.status,
                    m.wait_reason,
                    m.wait_until,
                    m.send_after,
                    m.error,
                    now,
                    lambda when: self.stamp(when, now=now),
                ),
            )
            for m in listed.value
        ]
        return None

    @rx.event
    def set_messages_open(self, is_open: bool):
        self.messages_open = is_open

    @rx.event
    def toggle_archived(self):
        self.show_archived = not self.show_archived

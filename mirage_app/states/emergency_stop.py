"""The emergency stop on screen: the banner every page shows while it is on, and the switch's dialog (a reason is
required; the service checks the role, and MFA for the resume)."""

from __future__ import annotations

import reflex as rx

from mirage_app.services import emergency_stop
from mirage_app.states.auth import AuthState


class EmergencyStopState(AuthState):
    stop_banner: str = ""  # "" while the stop is off
    stop_dialog_open: bool = False
    stop_reason: str = ""
    stop_error: str = ""

    @rx.event
    def load_stop(self):
        current = self._call(emergency_stop.current)
        if current.ok:
            self._show(current.value)

    def _show(self, state: emergency_stop.StopState | None) -> None:
        if state is None:
            self.stop_banner = ""
            return
        self.stop_banner = self.tr["emergency.banner"].format(time=self.stamp(state.since), reason=state.reason)

    @rx.event
    def ask_stop(self):
        self.stop_reason, self.stop_error, self.stop_dialog_open = "", "", True

    @rx.event
    def set_stop_dialog_open(self, is_open: bool):
        self.stop_dialog_open = bool(is_open)

    @rx.event
    def set_stop_reason(self, value: str):
        self.stop_reason = str(value)[: emergency_stop.REASON_MAX + 1]

    @rx.event
    def confirm_stop(self):
        stopped = self._call(emergency_stop.stop, self.stop_reason, success="emergency.stopped", error_to="stop_error")
        if stopped.ok:
            self.stop_dialog_open = False
            self._show(stopped.value)
        return stopped.feedback

    @rx.event
    def resume(self):
        resumed = self._call(emergency_stop.resume)
        if not resumed.ok:
            return resumed.feedback
        self.stop_banner = ""
        return rx.toast.success(self.tr["emergency.resumed"].format(count=resumed.value), id="service-ok")

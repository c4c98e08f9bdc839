"""`/platform`: the platform's Evolution servers (offered to every tenant): list with numbers placed across tenants,
add (probed first, the key never read back), probe, capacity, key, drain / activate, and disable / delete, each
asked first through the shared confirmation dialog naming the numbers and tenants on the server.

Every event calls services.platform, which checks the platform role with MFA on each call (`authorize_platform`).
The rows, the add form and the editors are the Settings → Servers ones (`server_row`, `AddServerForm`,
`ServerEditors`).
"""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from mirage_app.base.impact import Impact
from mirage_app.services import evolution_servers, platform
from mirage_app.states.auth import AuthState, Outcome
from mirage_app.states.confirming import ConfirmDelete, ConfirmView, confirm_view
from mirage_app.states.servers import AddServerForm, ServerCalls, ServerEditors, ServerRow, server_row


class PlatformServersState(ConfirmDelete, ServerEditors, AddServerForm, AuthState):
    platform_server_rows: list[ServerRow] = []
    platform_servers_loaded: bool = False

    def _load(self):
        loaded = self._call(platform.list_servers)
        if loaded.ok:
            self.platform_server_rows = [server_row(v, [], self.tr, self.stamp) for v in loaded.value]
            self.platform_servers_loaded = True
        return loaded.feedback

    @rx.event
    def load_servers(self, _tick=None):
        """on_load of /platform and every few seconds while it is open (health comes from the periodic probe). Not
        the operator: PlatformState.load already says so; the services would refuse anyway."""
        return self._load() if self.platform_operator else None

    def _adder(self) -> Callable[..., evolution_servers.ServerView]:
        return platform.add_server

    @rx.event(background=True)
    async def add_platform_server(self, form: dict):
        return await self._add(form)

    @rx.event
    def set_platform_server_state(self, server_id: str, state: str):
        changed = self._call(platform.set_server_state, server_id, state, success="settings.server_state_changed")
        self._load()
        return changed.feedback

    # -- probe, capacity, key (ServerEditors) ---------------------------------------------------------------------
    def _calls(self) -> ServerCalls:
        return ServerCalls(platform.probe_server, platform.set_server_capacity, platform.set_server_key)

    @rx.event(background=True)
    async def probe(self, server_id: str):
        return await self._probe(server_id)

    @rx.event(background=True)
    async def save_key(self, form: dict):
        return await self._save_key(form)

    # -- disable and delete, asked first: the target is "disable:<id>" or "delete:<id>" (ConfirmDelete) -----------
    def _impact(self, target_id: str) -> Outcome[Impact]:
        change, _, server_id = target_id.partition(":")
        return self._call(platform.server_impact, server_id, change)

    def _view(self, impact: Impact, target_id: str) -> ConfirmView:
        return confirm_view(self.tr, impact, target_id, verb=target_id.partition(":")[0])

    def _delete(self, target_id: str):
        change, _, server_id = target_id.partition(":")
        if change == "disable":
            done = self._call(platform.set_server_state, server_id, "disabled", success="settings.server_state_changed")
        else:
            done = self._call(platform.delete_server, server_id, success="settings.server_deleted")
        self._load()
        return done.feedback

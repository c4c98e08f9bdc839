"""`/platform`: the platform's Evolution servers (offered to every tenant): list with numbers placed across tenants,
add (probed first, the key never read back), drain / activate.

Every event calls services.platform, which checks the platform role with MFA on each call (`authorize_platform`).
The rows and the add form are the Settings → Servers ones (`server_row`, `AddServerForm`).
"""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from mirage_app.services import evolution_servers, platform
from mirage_app.states.auth import AuthState
from mirage_app.states.servers import AddServerForm, ServerRow, server_row


class PlatformServersState(AddServerForm, AuthState):
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

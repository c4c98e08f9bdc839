"""Settings → Evolution servers: the pool the tenant's numbers live on, live, with the admin's controls.

Every signed-in person sees the list; the controls are shown to admins, and the services check the role (and MFA
for keys) on every call. Server errors land under the field they name (`ServiceError.field`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.i18n import formats
from mirage_app.models.servers import HELD_HEALTH, ServerState
from mirage_app.services import evolution_servers
from mirage_app.states.auth import AuthState, Outcome, error_text
from mirage_app.states.confirming import ConfirmDelete

FULL_AT = 0.9  # the capacity bar turns amber from 90 % used


@dataclass(frozen=True)
class ServerNumberRow:
    """A number still on a (draining) server."""

    id: str
    label: str
    wa_number: str
    status: str
    status_label: str


@dataclass(frozen=True)
class ServerRow:
    id: str
    name: str
    base_url: str
    own: bool  # the tenant's own server (platform servers are read-only here)
    placed: int
    capacity: int
    load_pct: int  # 0–100, for the capacity bar
    load_color: str  # grass / amber / red
    state: str  # active / draining / disabled
    state_label: str
    health: str  # ok / unknown / unreachable / license_required / unauthorized / not_evolution
    health_label: str
    held: bool  # its numbers' sends are held: unreachable, licence required or key refused
    latency: str
    version: str
    last_probe: str  # tenant time zone
    health_since: str
    last_error: str
    is_default: bool
    numbers: list[ServerNumberRow]


@dataclass(frozen=True)
class AddErrors:
    """Inline errors of the add form, by the field the service named; `form` for the rest (e.g. MFA)."""

    name: str = ""
    base_url: str = ""
    api_key: str = ""
    capacity: str = ""
    form: str = ""


def server_row(view: evolution_servers.ServerView, numbers: list, tr: dict[str, str], stamp: Callable) -> ServerRow:
    used = view.placed / view.capacity if view.capacity else 1.0
    return ServerRow(
        id=str(view.id),
        name=view.name,
        base_url=view.base_url,
        own=view.owner == "tenant",
        placed=view.placed,
        capacity=view.capacity,
        load_pct=min(100, round(used * 100)),
        load_color="red" if used >= 1 else "amber" if used >= FULL_AT else "grass",
        state=view.state,
        state_label=formats.label(tr, "server_state", view.state),
        health=view.health,
        health_label=formats.label(tr, "server_health", view.health),
        held=view.health in HELD_HEALTH,
        latency=f"{view.latency_ms} ms" if view.latency_ms is not None else "—",
        version=view.version or "—",
        last_probe=stamp(view.last_probe_at),
        health_since=stamp(view.health_since),
        last_error=view.last_error or "",
        is_default=view.is_default,
        numbers=[
            ServerNumberRow(
                id=str(n.id),
                label=n.label,
                wa_number=n.wa_number or "—",
                status=n.status,
                status_label=formats.label(tr, "status", n.status),
            )
            for n in numbers
        ],
    )


class AddServerForm(rx.State, mixin=True):
    """The add-a-server form, written once for a tenant's servers (Settings) and the platform's (/platform): the
    state says which service adds (`_adder`) and how its list is read again (`_load`); the probe runs in a worker
    thread and each error lands under the field the service named."""

    add_errors: AddErrors = AddErrors()
    adding: bool = False
    add_form_version: int = 0  # bumped after a save: the form is drawn again, empty (the key is never kept)

    def _adder(self) -> Callable[..., evolution_servers.ServerView]:
        raise NotImplementedError

    def _load(self):
        raise NotImplementedError

    async def _form_call(
        self, fn: Callable[..., Any], *args: Any, on_error: Callable[[ServiceError, str], None], **kwargs: Any
    ) -> Outcome:
        """A service call in a worker thread whose error goes where `on_error(exc, translated)` puts it."""
        async with self:
            actor = self._actor()
            if actor is None:
                return Outcome(ok=False, feedback=self._to_login())
        try:
            value = await asyncio.to_thread(fn, actor, *args, **kwargs)
        except ServiceError as exc:
            async with self:
                on_error(exc, error_text(exc, self.lang))
            return Outcome(ok=False, error_code=exc.code)
        return Outcome(ok=True, value=value)

    async def _add(self, form: dict):
        async with self:
            if self.adding:
                return None
            self.adding, self.add_errors = True, AddErrors()

        def put(exc: ServiceError, message: str) -> None:
            field = exc.field if exc.field in ("name", "base_url", "api_key", "capacity") else "form"
            self.add_errors = replace(AddErrors(), **{field: message})

        added = await self._form_call(
            self._adder(),
            form.get("name", ""),
            form.get("base_url", ""),
            form.get("api_key", ""),
            form.get("capacity") or None,
            on_error=put,
        )
        async with self:
            self.adding = False
            if not added.ok:
                return added.feedback
            self.add_form_version += 1
            self._load()
            return rx.toast.success(self.tr["settings.server_added"], id="service-ok")


@dataclass(frozen=True)
class ServerCalls:
    """The services behind a page's per-server controls, each called as `fn(actor, server_id, value)`."""

    probe: Callable[..., evolution_servers.ServerView]  # (actor, server_id)
    capacity: Callable[..., evolution_servers.ServerView]
    key: Callable[..., evolution_servers.ServerView]


def _tenant_capacity(actor, server_id: str, capacity: str) -> evolution_servers.ServerView:
    return evolution_servers.update_server(actor, server_id, capacity=capacity)


def _tenant_key(actor, server_id: str, api_key: str) -> evolution_servers.ServerView:
    return evolution_servers.update_server(actor, server_id, api_key=api_key)


class ServerEditors(rx.State, mixin=True):
    """Probe now, and the capacity / key editor open on one server at a time, written once for a tenant's servers
    (Settings) and the platform's (/platform): the state says which services (`_calls`) and how its list is read
    again (`_load`); its background events `probe` and `save_key` await `_probe` and `_save_key`."""

    capacity_edit_id: str = ""
    capacity_error: str = ""
    key_edit_id: str = ""
    key_error: str = ""
    saving_key: bool = False
    probing_id: str = ""

    def _calls(self) -> ServerCalls:
        raise NotImplementedError

    def _load(self):
        raise NotImplementedError

    async def _probe(self, server_id: str):
        async with self:
            if self.probing_id:
                return None
            self.probing_id = server_id
        probed = await self._call_in_thread(self._calls().probe, server_id, success="settings.server_probed")
        async with self:
            self.probing_id = ""
            self._load()
        return probed.feedback

    @rx.event
    def edit_capacity(self, server_id: str):
        self.capacity_edit_id, self.capacity_error = server_id, ""
        self.key_edit_id = ""

    @rx.event
    def edit_key(self, server_id: str):
        self.key_edit_id, self.key_error = server_id, ""
        self.capacity_edit_id = ""

    @rx.event
    def cancel_edit(self):
        self.capacity_edit_id = self.key_edit_id = self.capacity_error = self.key_error = ""

    @rx.event
    def save_capacity(self, form: dict):
        saved = self._call(
            self._calls().capacity,
            self.capacity_edit_id,
            form.get("capacity", ""),
            error_to="capacity_error",
            success="settings.server_capacity_saved",
        )
        if saved.ok:
            self.capacity_edit_id = ""
            self._load()
        return saved.feedback

    async def _save_key(self, form: dict):
        async with self:
            if self.saving_key or not self.key_edit_id:
                return None
            self.saving_key, server_id = True, self.key_edit_id
        api_key = (form.get("api_key") or "").strip()
        if not api_key:  # an empty box would change nothing: ask for the key
            async with self:
                self.saving_key, self.key_error = False, self.tr["servers.key_required"]
            return None
        saved = await self._call_in_thread(
            self._calls().key, server_id, api_key, error_to="key_error", success="settings.server_key_saved"
        )
        async with self:
            self.saving_key = False
            if saved.ok:
                self.key_edit_id = ""
                self._load()
        return saved.feedback


class ServersState(ConfirmDelete, ServerEditors, AddServerForm, AuthState):
    server_rows: list[ServerRow] = []
    servers_loaded: bool = False

    # -- reading -------------------------------------------------------------------------------------
    @rx.event
    def refresh(self, _tick=None):
        """on_load of /settings and every few seconds while the servers tab is open."""
        return self._load()

    def _load(self):
        def read(actor):
            views = evolution_servers.list_servers(actor)
            numbers = {v.id: evolution_servers.numbers_on(actor, v.id) for v in views if v.state != ServerState.active}
            return views, numbers

        loaded = self._call(read)
        if not loaded.ok:
            return None  # check_login (the first on_load step) already sends the visitor to /login
        views, numbers = loaded.value
        self.server_rows = [server_row(v, numbers.get(v.id, []), self.tr, self.stamp) for v in views]
        self.servers_loaded = True
        return None

    # -- adding a server (AddServerForm) ------------------------------------------------------------
    def _adder(self) -> Callable[..., evolution_servers.ServerView]:
        return evolution_servers.add_server

    @rx.event(background=True)
    async def add_server(self, form: dict):
        return await self._add(form)

    # -- per-server actions (ServerEditors) ------------------------------------------------------------
    def _calls(self) -> ServerCalls:
        return ServerCalls(evolution_servers.probe_now, _tenant_capacity, _tenant_key)

    @rx.event(background=True)
    async def probe(self, server_id: str):
        return await self._probe(server_id)

    @rx.event(background=True)
    async def save_key(self, form: dict):
        return await self._save_key(form)

    @rx.event
    def set_state(self, server_id: str, state: str):
        changed = self._call(evolution_servers.set_state, server_id, state, success="settings.server_state_changed")
        self._load()
        return changed.feedback

    # -- delete (components.confirm.confirm_dialog) ------------------------------------------------------
    def _impact(self, target_id: str):
        return self._call(evolution_servers.server_impact, target_id)

    def _delete(self, target_id: str):
        deleted = self._call(evolution_servers.delete_server, target_id, success="settings.server_deleted")
        self._load()
        return deleted.feedback

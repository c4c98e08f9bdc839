"""Settings → Number safety: the proxy pool (add, test, delete) and the monthly allowance of unanswered first
messages. Everyone signed in sees them; the services check the role on every call (admin for the pool and the
allowance, admin with two-factor to raise the allowance). Errors land under the field they name."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.services import proxies, restrictions
from mirage_app.states.auth import AuthState, error_text
from mirage_app.states.confirming import ConfirmDelete

ADD_FIELDS = ("label", "host", "port", "protocol", "username", "password", "max_numbers")


@dataclass(frozen=True)
class ProxyRow:
    id: str
    label: str
    address: str  # "socks5://host:port", never the password
    username: str
    has_password: bool
    usage: str  # "2 / 3"
    assigned: int
    tested: str  # when it was last tested, tenant time zone; "" never
    test_ok: str  # "ok" | "failed" | "" (never tested)
    test_error: str
    evolution_supported: bool


@dataclass(frozen=True)
class ProxyAddErrors:
    label: str = ""
    host: str = ""
    port: str = ""
    protocol: str = ""
    username: str = ""
    password: str = ""
    max_numbers: str = ""
    form: str = ""


class ProxiesState(ConfirmDelete, AuthState):
    proxy_rows: list[ProxyRow] = []
    proxies_loaded: bool = False
    proxy_errors: ProxyAddErrors = ProxyAddErrors()
    adding_proxy: bool = False
    proxy_form_version: int = 0  # bumped after a save: the form is drawn again, empty (the password is never kept)
    testing_proxy_id: str = ""
    # the monthly allowance of unanswered first messages
    allowance: int = 0
    allowance_used: int = 0
    allowance_left: int = 0
    allowance_resets: str = ""
    allowance_error: str = ""

    @rx.var
    def allowance_text(self) -> str:
        return self.tr["safety.allowance_use"].format(
            used=self.allowance_used, allowance=self.allowance, left=self.allowance_left, resets=self.allowance_resets
        )

    @rx.event
    def load_safety(self, _tick=None):
        loaded = self._call(lambda actor: (proxies.list_proxies(actor), restrictions.get_allowance(actor)))
        if not loaded.ok:
            return None
        views, allowance = loaded.value
        self.proxy_rows = [self._row(v) for v in views]
        self.allowance, self.allowance_used = allowance.allowance, allowance.unanswered
        self.allowance_left, self.allowance_resets = allowance.left, self.stamp(allowance.month_ends_at)
        self.proxies_loaded = True
        return None

    def _row(self, view: proxies.ProxyView) -> ProxyRow:
        return ProxyRow(
            id=str(view.id),
            label=view.label,
            address=f"{view.protocol}://{view.host}:{view.port}",
            username=view.username,
            has_password=view.has_password,
            usage=f"{view.assigned} / {view.max_numbers}",
            assigned=view.assigned,
            tested=self.stamp(view.last_test_at) if view.last_test_at else "",
            test_ok="" if view.last_test_ok is None else "ok" if view.last_test_ok else "failed",
            test_error=view.last_test_error or "",
            evolution_supported=view.evolution_supported,
        )

    @rx.event(background=True)
    async def add_proxy(self, form: dict):
        async with self:
            if self.adding_proxy:
                return None
            self.adding_proxy, self.proxy_errors = True, ProxyAddErrors()
            actor = self._actor()
            if actor is None:
                self.adding_proxy = False
                return self._to_login()
        values = {name: form.get(name, "") for name in ADD_FIELDS}
        try:
            await asyncio.to_thread(proxies.add_proxy, actor, **values)
        except ServiceError as exc:
            async with self:
                field = exc.field if exc.field in ADD_FIELDS else "form"
                self.proxy_errors = replace(ProxyAddErrors(), **{field: error_text(exc, self.lang)})
                self.adding_proxy = False
            return None
        async with self:
            self.adding_proxy = False
            self.proxy_form_version += 1
            self.load_safety()
            return rx.toast.success(self.tr["safety.proxy_added"], id="service-ok")

    @rx.event(background=True)
    async def test_proxy(self, proxy_id: str):
        async with self:
            if self.testing_proxy_id:
                return None
            self.testing_proxy_id = proxy_id
        tested = await self._call_in_thread(proxies.test_proxy, proxy_id)
        async with self:
            self.testing_proxy_id = ""
            self.load_safety()
            if not tested.ok:
                return tested.feedback
            if tested.value.last_test_ok:
                return rx.toast.success(self.tr["safety.proxy_test_ok"], id="proxy-test-ok")
            message = self.tr["safety.proxy_test_failed"].format(error=tested.value.last_test_error or "—")
            return rx.toast.error(message, id="proxy-test-failed")

    def _impact(self, target_id: str):
        """The numbers on the proxy go back to their server's own connection."""
        return self._call(proxies.proxy_impact, target_id)

    def _delete(self, target_id: str):
        deleted = self._call(proxies.delete_proxy, target_id, success="safety.proxy_deleted")
        self.load_safety()
        return deleted.feedback

    @rx.event
    def save_allowance(self, form: dict):
        saved = self._call(
            restrictions.set_allowance,
            form.get("allowance", ""),
            error_to="allowance_error",
            success="safety.allowance_saved",
        )
        if saved.ok:
            self.load_safety()
        return saved.feedback

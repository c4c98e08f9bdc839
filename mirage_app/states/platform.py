"""`/platform`: the platform operator's tenants and plans; and the plan use every tenant sees on the overview.

Every event calls services.platform, which checks the platform role with MFA on each call (`authorize_platform`):
a tenant admin who sends these events straight to the websocket is refused like a click. Suspending and resuming
ask first through the shared confirmation dialog; a new tenant's invitation link is shown once.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import authorize_platform
from mirage_app.core.config import get_settings
from mirage_app.i18n import formats
from mirage_app.logic.plan_limits import LIMIT_KINDS, Use
from mirage_app.models import TenantPlan
from mirage_app.services import platform
from mirage_app.services.plan_limits import plan_use_of
from mirage_app.states.auth import AuthState, Outcome
from mirage_app.states.confirming import ConfirmDelete, ConfirmView, confirm_view

PLANS = tuple(plan.value for plan in TenantPlan)


@dataclass(frozen=True)
class UseView:
    kind: str
    label: str
    text: str  # "3 of 20", "3 (unlimited)"
    percent: int
    reached: bool


@dataclass(frozen=True)
class TenantView:
    id: str
    name: str
    plan: str
    plan_label: str
    suspended: bool
    can_suspend: bool  # not the platform operator's own tenant
    status_label: str
    reason: str
    created: str  # in the operator's tenant zone
    use: str  # "Numbers 1 of 2 · Contacts 10 of 500 …"
    overrides: dict[str, str]  # the boxes of the limits form ("" = the plan's)


@dataclass(frozen=True)
class PlanDefaultsView:
    plan: str
    plan_label: str
    limit_boxes: dict[str, str]  # "" = unlimited


def use_view(tr: dict[str, str], use: Use) -> UseView:
    text = (
        tr["plan.use_unlimited"].format(used=use.used)
        if use.limit is None
        else tr["plan.use_of"].format(used=use.used, limit=use.limit)
    )
    return UseView(use.kind, tr[f"plan.kind.{use.kind}"], text, use.percent, use.reached)


def _box(value: int | None) -> str:
    return "" if value is None else str(value)


class PlatformState(ConfirmDelete, AuthState):
    tenant_rows: list[TenantView] = []
    plan_rows: list[PlanDefaultsView] = []
    platform_loaded: bool = False
    page_error: str = ""  # not the platform operator, or MFA off
    create_error: str = ""
    invite_link: str = ""
    suspend_for: str = ""  # the tenant whose reason box is open
    suspend_reason: str = ""
    limits_for: str = ""  # the tenant whose limits form is open
    limits_error: str = ""
    defaults_error: str = ""

    def _views(self, tenants: list[platform.TenantRow]) -> list[TenantView]:
        tr = self.tr
        return [
            TenantView(
                id=str(row.id),
                name=row.name,
                plan=row.plan,
                plan_label=formats.label(tr, "plan", row.plan),
                suspended=row.suspended_at is not None,
                can_suspend=not row.holds_operator,
                status_label=tr[f"platform.status.{row.status}"],
                reason=row.suspended_reason or "",
                created=self.stamp(row.created_at),
                use=" · ".join(f"{v.label} {v.text}" for v in (use_view(tr, u) for u in row.uses)),
                overrides={kind: _box(row.overrides.get(kind)) for kind in LIMIT_KINDS},
            )
            for row in tenants
        ]

    def _reload(self) -> None:
        loaded = self._call(lambda actor: (platform.list_tenants(actor), platform.plan_defaults(actor)))
        if not loaded.ok:
            return
        tenants, defaults = loaded.value
        self.tenant_rows = self._views(tenants)
        self.plan_rows = [
            PlanDefaultsView(plan, formats.label(self.tr, "plan", plan), {k: _box(v) for k, v in values.items()})
            for plan, values in defaults.items()
        ]

    @rx.event
    def load(self):
        """on_load: the page is drawn for the platform operator only (the services check it again each call)."""
        self.page_error = ""
        self.platform_loaded = True
        outcome = self._call(authorize_platform, error_to="page_error")
        if outcome.ok:
            self._reload()
        return outcome.feedback

    # -- creating a tenant ----------------------------------------------------------------------------------------
    @rx.event
    def create(self, form: dict):
        self.invite_link = ""
        created = self._call(
            platform.create_tenant,
            form.get("name", ""),
            form.get("admin_email", ""),
            plan=form.get("plan") or "free",
            error_to="create_error",
            success="platform.created_toast",
        )
        if not created.ok:
            return created.feedback
        base = self.router.url.origin or get_settings().public_url
        self.invite_link = base.rstrip("/") + created.value.invitation.accept_path
        self._reload()
        return [created.feedback, rx.set_value("platform-name", ""), rx.set_value("platform-admin-email", "")]

    # -- suspending and resuming: asked first (ConfirmDelete) ---------------------------------------------------
    @rx.event
    def open_suspend(self, tenant_id: str):
        self.suspend_for, self.suspend_reason = tenant_id, ""

    @rx.event
    def close_suspend(self):
        self.suspend_for, self.suspend_reason = "", ""

    @rx.event
    def set_suspend_reason(self, value: str):
        self.suspend_reason = str(value)[: platform.REASON_MAX + 1]

    def _name(self, tenant_id: str) -> str:
        return next((r.name for r in self.tenant_rows if r.id == tenant_id), "")

    def _impact(self, target_id: str) -> Outcome[Impact]:
        verb, _, tenant_id = target_id.partition(":")
        name = self._name(tenant_id)
        effect = Dependent(f"tenant_{verb}", name, Effect.deactivated if verb == "suspend" else Effect.kept)
        return Outcome(ok=True, value=Impact(name, (effect,), archive=True))

    def _view(self, impact: Impact, target_id: str) -> ConfirmView:
        return confirm_view(self.tr, impact, target_id, verb=target_id.partition(":")[0])

    def _delete(self, target_id: str):
        verb, _, tenant_id = target_id.partition(":")
        if verb == "suspend":
            done = self._call(platform.suspend, tenant_id, self.suspend_reason, success="platform.suspended_toast")
            if done.ok:
                self.suspend_for, self.suspend_reason = "", ""
        else:
            done = self._call(platform.resume, tenant_id, success="platform.resumed_toast")
        self._reload()
        return done.feedback

    # -- plans and limits -----------------------------------------------------------------------------------------
    @rx.event
    def change_plan(self, tenant_id: str, plan: str):
        changed = self._call(platform.change_plan, tenant_id, plan, success="platform.plan_changed_toast")
        self._reload()
        return changed.feedback

    @rx.event
    def open_limits(self, tenant_id: str):
        self.limits_for = "" if self.limits_for == tenant_id else tenant_id
        self.limits_error = ""

    @rx.event
    def save_limits(self, form: dict):
        values = {kind: form.get(kind, "") for kind in LIMIT_KINDS}
        saved = self._call(
            platform.set_overrides,
            self.limits_for,
            values,
            error_to="limits_error",
            success="platform.limits_saved_toast",
        )
        if saved.ok:
            self.limits_for = ""
            self._reload()
        return saved.feedback

    @rx.event
    def save_defaults(self, form: dict):
        plan = form.get("plan", "")
        values = {kind: form.get(kind, "") for kind in LIMIT_KINDS}
        saved = self._call(
            platform.set_plan_defaults, plan, values, error_to="defaults_error", success="platform.limits_saved_toast"
        )
        if saved.ok:
            self._reload()
        return saved.feedback


class PlanUseState(AuthState):
    """The overview's "your plan" card: each limit against its use."""

    plan_label: str = ""
    plan_uses: list[UseView] = []

    @rx.event
    def load_plan_use(self):
        loaded = self._call(plan_use_of)
        if not loaded.ok:
            return loaded.feedback
        self.plan_label = formats.label(self.tr, "plan", loaded.value.plan)
        self.plan_uses = [use_view(self.tr, use) for use in loaded.value.uses]
        return None

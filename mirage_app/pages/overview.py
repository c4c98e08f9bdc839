"""`/`: the operator's glance — totals, alerts, every number live, quick actions."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.layout import app_page, page_layout
from mirage_app.components.notice import notice
from mirage_app.pages.instances import connect_button, connect_dialog, instances_grid, live_refresh, messages_dialog
from mirage_app.states.instances import InstancesState
from mirage_app.states.platform import PlanUseState, UseView
from mirage_app.states.ui import t


def _received(text: rx.Var, test_id: str) -> rx.Component:
    """ "8 recebidas" under a sent total."""
    return rx.text(text, size="1", color_scheme="gray", id=test_id)


def _kpi(label_key: str, value: rx.Var, icon: str, test_id: str, detail: rx.Component | None = None) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.box(rx.icon(icon, size=20), class_name="kpi-icon"),
            rx.vstack(
                rx.text(t(label_key), size="1", color_scheme="gray"),
                rx.heading(value, size="6", id=test_id),
                *([detail] if detail is not None else []),
                spacing="0",
            ),
            align="center",
            spacing="3",
        ),
        class_name="kpi",
    )


def _server_alert(alert) -> rx.Component:
    """An Evolution server that cannot carry its numbers now: which one, what, since when, and where to look."""
    return notice(
        "server-off",
        rx.hstack(
            rx.text.strong(alert.name),
            rx.text(alert.text),
            rx.link(t("overview.open_servers"), href="/settings?tab=servers", weight="medium"),
            spacing="2",
            wrap="wrap",
            align="baseline",
        ),
        color=rx.cond(alert.health == "license_required", "orange", "red"),
        size="1",
        width="100%",
        class_name="server-alert",
    )


def _alerts() -> rx.Component:
    return rx.cond(
        (InstancesState.alerts.length() > 0)
        | (InstancesState.optouts_24h > 0)
        | (InstancesState.server_alerts.length() > 0),
        rx.vstack(
            rx.heading(t("overview.alerts"), size="4"),
            rx.foreach(InstancesState.server_alerts, _server_alert),
            rx.cond(
                InstancesState.optouts_24h > 0,
                notice(
                    "user-x",
                    rx.hstack(rx.text.strong(InstancesState.optouts_24h), rx.text(t("overview.optouts_24h"))),
                    color="amber",
                    size="1",
                    width="100%",
                ),
            ),
            rx.foreach(
                InstancesState.alerts,
                lambda a: notice(
                    "triangle-alert",
                    rx.hstack(
                        rx.text.strong(a.label),
                        rx.text(a.status_label),
                        rx.text(a.reason),
                        spacing="2",
                        wrap="wrap",
                    ),
                    color=rx.match(a.status, ("error", "red"), ("paused", "orange"), "amber"),
                    size="1",
                    width="100%",
                ),
            ),
            width="100%",
            id="alerts",
        ),
    )


def _plan_bar(use: UseView) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(use.label, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.text(use.text, size="1", weight="medium", class_name="plan-use-text"),
            width="100%",
        ),
        rx.progress(value=use.percent, color_scheme=rx.cond(use.reached, "red", "grass"), size="1"),
        spacing="1",
        width="100%",
        class_name="plan-use",
        custom_attrs={"data-kind": use.kind},
    )


def _plan_use() -> rx.Component:
    """Use against the tenant's plan: one bar per limit (red once a limit is reached)."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(t("plan.use_title"), size="4"),
                rx.badge(PlanUseState.plan_label, variant="soft", id="plan-name"),
                align="center",
            ),
            rx.grid(
                rx.foreach(PlanUseState.plan_uses, _plan_bar),
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="3",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="plan-use",
    )


@app_page("/", "Overview", on_load=[InstancesState.refresh, PlanUseState.load_plan_use])
def overview_page() -> rx.Component:
    return page_layout(
        "page.overview.title",
        "page.overview.subtitle",
        rx.vstack(
            rx.grid(
                _kpi("overview.connected", InstancesState.connected_count, "wifi", "kpi-connected"),
                _kpi("overview.numbers", InstancesState.rows.length(), "smartphone", "kpi-numbers"),
                # The same definition and days as /metrics: sent by our numbers, received by them.
                _kpi(
                    "totals.sent_today",
                    InstancesState.sent_today,
                    "send",
                    "kpi-today",
                    _received(InstancesState.received_today_text, "kpi-today-received"),
                ),
                _kpi(
                    "totals.sent_week",
                    InstancesState.sent_week,
                    "calendar-days",
                    "kpi-week",
                    _received(InstancesState.received_week_text, "kpi-week-received"),
                ),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="4",
                width="100%",
            ),
            _alerts(),
            _plan_use(),
            rx.hstack(
                rx.heading(t("overview.numbers_title"), size="4"),
                rx.spacer(),
                connect_button(),
                width="100%",
                align="center",
            ),
            instances_grid(full=False),
            spacing="5",
            width="100%",
        ),
        connect_dialog(),
        messages_dialog(),
        live_refresh(),
    )

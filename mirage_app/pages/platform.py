"""`/platform`: the platform operator's page: tenants with plan, status and use; create (the first admin's
invitation link shown once); suspend / resume (asked first); change plan; per-tenant limits; plan defaults; the
platform's Evolution servers (the Settings → Servers card, controls and add form; disable and delete asked first)."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.layout import app_page, page_layout
from mirage_app.components.notice import notice
from mirage_app.components.servers import (
    add_server_form,
    delete_button,
    edit_buttons,
    server_card,
    server_controls,
    state_button,
)
from mirage_app.logic.plan_limits import LIMIT_KINDS
from mirage_app.states.platform import PLANS, PlanDefaultsView, PlatformState, TenantView
from mirage_app.states.platform_servers import PlatformServersState
from mirage_app.states.servers import ServerRow
from mirage_app.states.ui import t

State = PlatformState
Servers = PlatformServersState
SERVERS_REFRESH_MS = 5000


def _plan_select(name: str, element_id: str, **props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=element_id, width="100%"),
        rx.select.content(*[rx.select.item(t(f"plan.{plan}"), value=plan) for plan in PLANS]),
        name=name,
        **props,
    )


def _labelled(label_key: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(t(label_key), size="2", weight="medium"), control, spacing="1", width="100%")


def _create_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("platform.create_title"), size="4"),
            rx.text(t("platform.create_help"), size="2", color_scheme="gray"),
            rx.form(
                rx.grid(
                    _labelled("platform.name", rx.input(name="name", id="platform-name", width="100%")),
                    _labelled(
                        "platform.admin_email",
                        rx.input(name="admin_email", id="platform-admin-email", type="email", width="100%"),
                    ),
                    _labelled("platform.plan", _plan_select("plan", "platform-plan", default_value="free")),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                field_error(State.create_error, "platform-create-error"),
                rx.button(t("platform.create"), type="submit", id="platform-create", margin_top="0.75em"),
                on_submit=State.create,
                width="100%",
            ),
            rx.cond(
                State.invite_link != "",
                notice(
                    "link",
                    rx.vstack(
                        rx.text(t("platform.invite_link"), size="2"),
                        rx.code(State.invite_link, id="platform-invite-link", class_name="secret-once"),
                        spacing="1",
                    ),
                    color="grass",
                    size="1",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _limits_form(row: TenantView) -> rx.Component:
    return rx.form(
        rx.text(t("platform.overrides_help"), size="1", color_scheme="gray"),
        rx.grid(
            *[
                _labelled(
                    f"plan.kind.{kind}",
                    rx.input(name=kind, id=f"limits-{kind}", type="number", min=0, default_value=row.overrides[kind]),
                )
                for kind in LIMIT_KINDS
            ],
            columns=rx.breakpoints(initial="2", md="6"),
            spacing="2",
            width="100%",
        ),
        field_error(State.limits_error, "platform-limits-error"),
        rx.button(t("platform.save"), type="submit", size="1", id="platform-limits-save", margin_top="0.5em"),
        on_submit=State.save_limits,
        width="100%",
    )


def _suspend_form(row: TenantView) -> rx.Component:
    return rx.hstack(
        rx.input(
            placeholder=t("platform.reason"),
            value=State.suspend_reason,
            on_change=State.set_suspend_reason,
            id="platform-suspend-reason",
            width="100%",
        ),
        rx.button(
            t("platform.suspend"),
            color_scheme="red",
            size="1",
            on_click=State.ask_delete("suspend:" + row.id),
            id="platform-suspend-ask",
        ),
        rx.button(t("platform.cancel"), variant="soft", color_scheme="gray", size="1", on_click=State.close_suspend),
        width="100%",
        align="center",
    )


def _tenant_row(row: TenantView) -> rx.Component:
    actions = rx.hstack(
        rx.select.root(
            rx.select.trigger(aria_label=t("platform.change_plan"), size="1"),
            rx.select.content(*[rx.select.item(t(f"plan.{plan}"), value=plan) for plan in PLANS]),
            value=row.plan,
            on_change=lambda plan: State.change_plan(row.id, plan),
            size="1",
        ),
        rx.button(t("platform.edit_limits"), size="1", variant="soft", on_click=State.open_limits(row.id)),
        rx.cond(
            row.suspended,
            rx.button(
                t("platform.resume"), size="1", color_scheme="grass", on_click=State.ask_delete("resume:" + row.id)
            ),
            rx.cond(
                row.can_suspend,
                rx.button(
                    t("platform.suspend"),
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=State.open_suspend(row.id),
                ),
            ),
        ),
        spacing="2",
        wrap="wrap",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(row.name, size="3"),
                rx.badge(row.plan_label, variant="soft"),
                rx.badge(row.status_label, color_scheme=rx.cond(row.suspended, "red", "grass")),
                rx.spacer(),
                rx.text(row.created, size="1", color_scheme="gray"),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(row.reason != "", rx.text(t("platform.reason"), ": ", row.reason, size="2", color_scheme="red")),
            rx.text(row.use, size="2", class_name="platform-use"),
            actions,
            rx.cond(State.suspend_for == row.id, _suspend_form(row)),
            rx.cond(State.limits_for == row.id, _limits_form(row)),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="platform-tenant",
        custom_attrs={"data-tenant": row.name},
    )


def _defaults_row(row: PlanDefaultsView) -> rx.Component:
    return rx.form(
        rx.hstack(rx.badge(row.plan_label, variant="soft"), align="center"),
        rx.el.input(type="hidden", name="plan", value=row.plan),
        rx.grid(
            *[
                _labelled(
                    f"plan.kind.{kind}", rx.input(name=kind, type="number", min=0, default_value=row.limit_boxes[kind])
                )
                for kind in LIMIT_KINDS
            ],
            columns=rx.breakpoints(initial="2", md="6"),
            spacing="2",
            width="100%",
        ),
        rx.button(t("platform.save"), type="submit", size="1", margin_top="0.5em"),
        on_submit=State.save_defaults,
        width="100%",
    )


def _defaults_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("platform.defaults"), size="4"),
            rx.text(t("platform.defaults_help"), size="2", color_scheme="gray"),
            field_error(State.defaults_error, "platform-defaults-error"),
            rx.foreach(State.plan_rows, _defaults_row),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _ask_disable(server_id, _state):
    """Disabling stops every tenant's numbers on the server: the dialog names them first."""
    return Servers.ask_delete("disable:" + server_id)


def _server_actions(row: ServerRow) -> rx.Component:
    set_state = Servers.set_platform_server_state
    return server_controls(
        Servers,
        row,
        rx.fragment(
            state_button(row, "active", "play", "settings.server_activate", "grass", set_state),
            state_button(row, "draining", "arrow-down-to-line", "settings.server_drain", "amber", set_state),
            state_button(row, "disabled", "circle-pause", "settings.server_disable", "gray", _ask_disable),
            edit_buttons(Servers, row),
            delete_button(Servers.ask_delete("delete:" + row.id)),
        ),
    )


def _servers_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("platform.servers"), size="4"),
            rx.text(t("platform.servers_help"), size="2", color_scheme="gray"),
            rx.cond(
                Servers.platform_servers_loaded,
                rx.vstack(
                    rx.foreach(
                        Servers.platform_server_rows,
                        lambda row: server_card(row, _server_actions(row), numbers_left=False),
                    ),
                    spacing="3",
                    width="100%",
                    id="platform-server-list",
                ),
                rx.center(rx.spinner(size="3"), padding="2em", width="100%"),
            ),
            add_server_form(Servers, Servers.add_platform_server, prefix="platform-server-add"),
            rx.moment(interval=SERVERS_REFRESH_MS, on_change=Servers.load_servers, display="none"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="platform-servers",
    )


@app_page("/platform", "Platform", on_load=[PlatformState.load, PlatformServersState.load_servers])
def platform_page() -> rx.Component:
    return page_layout(
        "page.platform.title",
        "page.platform.subtitle",
        rx.cond(
            State.page_error != "",
            notice("lock", rx.text(State.page_error, id="platform-denied"), color="red", width="100%"),
            rx.vstack(
                _create_card(),
                rx.heading(t("platform.tenants"), size="4"),
                rx.foreach(State.tenant_rows, _tenant_row),
                _defaults_card(),
                _servers_card(),
                spacing="4",
                width="100%",
                id="platform-body",
            ),
        ),
        confirm_dialog(State.confirm, State.delete, State.cancel_delete, "platform"),
        confirm_dialog(Servers.confirm, Servers.delete, Servers.cancel_delete, "platform-server"),
    )

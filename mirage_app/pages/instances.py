"""`/instances`: connect numbers by QR, watch them live, rename, assign personas, stop, reconnect, read messages,
delete (archive when it has history)."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.emergency_stop import emergency_switch
from mirage_app.components.instances import server_line, stat, status_badge
from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.components.message_bubble import chat_bubble
from mirage_app.components.number_safety import proxy_line, restriction_notice
from mirage_app.components.reputation import reputation_badge
from mirage_app.pages.number_reputation import ReputationState, reputation_dialog
from mirage_app.services import number_lifecycle
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmDelete
from mirage_app.states.instances import ArchivedRow, InstanceRow, InstancesState
from mirage_app.states.ui import UiState, t

LIVE_REFRESH_MS = 3000
QR_REFRESH_MS = 5000


class NumberDeleteState(ConfirmDelete, InstancesState):
    """Deleting a number: what it would do first (`number_impact`), then the delete, which archives when the number
    has history and applies the same rule again on the server."""

    def _impact(self, target_id: str):
        return self._call(number_lifecycle.number_impact, target_id)

    def _delete(self, target_id: str):
        done = self._call(number_lifecycle.delete_number, target_id)
        self._load()
        if not done.ok:
            return done.feedback
        key = "instances.archived_toast" if done.value.archive else "instances.deleted_toast"
        return rx.toast.success(self.tr[key].format(label=done.value.name), id="service-ok")


def live_refresh() -> rx.Component:
    """Re-reads the list every few seconds while the page is open; stops with the page."""
    return rx.moment(interval=LIVE_REFRESH_MS, on_change=InstancesState.refresh, display="none")


def server_picker() -> rx.Component:
    """Where the number goes: automatic (least loaded with room; for a reconnect, where it is) or a chosen server."""
    return rx.fragment(
        rx.text(t("instances.server"), size="2", weight="medium"),
        rx.el.select(
            rx.cond(
                InstancesState.reconnect_id == "",
                rx.el.option(t("instances.server_auto"), value=""),
                # a paired number stays where it is unless a server is chosen: moving it means choosing one
                rx.cond(~InstancesState.reconnect_connected, rx.el.option(t("instances.server_keep"), value="")),
            ),
            rx.foreach(InstancesState.server_options, lambda option: rx.el.option(option.label, value=option.value)),
            name="server_id",
            class_name="native-select",
            id="instance-server",
        ),
    )


def connect_dialog() -> rx.Component:
    new_fields = rx.fragment(
        rx.text(t("instances.label"), size="2", weight="medium"),
        rx.input(name="label", id="instance-label", placeholder=t("instances.label_placeholder"), width="100%"),
        rx.text(t("instances.persona"), size="2", weight="medium"),
        rx.el.select(
            rx.el.option(t("instances.no_persona"), value=""),
            rx.foreach(InstancesState.personas, lambda option: rx.el.option(option.label, value=option.value)),
            name="persona_id",
            class_name="native-select",
        ),
    )
    create_form = rx.form(
        rx.vstack(
            rx.cond(
                InstancesState.reconnect_id != "",
                rx.heading(InstancesState.reconnect_label, size="3"),
                new_fields,
            ),
            server_picker(),
            field_error(InstancesState.dialog_error, "connect-error"),
            rx.button(
                rx.cond(InstancesState.creating, rx.spinner(size="2"), rx.icon("qr-code", size=16)),
                t("instances.generate_qr"),
                type="submit",
                disabled=InstancesState.creating,
                id="instance-create",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=InstancesState.create,
        width="100%",
    )
    qr_view = rx.vstack(
        rx.cond(
            InstancesState.dialog_qr != "",
            rx.image(src=InstancesState.dialog_qr, width="260px", height="260px", class_name="qr", id="qr-image"),
            rx.center(rx.spinner(size="3"), width="260px", height="260px"),
        ),
        rx.text(t("instances.scan_hint"), size="2", color_scheme="gray", text_align="center"),
        rx.hstack(rx.spinner(size="1"), rx.text(t("instances.waiting_scan"), size="1"), align="center"),
        rx.cond(
            UiState.demo,
            rx.button(
                rx.icon("scan-line", size=16),
                t("instances.simulate_scan"),
                variant="soft",
                color_scheme="violet",
                on_click=InstancesState.simulate_scan,
                id="simulate-scan",
            ),
        ),
        field_error(InstancesState.dialog_error, "connect-error"),
        rx.moment(interval=QR_REFRESH_MS, on_change=InstancesState.refresh_qr, display="none"),
        align="center",
        spacing="3",
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(
                    InstancesState.reconnect_id != "",
                    rx.cond(InstancesState.reconnect_connected, t("instances.move"), t("instances.reconnect_title")),
                    t("instances.connect_title"),
                )
            ),
            rx.dialog.description(
                rx.cond(InstancesState.reconnect_id != "", t("instances.reconnect_hint"), t("instances.connect_hint")),
                size="2",
                color_scheme="gray",
            ),
            rx.box(rx.cond(InstancesState.dialog_number_id == "", create_form, qr_view), padding_top="1em"),
            rx.dialog.close(rx.button(t("common.close"), variant="ghost", margin_top="1em")),
            max_width="420px",
            id="connect-dialog",
        ),
        open=InstancesState.dialog_open,
        on_open_change=InstancesState.set_dialog_open,
    )


def messages_dialog() -> rx.Component:
    footer = lambda m: rx.fragment(  # noqa: E731
        rx.hstack(
            rx.text(m.at, size="1", color_scheme="gray"),
            rx.text(m.status_label, size="1", color_scheme="gray"),
        ),
        rx.cond(m.wait != "", rx.text(m.wait, size="1", color_scheme="amber", class_name="wait-reason")),
    )
    bubble = lambda m: chat_bubble(m, footer(m))  # noqa: E731
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(InstancesState.messages_title),
            rx.dialog.description(t("instances.last_messages"), size="2", color_scheme="gray"),
            rx.cond(
                InstancesState.message_rows.length() > 0,
                rx.scroll_area(
                    rx.vstack(rx.foreach(InstancesState.message_rows, bubble), spacing="2", width="100%"),
                    max_height="60vh",
                    id="message-list",
                ),
                rx.text(t("instances.no_messages"), color_scheme="gray"),
            ),
            rx.dialog.close(rx.button(t("common.close"), variant="ghost", margin_top="1em")),
            max_width="560px",
        ),
        open=InstancesState.messages_open,
        on_open_change=InstancesState.set_messages_open,
    )


def _rename(row: rx.Var[InstanceRow]) -> rx.Component:
    return rx.cond(
        InstancesState.rename_id == row.id,
        rx.form(
            rx.hstack(
                rx.input(name="label", default_value=row.label, size="1", auto_focus=True, id="rename-input"),
                rx.icon_button(rx.icon("check", size=14), type="submit", size="1"),
                rx.icon_button(
                    rx.icon("x", size=14),
                    type="button",
                    size="1",
                    variant="ghost",
                    on_click=InstancesState.cancel_rename,
                ),
            ),
            on_submit=InstancesState.save_rename,
        ),
        rx.hstack(
            rx.heading(row.label, size="4", class_name="instance-label"),
            rx.cond(
                AuthState.can_manage,
                rx.icon_button(
                    rx.icon("pencil", size=12),
                    size="1",
                    variant="ghost",
                    aria_label="rename",
                    on_click=InstancesState.start_rename(row.id),
                ),
            ),
            align="center",
        ),
    )


def instance_card(row: rx.Var[InstanceRow], *, full: bool = True) -> rx.Component:
    actions = rx.hstack(
        rx.button(
            rx.icon("message-square-text", size=14),
            t("instances.messages"),
            size="1",
            variant="soft",
            on_click=InstancesState.show_messages(row.id, row.label),
        ),
        rx.button(
            rx.icon("shield-check", size=14),
            t("reputation.open"),
            size="1",
            variant="soft",
            on_click=ReputationState.show(row.id),
            class_name="instance-reputation",
        ),
        rx.cond(
            AuthState.can_manage,
            rx.cond(
                row.status == "connected",
                rx.fragment(
                    rx.button(
                        rx.icon("power", size=14),
                        t("instances.stop"),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=InstancesState.stop(row.id),
                    ),
                    rx.cond(  # still paired, but its server cannot keep it: pair it on another one
                        row.server_leaving,
                        rx.button(
                            rx.icon("arrow-right-left", size=14),
                            t("instances.move"),
                            size="1",
                            variant="soft",
                            on_click=InstancesState.reconnect(row.id, row.label),
                            class_name="instance-move",
                        ),
                    ),
                ),
                rx.button(
                    rx.icon("refresh-cw", size=14),
                    rx.cond(row.paired, t("instances.reconnect"), t("instances.connect_again")),
                    size="1",
                    variant="soft",
                    on_click=InstancesState.reconnect(row.id, row.label),
                    class_name="instance-connect",
                ),
            ),
        ),
        rx.cond(
            AuthState.can_manage & full,
            rx.button(
                rx.icon("trash-2", size=14),
                t("instances.delete"),
                size="1",
                variant="ghost",
                color_scheme="red",
                on_click=NumberDeleteState.ask_delete(row.id),
                class_name="instance-delete",
            ),
        ),
        wrap="wrap",
        spacing="2",
    )
    persona = rx.cond(
        AuthState.can_manage & full,
        rx.el.select(
            rx.el.option(t("instances.no_persona"), value=""),
            rx.foreach(InstancesState.personas, lambda option: rx.el.option(option.label, value=option.value)),
            value=row.persona_id,
            on_change=lambda v: InstancesState.set_persona(row.id, v),
            class_name="native-select native-select-sm instance-persona",
            aria_label=t("instances.persona"),
        ),
        rx.text(row.persona, size="2"),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                _rename(row),
                rx.spacer(),
                status_badge(row.status, row.status_label),
                width="100%",
                align="center",
            ),
            rx.flex(  # wraps at phone width: the persona picker goes under the number instead of overflowing
                rx.hstack(
                    rx.icon("phone", size=14), rx.text(row.wa_number, size="2", class_name="mono"), align="center"
                ),
                rx.hstack(rx.icon("drama", size=14), persona, align="center", min_width="0", max_width="100%"),
                align="center",
                justify="between",
                wrap="wrap",
                gap="2",
                width="100%",
            ),
            server_line(row),
            reputation_badge(row.reputation, row.band, row.band_label),
            proxy_line(row, full=full),
            restriction_notice(row),
            rx.hstack(
                stat("totals.card_today", row.messages_today),
                stat("totals.card_week", row.messages_7d),
                stat("instances.latency", row.latency),
                stat("instances.last_seen", row.last_seen),
                spacing="5",
                wrap="wrap",
            ),
            rx.hstack(
                rx.icon("flame", size=14),
                rx.text(row.warmup, size="1", color_scheme="gray", class_name="instance-warmup"),
                align="center",
            ),
            rx.cond(
                row.reason != "",
                rx.callout(
                    row.reason,
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                    class_name="instance-reason",
                ),
            ),
            actions,
            spacing="3",
            width="100%",
        ),
        class_name="instance-card",
        min_width="0",
        data_status=row.status,
        id="instance-" + row.id,
    )


def instances_grid(full: bool = True) -> rx.Component:
    return rx.cond(
        InstancesState.rows.length() > 0,
        rx.grid(
            rx.foreach(InstancesState.rows, lambda r: instance_card(r, full=full)),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="4",
            width="100%",
            id="instance-grid",
        ),
        rx.cond(
            InstancesState.loaded,
            empty_state("smartphone", "instances.empty_title", "instances.empty_hint"),
            rx.center(rx.spinner(size="3"), padding="4em"),
        ),
    )


def connect_button() -> rx.Component:
    return rx.cond(
        AuthState.can_manage,
        rx.button(
            rx.icon("plus", size=16),
            t("instances.connect"),
            on_click=InstancesState.open_new,
            id="connect-number",
            size="2",
        ),
    )


def _archived_row(row: rx.Var[ArchivedRow]) -> rx.Component:
    return rx.hstack(
        rx.icon("archive", size=14),
        rx.text(row.label, size="2", weight="medium"),
        rx.text(row.wa_number, size="2", class_name="mono", color_scheme="gray"),
        rx.text(t("instances.archived_on"), " ", row.archived_at, size="1", color_scheme="gray"),
        rx.text(row.messages, size="1", color_scheme="gray"),
        rx.button(
            rx.icon("message-square-text", size=14),
            t("instances.messages"),
            size="1",
            variant="ghost",
            on_click=InstancesState.show_messages(row.id, row.label),
        ),
        align="center",
        spacing="3",
        wrap="wrap",
        class_name="archived-number",
    )


def archived_section() -> rx.Component:
    """Archived numbers stay readable (their history) but out of the live list."""
    return rx.cond(
        InstancesState.archived.length() > 0,
        rx.vstack(
            rx.button(
                rx.icon(rx.cond(InstancesState.show_archived, "chevron-down", "chevron-right"), size=14),
                t("instances.archived_title"),
                " (",
                InstancesState.archived.length(),
                ")",
                variant="ghost",
                size="2",
                on_click=InstancesState.toggle_archived,
                id="archived-toggle",
            ),
            rx.cond(
                InstancesState.show_archived,
                rx.card(
                    rx.vstack(rx.foreach(InstancesState.archived, _archived_row), spacing="2", width="100%"),
                    width="100%",
                    id="archived-list",
                ),
            ),
            spacing="2",
            width="100%",
        ),
    )


@app_page("/instances", "Instances", on_load=InstancesState.refresh)
def instances_page() -> rx.Component:
    return page_layout(
        "page.instances.title",
        "page.instances.subtitle",
        rx.vstack(
            rx.flex(emergency_switch(), connect_button(), justify="end", wrap="wrap", gap="3", width="100%"),
            instances_grid(),
            archived_section(),
            spacing="4",
            width="100%",
        ),
        connect_dialog(),
        messages_dialog(),
        reputation_dialog(),
        confirm_dialog(
            NumberDeleteState.confirm,
            NumberDeleteState.delete,
            NumberDeleteState.cancel_delete,
            "number-delete",
        ),
        live_refresh(),
    )

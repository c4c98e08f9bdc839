"""The Evolution servers tab: where the numbers live — health, capacity, drain and the admin's controls.

Everyone signed in sees the list (live, every few seconds); admins see the controls. Platform servers are shown
read-only: whoever runs Mirage manages them.
"""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.instances import status_badge
from mirage_app.components.layout import empty_state
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.auth import AuthState
from mirage_app.states.servers import ServerNumberRow, ServerRow, ServersState
from mirage_app.states.ui import t

LIVE_REFRESH_MS = 5000

HEALTH_COLORS = {
    "ok": "grass",
    "unknown": "gray",
    "unreachable": "red",
    "license_required": "orange",
    "unauthorized": "red",
    "not_evolution": "red",
}
HEALTH_ICONS = {
    "ok": "circle-check",
    "unknown": "circle-help",
    "unreachable": "wifi-off",
    "license_required": "badge-alert",
    "unauthorized": "key-round",
    "not_evolution": "circle-x",
}
STATE_COLORS = {"active": "grass", "draining": "amber", "disabled": "gray"}


def health_badge(health: rx.Var, label: rx.Var, **props) -> rx.Component:
    """The last probe's finding, with its own icon so that it reads apart from a WhatsApp status."""
    return rx.badge(
        rx.match(health, *[(h, rx.icon(icon, size=12)) for h, icon in HEALTH_ICONS.items()], rx.icon("server")),
        label,
        color_scheme=rx.match(health, *HEALTH_COLORS.items(), "gray"),
        variant="soft",
        **props,
    )


def _fact(label_key: str, value: rx.Var, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium", **props),
        spacing="0",
        min_width="0",
    )


def _capacity(row: rx.Var[ServerRow]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(t("settings.server_capacity"), size="1", color_scheme="gray"),
            rx.spacer(),
            rx.text(
                row.placed,
                " / ",
                row.capacity,
                size="2",
                weight="bold",
                class_name="server-usage mono",
            ),
            rx.text(t("settings.server_numbers"), size="1", color_scheme="gray"),
            width="100%",
            align="baseline",
            spacing="1",
        ),
        rx.progress(value=row.load_pct, max=100, color_scheme=row.load_color, size="2", width="100%"),
        spacing="1",
        width="100%",
    )


def _health_note(row: rx.Var[ServerRow]) -> rx.Component:
    """What a held server means, in words: licence, key, or simply down."""
    return rx.match(
        row.health,
        (
            "license_required",
            rx.callout(t("settings.server_license_hint"), icon="badge-alert", color_scheme="orange", size="1"),
        ),
        (
            "unreachable",
            rx.callout(t("settings.server_unreachable_hint"), icon="wifi-off", color_scheme="red", size="1"),
        ),
        (
            "unauthorized",
            rx.callout(t("settings.server_key_refused_hint"), icon="key-round", color_scheme="red", size="1"),
        ),
        (
            "not_evolution",
            rx.callout(t("settings.server_not_evolution_hint"), icon="circle-x", color_scheme="red", size="1"),
        ),
        rx.fragment(),
    )


def _number_line(n: rx.Var[ServerNumberRow]) -> rx.Component:
    return rx.hstack(
        rx.icon("smartphone", size=14),
        rx.link(n.label, href="/instances", size="2", weight="medium"),
        rx.text(n.wa_number, size="1", color_scheme="gray", class_name="mono"),
        rx.spacer(),
        status_badge(n.status, n.status_label),
        align="center",
        width="100%",
        wrap="wrap",
        class_name="server-number",
    )


def _numbers_left(row: rx.Var[ServerRow]) -> rx.Component:
    """A draining (or disabled) server lists what still has to move."""
    return rx.cond(
        row.state != "active",
        rx.box(
            rx.cond(
                row.numbers.length() > 0,
                rx.vstack(
                    rx.text(t("settings.server_draining_numbers"), size="1", color_scheme="gray"),
                    rx.foreach(row.numbers, _number_line),
                    spacing="1",
                    width="100%",
                ),
                rx.text(t("settings.server_no_numbers_left"), size="1", color_scheme="gray"),
            ),
            width="100%",
            padding="0.6em 0.75em",
            border_radius="8px",
            background="var(--amber-a2)",
            border="1px solid var(--amber-a5)",
            class_name="server-numbers",
        ),
    )


def _inline_editor(label_key: str, field: rx.Component, save: rx.Component, error, error_id: str, on_submit):
    """A one-field form inside a server card: label, field, Save / Cancel, the server's error under it."""
    return rx.form(
        rx.vstack(
            rx.text(t(label_key), size="2", weight="medium"),
            rx.hstack(
                field,
                save,
                rx.button(
                    t("common.cancel"),
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ServersState.cancel_edit,
                ),
                wrap="wrap",
            ),
            field_error(error, error_id),
            spacing="1",
            width="100%",
        ),
        on_submit=on_submit,
        width="100%",
    )


def _capacity_editor(row: rx.Var[ServerRow]) -> rx.Component:
    return _inline_editor(
        "settings.server_capacity",
        rx.input(
            name="capacity",
            type="number",
            default_value=row.capacity.to_string(),
            width="8em",
            id="server-capacity-input",
            auto_focus=True,
        ),
        rx.button(t("common.save"), type="submit", size="2", id="server-capacity-save"),
        ServersState.capacity_error,
        "server-capacity-error",
        ServersState.save_capacity,
    )


def _key_editor() -> rx.Component:
    return _inline_editor(
        "settings.server_new_key",
        rx.input(
            name="api_key",
            type="password",
            auto_complete="off",
            width="16em",
            max_width="100%",
            id="server-key-input",
            auto_focus=True,
        ),
        rx.button(
            rx.cond(ServersState.saving_key, rx.spinner(size="1")),
            t("common.save"),
            type="submit",
            disabled=ServersState.saving_key,
            id="server-key-save",
        ),
        ServersState.key_error,
        "server-key-error",
        ServersState.save_key,
    )


def _state_button(row: rx.Var[ServerRow], target: str, icon: str, label_key: str, color: str) -> rx.Component:
    return rx.cond(
        row.state != target,
        rx.button(
            rx.icon(icon, size=14),
            t(label_key),
            size="1",
            variant="soft",
            color_scheme=color,
            on_click=ServersState.set_state(row.id, target),
            class_name=f"server-set-{target}",
        ),
    )


def _actions(row: rx.Var[ServerRow]) -> rx.Component:
    probe = rx.button(
        rx.cond(ServersState.probing_id == row.id, rx.spinner(size="1"), rx.icon("activity", size=14)),
        t("settings.server_probe"),
        size="1",
        variant="soft",
        disabled=ServersState.probing_id != "",
        on_click=ServersState.probe(row.id),
        class_name="server-probe",
    )
    own = rx.fragment(
        _state_button(row, "active", "play", "settings.server_activate", "grass"),
        _state_button(row, "draining", "arrow-down-to-line", "settings.server_drain", "amber"),
        _state_button(row, "disabled", "circle-pause", "settings.server_disable", "gray"),
        rx.button(
            rx.icon("gauge", size=14),
            t("settings.server_edit_capacity"),
            size="1",
            variant="soft",
            on_click=ServersState.edit_capacity(row.id),
            class_name="server-edit-capacity",
        ),
        rx.button(
            rx.icon("key-round", size=14),
            t("settings.server_change_key"),
            size="1",
            variant="soft",
            on_click=ServersState.edit_key(row.id),
            class_name="server-change-key",
        ),
        rx.button(
            rx.icon("trash-2", size=14),
            t("settings.server_delete"),
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=ServersState.ask_delete(row.id),
            class_name="server-delete",
        ),
    )
    return rx.cond(
        AuthState.is_admin,
        rx.vstack(
            rx.hstack(probe, rx.cond(row.own, own), wrap="wrap", spacing="2"),
            rx.cond(ServersState.capacity_edit_id == row.id, _capacity_editor(row)),
            rx.cond(ServersState.key_edit_id == row.id, _key_editor()),
            spacing="3",
            width="100%",
        ),
    )


def server_card(row: rx.Var[ServerRow]) -> rx.Component:
    owner = rx.cond(
        row.own,
        rx.badge(t("settings.server_owner_tenant"), color_scheme="cyan", variant="outline"),
        rx.badge(t("settings.server_owner_platform"), color_scheme="gray", variant="outline"),
    )
    title = rx.hstack(
        rx.icon("server", size=18),
        rx.heading(row.name, size="4", class_name="server-name"),
        owner,
        rx.badge(
            row.state_label,
            color_scheme=rx.match(row.state, *STATE_COLORS.items(), "gray"),
            variant="surface",
            class_name="server-state",
        ),
        health_badge(row.health, row.health_label, class_name="server-health"),
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
    )
    facts = rx.grid(
        _fact("settings.server_latency", row.latency),
        _fact("settings.server_version", row.version),
        _fact("settings.server_last_probe", row.last_probe),
        _fact("settings.server_health_since", row.health_since),
        columns=rx.breakpoints(initial="2", md="4"),
        spacing="3",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            title,
            rx.text(row.base_url, size="1", color_scheme="gray", class_name="mono", word_break="break-all"),
            _capacity(row),
            facts,
            _health_note(row),
            rx.cond(
                row.last_error != "",
                rx.hstack(
                    rx.text(t("settings.server_last_error"), size="1", color_scheme="gray", flex_shrink="0"),
                    rx.code(row.last_error, size="1", color_scheme="red", word_break="break-all"),
                    spacing="2",
                    align="start",
                    width="100%",
                ),
            ),
            _numbers_left(row),
            _actions(row),
            spacing="3",
            width="100%",
        ),
        class_name="server-card",
        data_state=row.state,
        data_health=row.health,
        id="server-" + row.id,
        width="100%",
    )


def _add_input(field: str, label_key: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="2", weight="medium"),
        rx.input(name=field, id=f"server-add-{field}", width="100%", **props),
        field_error(getattr(ServersState.add_errors, field), f"server-add-{field}-error"),
        spacing="1",
        width="100%",
    )


def add_server_form() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.grid(
                _add_input("name", "settings.server_name", placeholder=t("settings.server_name_placeholder")),
                _add_input("base_url", "settings.server_url", placeholder="https://evolution.example.com"),
                _add_input("api_key", "settings.server_key", type="password", auto_complete="off"),
                _add_input("capacity", "settings.server_capacity", type="number", default_value="70"),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            field_error(ServersState.add_errors.form, "server-add-error"),
            rx.button(
                rx.cond(ServersState.adding, rx.spinner(size="2"), rx.icon("plus", size=16)),
                t("settings.server_add"),
                type="submit",
                disabled=ServersState.adding,
                id="server-add-submit",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=ServersState.add_server,
        width="100%",
        key=ServersState.add_form_version,  # a new form (empty, key gone) after each save
    )
    return rx.vstack(
        rx.heading(t("settings.server_add"), size="3"),
        rx.text(t("settings.server_add_hint"), size="2", color_scheme="gray"),
        form,
        spacing="2",
        width="100%",
        padding_top="0.5em",
        border_top="1px solid var(--gray-a5)",
        id="server-add",
    )


def servers_card() -> rx.Component:
    listing = rx.cond(
        ServersState.server_rows.length() > 0,
        rx.vstack(rx.foreach(ServersState.server_rows, server_card), spacing="3", width="100%", id="server-list"),
        rx.cond(
            ServersState.servers_loaded,
            empty_state("server", "settings.servers_empty_title", "settings.servers_empty_hint"),
            rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
        ),
    )
    return settings_card(
        "settings.servers",
        rx.text(t("settings.servers_hint"), size="2", color_scheme="gray"),
        listing,
        rx.cond(AuthState.is_admin, add_server_form()),
        confirm_dialog(ServersState.confirm, ServersState.delete, ServersState.cancel_delete, "server-delete"),
        rx.moment(interval=LIVE_REFRESH_MS, on_change=ServersState.refresh, display="none"),
        id="servers-card",
        width="100%",
    )

"""An Evolution server's card (owner, state, health, capacity, last probe), its probe / capacity / key controls and
the add-a-server form, shared by Settings → Servers (a tenant's view) and /platform (the platform's servers); each
page brings its own state and its own state / delete buttons."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.instances import status_badge
from mirage_app.states.servers import ServerNumberRow, ServerRow
from mirage_app.states.ui import t

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


def state_button(row: rx.Var[ServerRow], target: str, icon: str, label_key: str, color: str, set_state) -> rx.Component:
    """Move the server to `target` (`set_state(server_id, target)`, the page state's event); hidden once there."""
    return rx.cond(
        row.state != target,
        rx.button(
            rx.icon(icon, size=14),
            t(label_key),
            size="1",
            variant="soft",
            color_scheme=color,
            on_click=set_state(row.id, target),
            class_name=f"server-set-{target}",
        ),
    )


def _inline_editor(state, label_key: str, field: rx.Component, save: rx.Component, error, error_id: str, on_submit):
    """A one-field form inside a server card: label, field, Save / Cancel, the server's error under it."""
    return rx.form(
        rx.vstack(
            rx.text(t(label_key), size="2", weight="medium"),
            rx.hstack(
                field,
                save,
                rx.button(
                    t("common.cancel"), type="button", variant="soft", color_scheme="gray", on_click=state.cancel_edit
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


def _capacity_editor(state, row: rx.Var[ServerRow]) -> rx.Component:
    return _inline_editor(
        state,
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
        state.capacity_error,
        "server-capacity-error",
        state.save_capacity,
    )


def _key_editor(state) -> rx.Component:
    return _inline_editor(
        state,
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
            rx.cond(state.saving_key, rx.spinner(size="1")),
            t("common.save"),
            type="submit",
            disabled=state.saving_key,
            id="server-key-save",
        ),
        state.key_error,
        "server-key-error",
        state.save_key,
    )


def edit_buttons(state, row: rx.Var[ServerRow]) -> rx.Component:
    """Open the capacity or the key editor on this server."""
    return rx.fragment(
        rx.button(
            rx.icon("gauge", size=14),
            t("settings.server_edit_capacity"),
            size="1",
            variant="soft",
            on_click=state.edit_capacity(row.id),
            class_name="server-edit-capacity",
        ),
        rx.button(
            rx.icon("key-round", size=14),
            t("settings.server_change_key"),
            size="1",
            variant="soft",
            on_click=state.edit_key(row.id),
            class_name="server-change-key",
        ),
    )


def delete_button(on_click) -> rx.Component:
    """Ask to delete the server (`on_click` opens the page's confirmation dialog)."""
    return rx.button(
        rx.icon("trash-2", size=14),
        t("settings.server_delete"),
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=on_click,
        class_name="server-delete",
    )


def server_controls(state, row: rx.Var[ServerRow], buttons: rx.Component) -> rx.Component:
    """Probe now, the page's `buttons`, and the capacity / key editor when open on this server; `state` mixes in
    `states.servers.ServerEditors`."""
    probe = rx.button(
        rx.cond(state.probing_id == row.id, rx.spinner(size="1"), rx.icon("activity", size=14)),
        t("settings.server_probe"),
        size="1",
        variant="soft",
        disabled=state.probing_id != "",
        on_click=state.probe(row.id),
        class_name="server-probe",
    )
    return rx.vstack(
        rx.hstack(probe, buttons, wrap="wrap", spacing="2"),
        rx.cond(state.capacity_edit_id == row.id, _capacity_editor(state, row)),
        rx.cond(state.key_edit_id == row.id, _key_editor(state)),
        spacing="3",
        width="100%",
    )


def server_card(row: rx.Var[ServerRow], actions: rx.Component, numbers_left: bool = True) -> rx.Component:
    """One server: owner, state, health, capacity, the last probe; `actions` are the page's controls.
    `numbers_left`: a draining server lists the tenant's numbers still on it (not on /platform, across tenants)."""
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
            *([_numbers_left(row)] if numbers_left else []),
            actions,
            spacing="3",
            width="100%",
        ),
        class_name="server-card",
        data_state=row.state,
        data_health=row.health,
        id="server-" + row.id,
        width="100%",
    )


def _add_input(state, prefix: str, field: str, label_key: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="2", weight="medium"),
        rx.input(name=field, id=f"{prefix}-{field}", width="100%", **props),
        field_error(getattr(state.add_errors, field), f"{prefix}-{field}-error"),
        spacing="1",
        width="100%",
    )


def add_server_form(state, on_submit, prefix: str = "server-add") -> rx.Component:
    """The add form of a state mixing in `AddServerForm`; element ids start with `prefix`."""
    form = rx.form(
        rx.vstack(
            rx.grid(
                _add_input(
                    state, prefix, "name", "settings.server_name", placeholder=t("settings.server_name_placeholder")
                ),
                _add_input(
                    state, prefix, "base_url", "settings.server_url", placeholder="https://evolution.example.com"
                ),
                _add_input(state, prefix, "api_key", "settings.server_key", type="password", auto_complete="off"),
                _add_input(state, prefix, "capacity", "settings.server_capacity", type="number", default_value="70"),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            field_error(state.add_errors.form, f"{prefix}-error"),
            rx.button(
                rx.cond(state.adding, rx.spinner(size="2"), rx.icon("plus", size=16)),
                t("settings.server_add"),
                type="submit",
                disabled=state.adding,
                id=f"{prefix}-submit",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=on_submit,
        width="100%",
        key=state.add_form_version,  # a new form (empty, key gone) after each save
    )
    return rx.vstack(
        rx.heading(t("settings.server_add"), size="3"),
        rx.text(t("settings.server_add_hint"), size="2", color_scheme="gray"),
        form,
        spacing="2",
        width="100%",
        padding_top="0.5em",
        border_top="1px solid var(--gray-a5)",
        id=prefix,
    )

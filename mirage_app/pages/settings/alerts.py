"""Settings → Alerts: the alert channels (webhook, e-mail, WhatsApp), a test button each, the last deliveries."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.layout import empty_state
from mirage_app.components.notice import notice
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.alerts import STATUS_COLORS, ChannelRow, DeliveryRow, FormErrors
from mirage_app.states.alerts import AlertsState as State
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t

LIVE_REFRESH_MS = 5000
KINDS = ("webhook", "email", "whatsapp")
TLS_MODES = ("starttls", "ssl", "none")


def _box(prefix: str, name: str, label_key: str, errors: rx.Var, *, default: rx.Var | str = "", **props):
    return rx.vstack(
        rx.text(t(label_key), size="2", weight="medium"),
        rx.input(name=name, id=f"{prefix}-{name}", default_value=default, width="100%", **props),
        field_error(getattr(errors, name), f"{prefix}-{name}-error"),
        spacing="1",
        width="100%",
    )


def _tls(prefix: str, errors: rx.Var, default: rx.Var | str) -> rx.Component:
    return rx.vstack(
        rx.text(t("alerts.tls"), size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(id=f"{prefix}-tls", width="100%"),
            rx.select.content(*[rx.select.item(t(f"alerts.tls.{mode}"), value=mode) for mode in TLS_MODES]),
            name="tls",
            default_value=default,
        ),
        field_error(errors.tls, f"{prefix}-tls-error"),
        spacing="1",
        width="100%",
    )


def channel_fields(prefix: str, kind: rx.Var, errors: rx.Var[FormErrors], row: rx.Var[ChannelRow] | None = None):
    """The boxes of one kind of channel; `row` fills them in to edit a channel (passwords are never filled in)."""

    def value(field: str, fallback: str = "") -> rx.Var | str:
        return getattr(row, field) if row is not None else fallback

    email = rx.grid(
        _box(prefix, "host", "alerts.host", errors, default=value("host"), placeholder="smtp.example.com"),
        _box(prefix, "port", "alerts.port", errors, default=value("port", "587"), type="number"),
        _tls(prefix, errors, value("tls", "starttls")),
        _box(prefix, "user", "alerts.user", errors, default=value("user"), auto_complete="off"),
        _box(
            prefix,
            "password",
            "alerts.password",
            errors,
            type="password",
            auto_complete="new-password",
            placeholder=t("alerts.password_keep") if row is not None else "",
        ),
        _box(prefix, "sender", "alerts.from", errors, default=value("sender"), placeholder="mirage@example.com"),
        _box(
            prefix,
            "recipients",
            "alerts.to",
            errors,
            default=value("recipients"),
            placeholder="ana@example.com, bruno@example.com",
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="3",
        width="100%",
    )
    return rx.match(
        kind,
        ("webhook", _box(prefix, "url", "alerts.url", errors, default=value("url"), placeholder="https://")),
        ("email", email),
        _box(prefix, "phone", "alerts.phone", errors, default=value("phone"), placeholder="+55 11 98765-4321"),
    )


def add_form() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.grid(
                rx.vstack(
                    rx.text(t("alerts.kind"), size="2", weight="medium"),
                    rx.select.root(
                        rx.select.trigger(id="alert-add-kind", width="100%"),
                        rx.select.content(*[rx.select.item(t(f"alerts.kind.{k}"), value=k) for k in KINDS]),
                        value=State.new_kind,
                        on_change=State.set_new_kind,
                    ),
                    spacing="1",
                    width="100%",
                ),
                _box("alert-add", "name", "alerts.name", State.add_errors),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            channel_fields("alert-add", State.new_kind, State.add_errors),
            field_error(State.add_errors.form, "alert-add-error"),
            rx.button(
                rx.cond(State.adding, rx.spinner(size="2"), rx.icon("plus", size=16)),
                t("alerts.add"),
                type="submit",
                disabled=State.adding,
                id="alert-add-submit",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=State.add_channel,
        width="100%",
        key=State.add_form_version.to_string() + State.new_kind,
    )
    return rx.vstack(
        rx.heading(t("alerts.add"), size="3"),
        form,
        spacing="2",
        width="100%",
        padding_top="0.5em",
        border_top="1px solid var(--gray-a5)",
        id="alert-add",
    )


def _editor(row: rx.Var[ChannelRow]) -> rx.Component:
    return rx.form(
        rx.vstack(
            _box("alert-edit", "name", "alerts.name", State.edit_errors, default=row.name),
            channel_fields("alert-edit", row.kind, State.edit_errors, row),
            rx.hstack(
                rx.checkbox(t("alerts.enabled"), name="enabled", default_checked=row.enabled, id="alert-edit-enabled"),
                align="center",
            ),
            field_error(State.edit_errors.form, "alert-edit-error"),
            rx.hstack(
                rx.button(t("alerts.save"), type="submit", size="2", id="alert-edit-save"),
                rx.button(
                    t("alerts.cancel"),
                    type="button",
                    size="2",
                    variant="soft",
                    color_scheme="gray",
                    on_click=State.cancel_edit,
                ),
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=State.save_edit,
        width="100%",
    )


def _admin_buttons(row: rx.Var[ChannelRow]) -> rx.Component:
    test = rx.button(
        rx.cond(State.testing_id == row.id, rx.spinner(size="1"), rx.icon("send", size=14)),
        t("alerts.test"),
        size="1",
        variant="soft",
        disabled=State.testing_id != "",
        on_click=State.send_test(row.id),
        class_name="alert-test",
    )
    edit = rx.button(
        rx.icon("pencil", size=14),
        t("alerts.edit"),
        size="1",
        variant="soft",
        on_click=State.edit(row.id),
        class_name="alert-edit",
    )
    remove = rx.cond(
        State.remove_id == row.id,
        rx.button(
            rx.icon("trash-2", size=14),
            t("alerts.delete") + "?",
            size="1",
            color_scheme="red",
            on_click=State.remove(row.id),
            class_name="alert-remove-confirm",
        ),
        rx.button(
            rx.icon("trash-2", size=14),
            t("alerts.delete"),
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=State.ask_remove(row.id),
            class_name="alert-remove",
        ),
    )
    return rx.hstack(test, edit, remove, wrap="wrap", spacing="2")


def channel_card(row: rx.Var[ChannelRow]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.match(
                    row.kind,
                    ("webhook", rx.icon("webhook", size=18)),
                    ("email", rx.icon("mail", size=18)),
                    rx.icon("message-circle", size=18),
                ),
                rx.heading(row.name, size="3", class_name="alert-name"),
                rx.badge(row.kind_label, variant="surface"),
                rx.cond(
                    row.enabled,
                    rx.badge(t("alerts.enabled"), color_scheme="grass"),
                    rx.badge(t("alerts.disabled"), color_scheme="gray"),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.text(row.target, size="1", color_scheme="gray", class_name="mono", word_break="break-all"),
            rx.cond(AuthState.is_admin, _admin_buttons(row)),
            rx.cond(State.edit_id == row.id, _editor(row)),
            spacing="2",
            width="100%",
        ),
        class_name="alert-channel",
        data_kind=row.kind,
        id="alert-channel-" + row.id,
        width="100%",
    )


def _delivery(row: rx.Var[DeliveryRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.at, white_space="nowrap"),
        rx.table.cell(row.channel),
        rx.table.cell(row.event),
        rx.table.cell(
            rx.badge(row.status_label, color_scheme=rx.match(row.status, *STATUS_COLORS.items(), "gray")),
            class_name="alert-delivery-status",
            data_status=row.status,
        ),
        rx.table.cell(row.attempt),
        rx.table.cell(rx.text(row.outcome, size="1", word_break="break-all")),
        class_name="alert-delivery",
    )


def deliveries() -> rx.Component:
    columns = ("alerts.col.at", "alerts.col.channel", "alerts.col.event", "alerts.col.status", "alerts.col.attempt", "")
    return rx.vstack(
        rx.heading(t("alerts.deliveries"), size="3"),
        rx.cond(
            State.delivery_rows.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(k) if k else "") for k in columns])),
                    rx.table.body(rx.foreach(State.delivery_rows, _delivery)),
                    width="100%",
                    id="alert-deliveries",
                ),
                class_name="table-scroll",
                width="100%",
            ),
            rx.text(t("alerts.deliveries_empty"), size="2", color_scheme="gray", id="alert-deliveries-empty"),
        ),
        spacing="2",
        width="100%",
    )


def alerts_card() -> rx.Component:
    listing = rx.cond(
        State.channel_rows.length() > 0,
        rx.vstack(rx.foreach(State.channel_rows, channel_card), spacing="3", width="100%", id="alert-channels"),
        rx.cond(
            State.alerts_loaded,
            empty_state("bell-off", "alerts.card", "alerts.empty"),
            rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
        ),
    )
    secret = rx.cond(
        State.new_secret != "",
        notice(
            "key",
            rx.vstack(
                rx.text(t("alerts.secret_once")),
                rx.code(State.new_secret, id="alert-new-secret", word_break="break-all"),
            ),
            color="amber",
            width="100%",
        ),
    )
    return settings_card(
        "alerts.card",
        rx.text(t("alerts.hint"), size="2", color_scheme="gray"),
        secret,
        listing,
        rx.cond(
            AuthState.is_admin,
            add_form(),
            notice("lock", rx.text(t("alerts.admins_only")), color="gray", class_name="admins-only"),
        ),
        deliveries(),
        rx.moment(interval=LIVE_REFRESH_MS, on_change=State.refresh, display="none"),
        id="alerts-card",
        width="100%",
    )

"""The number safety tab: the proxy pool (each number's WhatsApp session goes out through one) and the monthly
allowance of unanswered first messages. Everyone sees both; admins change them."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.layout import empty_state
from mirage_app.logic.proxies import PROTOCOLS
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.auth import AuthState
from mirage_app.states.proxies import ProxiesState, ProxyRow
from mirage_app.states.ui import t


def _test_badge(row: rx.Var[ProxyRow]) -> rx.Component:
    return rx.match(
        row.test_ok,
        ("ok", rx.badge(rx.icon("circle-check", size=12), t("safety.proxy_ok"), color_scheme="grass", variant="soft")),
        (
            "failed",
            rx.badge(rx.icon("circle-x", size=12), t("safety.proxy_failing"), color_scheme="red", variant="soft"),
        ),
        rx.badge(rx.icon("circle-help", size=12), t("safety.proxy_untested"), color_scheme="gray", variant="soft"),
    )


def _proxy_card(row: rx.Var[ProxyRow]) -> rx.Component:
    admin_actions = rx.hstack(
        rx.button(
            rx.cond(ProxiesState.testing_proxy_id == row.id, rx.spinner(size="1"), rx.icon("activity", size=14)),
            t("safety.proxy_test"),
            size="1",
            variant="soft",
            disabled=ProxiesState.testing_proxy_id != "",
            on_click=ProxiesState.test_proxy(row.id),
            class_name="proxy-test",
        ),
        rx.button(
            rx.icon("trash-2", size=14),
            t("safety.proxy_delete"),
            size="1",
            variant="ghost",
            color_scheme="red",
            on_click=ProxiesState.ask_delete(row.id),
            class_name="proxy-delete",
        ),
        spacing="2",
        wrap="wrap",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("network", size=16),
                rx.text(row.label, weight="bold", size="3", class_name="proxy-label"),
                rx.spacer(),
                _test_badge(row),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.text(row.address, size="1", color_scheme="gray", class_name="mono", word_break="break-all"),
            rx.hstack(
                rx.text(t("safety.proxy_numbers"), size="1", color_scheme="gray"),
                rx.text(row.usage, size="2", weight="medium", class_name="proxy-usage mono"),
                rx.cond(
                    row.username != "",
                    rx.text(t("safety.proxy_user"), " ", row.username, size="1", color_scheme="gray"),
                ),
                rx.cond(
                    row.has_password,
                    rx.badge(
                        rx.icon("lock", size=10), t("safety.proxy_password_set"), variant="outline", color_scheme="gray"
                    ),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                row.tested != "",
                rx.text(t("safety.proxy_tested"), " ", row.tested, size="1", color_scheme="gray"),
            ),
            rx.cond(
                row.test_error != "",
                rx.code(row.test_error, size="1", color_scheme="red", word_break="break-all"),
            ),
            rx.cond(
                ~row.evolution_supported,
                rx.callout(t("safety.proxy_protocol_note"), icon="triangle-alert", color_scheme="amber", size="1"),
            ),
            rx.cond(AuthState.is_admin, admin_actions),
            spacing="2",
            width="100%",
        ),
        class_name="proxy-card",
        data_test=row.test_ok,
        id="proxy-" + row.id,
        width="100%",
    )


def _input(field: str, label_key: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="2", weight="medium"),
        rx.input(name=field, id=f"proxy-add-{field}", width="100%", **props),
        field_error(getattr(ProxiesState.proxy_errors, field), f"proxy-add-{field}-error"),
        spacing="1",
        width="100%",
    )


def _protocol_input() -> rx.Component:
    return rx.vstack(
        rx.text(t("safety.proxy_protocol"), size="2", weight="medium"),
        rx.el.select(
            *[rx.el.option(p, value=p) for p in PROTOCOLS],
            name="protocol",
            default_value="http",
            id="proxy-add-protocol",
            class_name="native-select",
        ),
        field_error(ProxiesState.proxy_errors.protocol, "proxy-add-protocol-error"),
        spacing="1",
        width="100%",
    )


def _add_form() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.grid(
                _input("label", "safety.proxy_label", placeholder=t("safety.proxy_label_placeholder")),
                _input("host", "safety.proxy_host", placeholder="203.0.113.10"),
                _input("port", "safety.proxy_port", type="number", placeholder="8080"),
                _protocol_input(),
                _input("username", "safety.proxy_username", auto_complete="off"),
                _input("password", "safety.proxy_password", type="password", auto_complete="new-password"),
                _input("max_numbers", "safety.proxy_max_numbers", type="number", default_value="3"),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            field_error(ProxiesState.proxy_errors.form, "proxy-add-error"),
            rx.button(
                rx.cond(ProxiesState.adding_proxy, rx.spinner(size="2"), rx.icon("plus", size=16)),
                t("safety.proxy_add"),
                type="submit",
                disabled=ProxiesState.adding_proxy,
                id="proxy-add-submit",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=ProxiesState.add_proxy,
        width="100%",
        key=ProxiesState.proxy_form_version,
    )
    return rx.vstack(
        rx.heading(t("safety.proxy_add"), size="3"),
        form,
        spacing="2",
        width="100%",
        padding_top="0.5em",
        border_top="1px solid var(--gray-a5)",
        id="proxy-add",
    )


def proxies_card() -> rx.Component:
    listing = rx.cond(
        ProxiesState.proxy_rows.length() > 0,
        rx.grid(
            rx.foreach(ProxiesState.proxy_rows, _proxy_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
            id="proxy-list",
        ),
        rx.cond(
            ProxiesState.proxies_loaded,
            empty_state("network", "safety.proxies_empty_title", "safety.proxies_empty_hint"),
            rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
        ),
    )
    return settings_card(
        "safety.proxies",
        rx.text(t("safety.proxies_hint"), size="2", color_scheme="gray"),
        listing,
        rx.cond(AuthState.is_admin, _add_form()),
        confirm_dialog(ProxiesState.confirm, ProxiesState.delete, ProxiesState.cancel_delete, "proxy-delete"),
        id="proxies-card",
        width="100%",
    )


def allowance_card() -> rx.Component:
    return settings_card(
        "safety.allowance",
        rx.text(t("safety.allowance_hint"), size="2", color_scheme="gray"),
        rx.text(ProxiesState.allowance_text, size="2", weight="medium", id="allowance-use"),
        rx.cond(
            AuthState.is_admin,
            rx.form(
                rx.hstack(
                    rx.input(
                        name="allowance",
                        type="number",
                        default_value=ProxiesState.allowance.to_string(),
                        key=ProxiesState.allowance,
                        id="allowance-input",
                        width="10em",
                    ),
                    rx.button(rx.icon("save", size=14), t("common.save"), type="submit", id="allowance-save"),
                    spacing="2",
                    align="center",
                ),
                on_submit=ProxiesState.save_allowance,
            ),
        ),
        field_error(ProxiesState.allowance_error, "allowance-error"),
        id="allowance-card",
        width="100%",
    )

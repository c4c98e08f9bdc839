"""The safety lines of a number card: its proxy (a picker for those who manage numbers) with a badge when it does
not answer, and a restriction on contacting new people, with its end and whether it was inferred."""

from __future__ import annotations

import reflex as rx

from mirage_app.states.auth import AuthState
from mirage_app.states.instances import InstancesState
from mirage_app.states.ui import t


def _proxy_picker(row: rx.Var) -> rx.Component:
    return rx.el.select(
        rx.el.option(t("safety.no_proxy"), value=""),
        rx.foreach(InstancesState.proxy_options, lambda option: rx.el.option(option.label, value=option.value)),
        value=row.proxy_id,
        on_change=lambda v: InstancesState.set_proxy(row.id, v),
        class_name="native-select native-select-sm instance-proxy",
        aria_label=t("safety.number_proxy"),
    )


def proxy_line(row: rx.Var, *, full: bool = True) -> rx.Component:
    shown = rx.text(rx.cond(row.proxy_label != "", row.proxy_label, t("safety.no_proxy")), size="1",
                    color_scheme="gray", class_name="instance-proxy-label")  # fmt: skip
    return rx.cond(
        (InstancesState.proxy_options.length() > 0) | (row.proxy_id != ""),
        rx.hstack(
            rx.icon("network", size=14),
            rx.cond(AuthState.can_manage & full, _proxy_picker(row), shown),
            rx.cond(
                row.proxy_down,
                rx.tooltip(
                    rx.badge(
                        rx.icon("unplug", size=12),
                        t("safety.proxy_down_badge"),
                        color_scheme="red",
                        variant="outline",
                        class_name="proxy-down-badge",
                    ),
                    content=t("safety.proxy_down_hint"),
                ),
            ),
            align="center",
            spacing="2",
            wrap="wrap",
            min_width="0",
        ),
    )


def restriction_notice(row: rx.Var) -> rx.Component:
    return rx.cond(
        row.restricted_text != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("user-x", size=16)),
            rx.vstack(
                rx.text(row.restricted_text, size="2", weight="medium", class_name="instance-restricted"),
                rx.text(row.restriction_note, size="1", color_scheme="gray"),
                spacing="1",
            ),
            color_scheme="orange",
            size="1",
            width="100%",
            class_name="instance-restriction",
        ),
    )

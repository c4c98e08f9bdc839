"""The phase rules card: per action, the first warm-up day it is allowed and whether it is off. The tenant's
settings and a conversation's settings tab show it; on a conversation an empty day is "the tenant's"."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.field_errors import outline
from mirage_app.states.action_rules import ActionRulesState, RuleRow
from mirage_app.states.ui import UiState, t


def _row(row: rx.Var[RuleRow], editable: rx.Var[bool]) -> rx.Component:
    conversation = ActionRulesState.scope == "conversation"
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(UiState.tr["action." + row.action], size="2", weight="medium"),
                rx.text(UiState.tr["action." + row.action + ".help"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.input(
                value=row.day,
                type="number",
                min=1,
                max=365,
                width="6rem",
                on_change=lambda v: ActionRulesState.set_day(row.action, v),
                disabled=~editable,
                placeholder=row.base_day,  # a conversation's empty day follows the tenant's (the hint says so)
                aria_label=UiState.tr["action." + row.action] + " · " + t("rules.first_day"),
                custom_attrs={"data-action": row.action},
                **outline(ActionRulesState.error_field, "min_day." + row.action, "rule-day"),
            )
        ),
        rx.table.cell(
            rx.cond(
                conversation & ~ActionRulesState.own_off,
                rx.badge(
                    rx.cond(row.base_off, t("rules.off_badge"), t("rules.on_badge")),
                    color_scheme=rx.cond(row.base_off, "red", "grass"),
                    variant="soft",
                ),
                rx.switch(
                    checked=~row.off,
                    on_change=lambda v: ActionRulesState.set_allowed(row.action, v),
                    disabled=~editable,
                    aria_label=UiState.tr["action." + row.action] + " · " + t("rules.allowed"),
                    class_name="rule-allowed",
                    custom_attrs={"data-action": row.action},
                ),
            )
        ),
    )


def action_rules_card(editable: rx.Var[bool]) -> rx.Component:
    """`editable`: who may change this level (admins for the tenant, operators for a conversation); the server
    checks again."""
    conversation = ActionRulesState.scope == "conversation"
    return rx.card(
        rx.vstack(
            rx.heading(t("rules.title"), size="3"),
            rx.text(
                rx.cond(conversation, t("rules.hint_conversation"), t("rules.hint_tenant")),
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                conversation,
                rx.hstack(
                    rx.switch(
                        checked=~ActionRulesState.own_off,
                        on_change=ActionRulesState.set_follow_tenant,
                        disabled=~editable,
                        id="rules-follow-tenant",
                    ),
                    rx.text(t("rules.follow_tenant_off"), size="2"),
                    align="center",
                ),
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(t("rules.action")),
                            rx.table.column_header_cell(t("rules.first_day")),
                            rx.table.column_header_cell(t("rules.allowed")),
                        )
                    ),
                    rx.table.body(rx.foreach(ActionRulesState.rows, lambda r: _row(r, editable))),
                    size="1",
                    width="100%",
                ),
                class_name="table-scroll",
            ),
            field_error(ActionRulesState.error, "rules-error"),
            rx.cond(editable, rx.button(t("common.save"), on_click=ActionRulesState.save, id="rules-save")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="action-rules",
    )

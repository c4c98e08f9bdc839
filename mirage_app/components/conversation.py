"""Header, tabs and live feed shared by the four `/conversations/[id]/…` pages."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.layout import page_layout
from mirage_app.states.auth import AuthState
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t

TABS = [
    ("settings", "conversations.tab.settings", "sliders-horizontal"),
    ("schedule", "conversations.tab.schedule", "calendar-clock"),
    ("participants", "conversations.tab.participants", "users"),
    ("topics", "conversations.tab.topics", "lightbulb"),
]


def _tabs(current: str) -> rx.Component:
    return rx.hstack(
        *[
            rx.link(
                rx.hstack(rx.icon(icon, size=15), rx.text(t(key), size="2"), align="center", spacing="2"),
                href="/conversations/" + ConversationState.conversation_id + "/" + tab,
                underline="none",
                class_name="tab-link tab-link-active" if tab == current else "tab-link",
            )
            for tab, key, icon in TABS
        ],
        spacing="1",
        wrap="wrap",
    )


def live_feed() -> rx.Component:
    message = lambda m: rx.hstack(  # noqa: E731
        rx.text(m.at, size="1", color_scheme="gray", class_name="mono", white_space="nowrap"),
        rx.vstack(
            rx.text(rx.text.strong(m.sender), " → ", m.recipient, " · ", m.phase, size="1", color_scheme="gray"),
            rx.text(m.body, size="2"),
            spacing="0",
        ),
        rx.spacer(),
        rx.badge(m.status, size="1", variant="soft"),
        width="100%",
        align="start",
    )
    round_row = lambda r: rx.hstack(  # noqa: E731
        rx.badge(
            r.state,
            size="1",
            color_scheme=rx.match(r.state, ("running", "cyan"), ("done", "grass"), ("aborted", "red"), "gray"),
        ),
        rx.text(r.speakers, size="1"),
        rx.spacer(),
        rx.text(r.turns, size="1", class_name="mono"),
        rx.text(r.started, size="1", color_scheme="gray"),
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.box(class_name="dot dot-ok"), rx.text(t("conversations.live"), weight="medium"), align="center"
            ),
            rx.cond(
                ConversationState.rounds.length() > 0,
                rx.vstack(rx.foreach(ConversationState.rounds, round_row), width="100%", spacing="1"),
                rx.text(t("conversations.no_rounds"), size="2", color_scheme="gray"),
            ),
            rx.separator(),
            rx.cond(
                ConversationState.feed.length() > 0,
                rx.scroll_area(
                    rx.vstack(rx.foreach(ConversationState.feed, message), spacing="2", width="100%"),
                    max_height="420px",
                    id="live-feed",
                ),
                rx.text(t("conversations.no_messages"), size="2", color_scheme="gray"),
            ),
            rx.moment(interval=3000, on_change=ConversationState.refresh_live, display="none"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def conversation_page(current: str, title_key: str, *body: rx.Component) -> rx.Component:
    header = rx.hstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), rx.text(t("nav.conversations"), size="2")),
            href="/conversations",
            underline="none",
        ),
        rx.heading(ConversationState.name, size="5", id="conversation-name"),
        rx.badge(ConversationState.mode, variant="outline"),
        rx.spacer(),
        rx.text(t("conversations.active"), size="2"),
        rx.switch(
            checked=ConversationState.active,
            on_change=ConversationState.toggle_active,
            disabled=~AuthState.can_manage,
            id="conversation-active",
        ),
        align="center",
        width="100%",
        wrap="wrap",
    )
    return page_layout(
        title_key,
        None,
        rx.cond(
            ConversationState.found,
            rx.vstack(
                header,
                _tabs(current),
                rx.grid(
                    rx.box(*body, width="100%"),
                    live_feed(),
                    columns=rx.breakpoints(initial="1", lg="3fr 2fr"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            rx.callout(t("conversations.not_found"), icon="circle-x", color_scheme="red"),
        ),
    )

"""Header, tabs and live feed shared by the four `/conversations/[id]/…` pages, and the confirmation text of this
area's deletes."""

from __future__ import annotations

from dataclasses import replace

import reflex as rx

from mirage_app.base.impact import Impact
from mirage_app.components.controls import read_only_notice
from mirage_app.components.layout import page_layout
from mirage_app.components.message_bubble import message_content, reactions
from mirage_app.i18n import formats
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmView, confirm_view
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t

TABS = [
    ("settings", "conversations.tab.settings", "sliders-horizontal"),
    ("schedule", "conversations.tab.schedule", "calendar-clock"),
    ("participants", "conversations.tab.participants", "users"),
    ("topics", "conversations.tab.topics", "lightbulb"),
]
ROUND_COLOURS = (("running", "cyan"), ("done", "grass"), ("aborted", "red"), "gray")
MESSAGE_COLOURS = (("failed", "red"), ("read", "grass"), ("delivered", "grass"), ("queued", "amber"), "gray")


def impact_view(tr: dict[str, str], impact: Impact, target_id: str, verb: str = "delete") -> ConfirmView:
    """The shared dialog, with this area's sentences for its dependents (counts read "38 messages stay…")."""
    lines = [tr["conversations.impact.archive"]] if impact.archive else []
    for d in impact.dependents:
        key = f"conversations.impact.{d.kind}.{d.effect.value}"
        text = formats.count(tr, key, int(d.name)) if d.name.isdigit() else tr.get(key, "{name}").format(name=d.name)
        lines.append(text)
    return replace(confirm_view(tr, impact, target_id, verb), lines=lines or [tr["conversations.impact.nothing"]])


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
            rx.text(
                rx.text.strong(m.sender, class_name="speaker"),
                " → ",
                m.recipient,
                rx.cond(m.phase != "", rx.fragment(" · ", m.phase)),
                size="1",
                color_scheme="gray",
            ),
            message_content(m),  # the phones wrote it: shown as text
            reactions(m),
            rx.cond(m.wait != "", rx.text(m.wait, size="1", color_scheme="amber", class_name="wait-reason")),
            spacing="1",
            min_width="0",
        ),
        rx.spacer(),
        rx.badge(m.status_label, size="1", variant="soft", color_scheme=rx.match(m.status, *MESSAGE_COLOURS)),
        width="100%",
        align="start",
        class_name="message-item",
        custom_attrs={"data-kind": m.kind},
    )
    round_row = lambda r: rx.hstack(  # noqa: E731
        rx.badge(r.state_label, size="1", color_scheme=rx.match(r.state, *ROUND_COLOURS)),
        rx.text(r.speakers, size="1"),
        rx.spacer(),
        rx.text(r.turns, size="1", class_name="mono"),
        rx.text(r.started, size="1", color_scheme="gray", white_space="nowrap"),
        width="100%",
        class_name="round-row",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.box(class_name="dot dot-ok"),
                rx.text(t("conversations.live"), weight="medium"),
                align="center",
                width="100%",
            ),
            rx.cond(
                ConversationState.rounds.length() > 0,
                rx.vstack(rx.foreach(ConversationState.rounds, round_row), width="100%", spacing="1", id="live-rounds"),
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
        id="live-panel",
    )


def conversation_page(current: str, title_key: str, *body: rx.Component, wide: bool = False) -> rx.Component:
    """`wide` pages (the schedule grid) put the live panel under the body: side by side, both were squeezed."""
    header = rx.hstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), rx.text(t("nav.conversations"), size="2")),
            href="/conversations",
            underline="none",
        ),
        rx.heading(ConversationState.name, size="5", id="conversation-name"),
        rx.badge(ConversationState.mode_label, variant="outline", id="conversation-mode-badge"),
        rx.cond(ConversationState.archived, rx.badge(t("conversations.archived_badge"), color_scheme="gray")),
        rx.cond(
            ConversationState.group_line != "",
            rx.badge(
                rx.icon("users", size=12),
                ConversationState.group_line,
                variant="soft",
                color_scheme=rx.match(
                    ConversationState.group_state, ("active", "grass"), ("failed", "red"), ("pending", "amber"), "gray"
                ),
                id="conversation-group",
                custom_attrs={"data-user-content": "group"},
            ),
        ),
        rx.spacer(),
        rx.text(t("conversations.active"), size="2"),
        rx.switch(
            checked=ConversationState.active,
            on_change=ConversationState.toggle_active,
            disabled=~AuthState.can_manage | ConversationState.archived,
            id="conversation-active",
        ),
        align="center",
        width="100%",
        wrap="wrap",
    )
    columns = rx.breakpoints(initial="1", lg="minmax(0, 3fr) minmax(0, 2fr)") if not wide else "1"
    return page_layout(
        title_key,
        None,
        rx.cond(
            ConversationState.found,
            rx.vstack(
                header,
                _tabs(current),
                read_only_notice(AuthState.can_manage, "conversations.readonly", "readonly-notice"),
                rx.grid(
                    rx.box(*body, width="100%", min_width="0"),
                    live_feed(),
                    columns=columns,
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            rx.callout(t("conversations.not_found"), icon="circle-x", color_scheme="red"),
        ),
    )

"""What a message shows, by kind (states.bubbles.Bubble): text, voice note player, picture, sticker, location and
contact cards, a status post; with the quote box above it, the "edited" mark and the reactions on it.

Everything the phones wrote is rendered as text (`data-user-content`), never as markup.
"""

from __future__ import annotations

import reflex as rx

from mirage_app.states.bubbles import Bubble
from mirage_app.states.ui import t

USER = {"data-user-content": "message"}


def _text(m: rx.Var[Bubble]) -> rx.Component:
    return rx.cond(m.body != "", rx.text(m.body, size="2", custom_attrs=USER, class_name="msg-text"))


def _voice(m: rx.Var[Bubble]) -> rx.Component:
    return rx.cond(
        m.media_url != "",
        rx.hstack(
            rx.el.audio(
                src=m.media_url,
                controls=True,
                preload="none",
                class_name="voice-player",
                custom_attrs={"aria-label": t("messages.voice")},
            ),
            rx.cond(
                m.duration != "", rx.text(m.duration, size="1", color_scheme="gray", class_name="mono voice-length")
            ),
            align="center",
            spacing="2",
        ),
        rx.text(t("messages.file_gone"), size="1", color_scheme="gray"),
    )


def _picture(m: rx.Var[Bubble]) -> rx.Component:
    return rx.vstack(
        rx.cond(
            m.media_url != "",
            rx.link(
                rx.image(src=m.media_url, alt=t("messages.picture"), class_name="msg-thumb", loading="lazy"),
                href=m.media_url,
                is_external=True,
                title=t("messages.open_full"),
            ),
            rx.text(t("messages.file_gone"), size="1", color_scheme="gray"),
        ),
        _text(m),
        spacing="1",
    )


def _sticker(m: rx.Var[Bubble]) -> rx.Component:
    return rx.cond(
        m.media_url != "",
        rx.image(src=m.media_url, alt=t("messages.sticker"), class_name="msg-sticker", loading="lazy"),
        rx.text(t("messages.file_gone"), size="1", color_scheme="gray"),
    )


def _location(m: rx.Var[Bubble]) -> rx.Component:
    return rx.hstack(
        rx.icon("map-pin", size=18, color="var(--red-9)"),
        rx.vstack(
            rx.text(
                rx.cond(m.place != "", m.place, t("messages.location")), size="2", weight="medium", custom_attrs=USER
            ),
            rx.cond(m.address != "", rx.text(m.address, size="1", color_scheme="gray", custom_attrs=USER)),
            spacing="0",
        ),
        class_name="msg-card",
        align="start",
        spacing="2",
    )


def _contact(m: rx.Var[Bubble]) -> rx.Component:
    return rx.hstack(
        rx.icon("contact", size=18),
        rx.vstack(
            rx.text(m.card_name, size="2", weight="medium", custom_attrs=USER),
            rx.text(m.card_phone, size="1", color_scheme="gray", class_name="mono", custom_attrs=USER),
            spacing="0",
        ),
        class_name="msg-card",
        align="start",
        spacing="2",
    )


def _status(m: rx.Var[Bubble]) -> rx.Component:
    return rx.vstack(
        rx.badge(rx.icon("circle-dashed", size=12), t("messages.status_post"), size="1", variant="soft"),
        rx.cond(m.media_url != "", _picture(m), _text(m)),
        spacing="1",
        class_name="msg-status",
    )


def message_content(m: rx.Var[Bubble]) -> rx.Component:
    """The body of one message, by kind, with the quote above and the "edited" mark after."""
    return rx.vstack(
        rx.cond(m.quote != "", rx.box(rx.text(m.quote, size="1", custom_attrs=USER), class_name="quote-box")),
        rx.match(
            m.kind,
            ("voice", _voice(m)),
            ("image", _picture(m)),
            ("sticker", _sticker(m)),
            ("location", _location(m)),
            ("contact", _contact(m)),
            ("status", _status(m)),
            rx.hstack(
                rx.text(rx.cond(m.body != "", m.body, "…"), size="2", custom_attrs=USER, class_name="msg-text"),
                rx.cond(
                    m.edited, rx.text(t("messages.edited"), size="1", color_scheme="gray", class_name="edited-mark")
                ),
                align="end",
                spacing="2",
                wrap="wrap",
            ),
        ),
        spacing="1",
        min_width="0",
    )


def reactions(m: rx.Var[Bubble]) -> rx.Component:
    """The emojis on a message, as a small badge under it (a reaction taken back is gone)."""
    return rx.cond(
        m.reactions.length() > 0,
        rx.hstack(
            rx.foreach(m.reactions, lambda e: rx.text(e, as_="span", custom_attrs=USER)),
            class_name="reaction-badge",
            spacing="1",
        ),
    )


def speaker(m: rx.Var[Bubble]) -> rx.Component:
    """Who spoke, on each bubble of a group message."""
    return rx.cond(m.in_group, rx.text(m.sender, size="1", weight="bold", class_name="speaker", custom_attrs=USER))


def chat_bubble(m: rx.Var[Bubble], footer: rx.Component) -> rx.Component:
    """A number's history: in and out bubbles; a sticker stands alone, without a bubble."""
    return rx.vstack(
        rx.box(
            speaker(m),
            message_content(m),
            footer,
            class_name=rx.cond(
                m.kind == "sticker",
                rx.cond(m.outgoing, "sticker-alone bubble-out-side", "sticker-alone bubble-in-side"),
                rx.cond(m.outgoing, "bubble bubble-out", "bubble bubble-in"),
            ),
        ),
        reactions(m),
        spacing="0",
        align=rx.cond(m.outgoing, "end", "start"),
        width="100%",
        class_name="message-item",
        custom_attrs={"data-kind": m.kind},
    )

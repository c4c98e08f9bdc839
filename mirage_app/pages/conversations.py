"""Route `/conversations`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/conversations", "Conversations")
def conversations_page() -> rx.Component:
    return page_layout("page.conversations.title", "page.conversations.subtitle", empty_state("messages-square"))

"""Route `/conversations`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/conversations", title="Conversations · Mirage")
def conversations_page() -> rx.Component:
    return page_layout("page.conversations.title", "page.conversations.subtitle", empty_state("messages-square"))

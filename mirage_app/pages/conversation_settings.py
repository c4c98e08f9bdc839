"""Route `/conversations/[id]/settings`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/conversations/[id]/settings", title="Conversation settings · Mirage")
def conversation_settings_page() -> rx.Component:
    return page_layout("page.conversation_settings.title", None, empty_state("sliders-horizontal"))

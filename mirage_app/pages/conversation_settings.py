"""Route `/conversations/[id]/settings`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/conversations/[id]/settings", "Conversation settings")
def conversation_settings_page() -> rx.Component:
    return page_layout("page.conversation_settings.title", None, empty_state("sliders-horizontal"))

"""Route `/conversations/[id]/topics`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/conversations/[id]/topics", "Topics")
def conversation_topics_page() -> rx.Component:
    return page_layout("page.conversation_topics.title", None, empty_state("lightbulb"))

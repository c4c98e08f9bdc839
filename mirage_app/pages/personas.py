"""Route `/personas`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/personas", "Personas")
def personas_page() -> rx.Component:
    return page_layout("page.personas.title", "page.personas.subtitle", empty_state("drama"))

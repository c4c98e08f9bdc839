"""Route `/personas`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/personas", title="Personas · Mirage")
def personas_page() -> rx.Component:
    return page_layout("page.personas.title", "page.personas.subtitle", empty_state("drama"))

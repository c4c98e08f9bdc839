"""Route `/`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/", "Mirage")
def overview_page() -> rx.Component:
    return page_layout("page.overview.title", "page.overview.subtitle", empty_state("layout-dashboard"))

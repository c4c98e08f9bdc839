"""Route `/outreach/targets`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/outreach/targets", "Outreach targets")
def outreach_targets_page() -> rx.Component:
    return page_layout("page.targets.title", "page.targets.subtitle", empty_state("target"))

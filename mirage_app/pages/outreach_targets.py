"""Route `/outreach/targets`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/outreach/targets", title="Outreach targets · Mirage")
def outreach_targets_page() -> rx.Component:
    return page_layout("page.targets.title", "page.targets.subtitle", empty_state("target"))

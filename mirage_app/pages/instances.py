"""Route `/instances`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/instances", title="Instances · Mirage")
def instances_page() -> rx.Component:
    return page_layout("page.instances.title", "page.instances.subtitle", empty_state("smartphone"))

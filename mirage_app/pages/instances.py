"""Route `/instances`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/instances", "Instances")
def instances_page() -> rx.Component:
    return page_layout("page.instances.title", "page.instances.subtitle", empty_state("smartphone"))

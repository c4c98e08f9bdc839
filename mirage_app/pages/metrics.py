"""Route `/metrics`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/metrics", title="Metrics · Mirage")
def metrics_page() -> rx.Component:
    return page_layout("page.metrics.title", "page.metrics.subtitle", empty_state("chart-line"))

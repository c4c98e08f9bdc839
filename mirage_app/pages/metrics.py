"""Route `/metrics`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/metrics", "Metrics")
def metrics_page() -> rx.Component:
    return page_layout("page.metrics.title", "page.metrics.subtitle", empty_state("chart-line"))

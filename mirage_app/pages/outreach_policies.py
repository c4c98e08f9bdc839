"""Route `/outreach/policies`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/outreach/policies", "Outreach policies")
def outreach_policies_page() -> rx.Component:
    return page_layout("page.policies.title", "page.policies.subtitle", empty_state("shield-check"))

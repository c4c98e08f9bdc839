"""Route `/outreach/policies`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/outreach/policies", title="Outreach policies · Mirage")
def outreach_policies_page() -> rx.Component:
    return page_layout("page.policies.title", "page.policies.subtitle", empty_state("shield-check"))

"""Route `/audit`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/audit", title="Audit log · Mirage")
def audit_page() -> rx.Component:
    return page_layout("page.audit.title", "page.audit.subtitle", empty_state("scroll-text"))

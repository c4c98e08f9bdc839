"""Route `/contacts`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/contacts", title="Contacts · Mirage")
def contacts_page() -> rx.Component:
    return page_layout("page.contacts.title", "page.contacts.subtitle", empty_state("contact"))

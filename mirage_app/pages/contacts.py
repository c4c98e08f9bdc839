"""Route `/contacts`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/contacts", "Contacts")
def contacts_page() -> rx.Component:
    return page_layout("page.contacts.title", "page.contacts.subtitle", empty_state("contact"))

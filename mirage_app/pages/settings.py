"""Route `/settings`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/settings", title="Settings · Mirage")
def settings_page() -> rx.Component:
    return page_layout("page.settings.title", "page.settings.subtitle", empty_state("settings"))

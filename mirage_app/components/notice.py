"""A callout whose body may hold any layout: `rx.callout(child)` wraps its child in a <p>, which must not contain
block elements or other paragraphs (React reports it as a hydration error)."""

from __future__ import annotations

import reflex as rx


def notice(icon: str, *children: rx.Component, color: str = "cyan", **props) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon(icon)),
        rx.box(*children, width="100%"),
        color_scheme=color,
        **props,
    )

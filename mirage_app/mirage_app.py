"""The Reflex application: pages, theme, and the `/api` FastAPI app in front of Reflex's own routes."""

import reflex as rx

import mirage_app.pages  # noqa: F401  (registers every route)
from mirage_app.api.app import api

app = rx.App(
    stylesheets=["/styles.css"],
    api_transformer=api,
    head_components=[rx.el.meta(name="color-scheme", content="dark")],
)

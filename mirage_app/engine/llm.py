"""Which LLM the engine answers with, as the UI names it. Apart from the client (`llm_client`) because it asks the
runtime, which itself builds the client."""

from __future__ import annotations

from mirage_app.engine.llm_client import OFFLINE
from mirage_app.engine.runtime import runtime


def reply_source() -> str:
    """Label for the UI: "offline" or "openai:<host>" (e.g. "openai:api.openai.com", "openai:localhost:11434")."""
    client = runtime().llm_client()
    return client.label if client is not None else OFFLINE

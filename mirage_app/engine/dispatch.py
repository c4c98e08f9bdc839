"""Where a message one of our numbers received goes (the `on_message` job and the inbox drains).

- A warming message, between two of the tenant's own numbers, is a turn of a round: `rounds.on_message`, and
  nothing of outreach ever looks at it.
- A message from a contact goes to the opt-out check and the outreach exchange first
  (`outreach_exchange.handle_inbound_from_contact`); what outreach does not consume (no exchange with that
  number) may still be a contact's turn in a round with a human participant.

The webhook route and the send pipeline know which kind a message is and say so (`from_contact`); a job that
does not know (None) has it looked up.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import outreach_exchange, rounds

_FROM_CONTACT = text("SELECT direction = 'in' FROM messages WHERE id = :id")


def on_message(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str, from_contact: bool | None = None) -> str:
    """Route one received message; returns what became of it (for logs and tests)."""
    if from_contact is None:
        from_contact = _is_from_contact(tenant_id, message_id)
    if from_contact:
        outcome = outreach_exchange.handle_inbound_from_contact(tenant_id, message_id)
        if outcome.consumed:
            return f"outreach:{outcome.state}"
    return rounds.on_message(tenant_id, message_id).state


def _is_from_contact(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> bool:
    """Inbound rows are a contact's; a message between our own numbers is stored as the sender's outbound row."""
    with tenant_session(uuid.UUID(str(tenant_id))) as s:
        return bool(s.execute(_FROM_CONTACT, {"id": uuid.UUID(str(message_id))}).scalar())

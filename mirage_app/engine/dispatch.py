"""Where a message one of our numbers received goes (the `on_message` job and the inbox drains).

- A warming message, between two of the tenant's own numbers, is a turn of a round: `rounds.on_message`, and
  nothing of outreach ever looks at it.
- A message from a contact goes to the opt-out check and the outreach exchange first
  (`outreach_exchange.handle_inbound_from_contact`); what outreach does not consume (no exchange with that
  number) may still be a contact's turn in a round with a human participant.

The webhook route and the send pipeline know which kind a message is and say so (`from_contact`).
"""

from __future__ import annotations

import uuid

from mirage_app.engine import outreach_exchange, rounds


def on_message(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str, from_contact: bool | None = None) -> str:
    """Route one received message; returns what became of it (for logs and tests). `from_contact=False` (a
    message between our own numbers) skips outreach; unknown (None) lets the exchange look, which answers "not
    inbound" from the row it reads anyway."""
    if from_contact is not False:
        outcome = outreach_exchange.handle_inbound_from_contact(tenant_id, message_id)
        if outcome.consumed:
            return f"outreach:{outcome.state}"
    return rounds.on_message(tenant_id, message_id).state

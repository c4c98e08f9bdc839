"""What the policy and target commands share."""

from __future__ import annotations

import uuid
from typing import Any

from mirage_app.base.errors import NotFound
from mirage_app.models import TargetStatus

TARGET_STATUSES = tuple(s.value for s in TargetStatus)


def parse_id(value: Any, code: str, field_name: str | None = None) -> uuid.UUID:
    """`value` as a UUID; anything else is a 404 with `code` (an id that cannot exist is not found)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise NotFound(code, field=field_name) from None

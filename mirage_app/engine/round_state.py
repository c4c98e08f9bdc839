"""Round bookkeeping shared by the send pipeline, turn-taking and the scheduler (all inside the caller's
tenant transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text

DONE = "done"
# Pairings follow the participants' start order (the scheduler walks them in this order, and so do the pages).
PAIRING_ORDER = (
    "(SELECT min(x.start_order) FROM conversation_participants x WHERE x.conversation_id = p.conversation_id "
    "AND x.number_id = p.number_a_id), (SELECT min(x.start_order) FROM conversation_participants x "
    "WHERE x.conversation_id = p.conversation_id AND x.number_id = p.number_b_id), p.id"
)


def advance(s, round_id: uuid.UUID, turn: int, now: datetime) -> bool:
    """Turn `turn` (0-based) went out: count it; end the round after its last planned turn. True when it ended."""
    row = s.execute(
        text(
            "UPDATE rounds SET turns_done = GREATEST(turns_done, :done) WHERE id = :r AND state = 'running' "
            "RETURNING turns_done, planned_turns, conversation_id"
        ),
        {"r": round_id, "done": turn + 1},
    ).first()
    if row is None or row.turns_done < row.planned_turns:
        return False
    s.execute(
        text("UPDATE rounds SET state = 'done', ended_at = :now, end_reason = :reason WHERE id = :r"),
        {"r": round_id, "now": now, "reason": DONE},
    )
    # The tick decides what comes next (the pause, or the next window); let it look now.
    s.execute(
        text("UPDATE conversations SET next_due_at = :now WHERE id = :c AND active"),
        {"c": row.conversation_id, "now": now},
    )
    return True


def abort(s, round_id: uuid.UUID, reason: str, now: datetime, keep_message: uuid.UUID | None = None) -> bool:
    """Abort a planned/running round: its unsent turns fail with `round_aborted`. True when it was still open."""
    row = s.execute(
        text(
            "UPDATE rounds SET state = 'aborted', ended_at = :now, end_reason = :reason "
            "WHERE id = :r AND state IN ('planned', 'running') RETURNING conversation_id"
        ),
        {"r": round_id, "now": now, "reason": reason[:60]},
    ).first()
    if row is None:
        return False
    s.execute(
        text(
            "UPDATE messages SET status = 'failed', error = 'round_aborted', send_after = NULL, wait_reason = NULL, "
            "updated_at = :now WHERE round_id = :r AND status = 'queued' AND dispatched_at IS NULL "
            "AND id IS DISTINCT FROM :keep"
        ),
        {"r": round_id, "now": now, "keep": keep_message},
    )
    s.execute(
        text("UPDATE conversations SET next_due_at = :now WHERE id = :c AND active"),
        {"c": row.conversation_id, "now": now},
    )
    return True

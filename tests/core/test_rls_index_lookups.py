"""Hot look-ups stay index look-ups under row-level security (alembic 0007).

PostgreSQL applies a table's policy before any condition built on a function that is not LEAKPROOF (jsonb's `->>`
and `?` are not), so such a condition cannot be an index condition: it becomes a filter over every row of the
tenant. These plans are taken as the application role, inside a tenant transaction, with sequential scans off so
that the index is the planner's only way in; the key column must appear in the index condition.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session

LOOKUPS = {
    "round turn by send key": ("SELECT id FROM messages WHERE send_key = :k", {"k": "r:1"}, "send_key"),
    "outreach exchange by target": (
        "SELECT max(created_at) FROM messages WHERE outreach_target_id = :t",
        {"t": uuid.uuid4()},
        "outreach_target_id",
    ),
}


@pytest.mark.parametrize("name", LOOKUPS)
def test_lookup_uses_the_key_in_its_index_condition(tenant_a, name):
    sql, params, column = LOOKUPS[name]
    with tenant_session(tenant_a) as s:
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(s.execute(text(f"EXPLAIN {sql}"), params).scalars())
    index_conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert any(column in line for line in index_conditions), plan


def test_the_old_jsonb_lookup_could_not(tenant_a):
    """What 0007 fixed, so the test above keeps its meaning: the same key read through `meta->>` is only a filter."""
    with tenant_session(tenant_a) as s:
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            s.execute(text("EXPLAIN SELECT id FROM messages WHERE meta->>'send_key' = :k"), {"k": "r:1"}).scalars()
        )
    assert not any("send_key" in line for line in plan.splitlines() if "Index Cond" in line), plan


def test_generated_keys_follow_meta(tenant_a):
    target = uuid.uuid4()
    with tenant_session(tenant_a) as s:
        row = s.execute(
            text(
                "INSERT INTO messages (tenant_id, direction, body, status, meta) VALUES (:t, 'out', 'x', 'queued', "
                "CAST(:meta AS jsonb)) RETURNING send_key, outreach_target_id"
            ),
            {"t": tenant_a, "meta": f'{{"send_key": "k-1", "outreach_target_id": "{target}"}}'},
        ).one()
        s.rollback()
    assert row.send_key == "k-1" and row.outreach_target_id == target

"""Statistics for the dashboards, read from the tenant-filtered views over the materialized views."""

from __future__ import annotations

from sqlalchemy import text

from mirage_app.core.db import system_session


def refresh_materialized_views(concurrently: bool = True) -> None:
    with system_session() as s:
        s.execute(text("SELECT mirage_refresh_stats(:c)"), {"c": concurrently})
        s.commit()

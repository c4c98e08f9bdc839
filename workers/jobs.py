"""RQ job entry points. Each is a thin call into a service; the logic lives in mirage_app.services."""

from __future__ import annotations


def refresh_metrics() -> None:
    from mirage_app.services.metrics import refresh_materialized_views

    refresh_materialized_views()

"""RqDeferrer over real Redis: a delayed job is never released before its time."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from rq.registry import ScheduledJobRegistry

from mirage_app.core.redis import get_redis, queue
from mirage_app.engine.runtime import SEND_QUEUE, RqDeferrer


def test_a_delayed_job_is_scored_at_the_next_whole_second_not_the_previous(services):
    get_redis().flushdb()
    when = datetime.now(UTC).replace(microsecond=700_000) + timedelta(seconds=30)
    RqDeferrer().enqueue_at(when, "workers.jobs.send_message", "t", "m", job_id="send-m-early-check", queue=SEND_QUEUE)
    registry = ScheduledJobRegistry(queue=queue(SEND_QUEUE))
    score = get_redis().zscore(registry.key, "send-m-early-check")
    # RQ drops the fraction (it would release the job 0.7 s early); the deferrer rounds up instead.
    assert score == math.ceil(when.timestamp()) and score >= when.timestamp()

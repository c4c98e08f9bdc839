"""Redis connections and the RQ queues."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from rq import Queue

from mirage_app.core.config import get_settings

QUEUE_NAMES = ("high", "default", "low")
SCHEDULER_HEARTBEAT_KEY = "mirage:scheduler:heartbeat"  # written by the leading scheduler, read by health checks
# A running `mirage worker` refreshes its key every WORKER_HEARTBEAT_S; the key outlives WORKER_ALIVE_BEATS missed
# beats, so a killed worker leaves the health check within 30 s (RQ itself lists it until its TTL, about 8 minutes).
WORKER_HEARTBEAT_S = 10.0
WORKER_ALIVE_BEATS = 3


def worker_alive_key(worker_name: str) -> str:
    return f"mirage:worker:alive:{worker_name}"


@lru_cache
def get_redis() -> Redis:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not set and the embedded Redis is not running")
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=30)


def queue(name: str = "default") -> Queue:
    return Queue(name, connection=get_redis())


def reset_redis() -> None:
    if get_redis.cache_info().currsize:
        get_redis().close()
    get_redis.cache_clear()

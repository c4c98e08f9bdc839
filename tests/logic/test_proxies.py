"""Proxy assignment and what Evolution 2.3.7 accepts (pure)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.proxies import PoolEntry, evolution_protocol, field_errors, pick

entries = st.lists(
    st.builds(
        PoolEntry,
        id=st.uuids(),
        max_numbers=st.integers(min_value=1, max_value=5),
        assigned=st.integers(min_value=0, max_value=6),
        healthy=st.booleans(),
        order=st.integers(min_value=0, max_value=100),
    ),
    max_size=8,
)


@given(entries)
def test_pick_is_a_healthy_proxy_with_room_or_none(pool):
    chosen = pick(pool)
    eligible = [p for p in pool if p.healthy and p.assigned < p.max_numbers]
    if not eligible:
        assert chosen is None
    else:
        entry = next(p for p in pool if p.id == chosen)
        assert entry.healthy and entry.assigned < entry.max_numbers
        assert entry.max_numbers - entry.assigned == max(p.max_numbers - p.assigned for p in eligible)


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=20))
def test_filling_a_pool_never_passes_any_limit(proxies, numbers):
    pool = [PoolEntry(uuid.uuid4(), 3, 0, True, i) for i in range(proxies)]
    for _ in range(numbers):
        chosen = pick(pool)
        if chosen is None:
            break
        pool = [PoolEntry(p.id, p.max_numbers, p.assigned + (p.id == chosen), True, p.order) for p in pool]
    assert all(p.assigned <= p.max_numbers for p in pool)
    assert sum(p.assigned for p in pool) == min(numbers, 3 * proxies)
    assert max(p.assigned for p in pool) - min(p.assigned for p in pool) <= 1  # filled evenly


def test_evolution_takes_only_http_and_socks5():
    assert [evolution_protocol(p) for p in ("http", "https", "socks4", "socks5")] == ["http", None, None, "socks5"]


def test_field_errors_name_each_bad_field():
    assert field_errors("proxy.example.net", 8080, "http", 3) == {}
    assert field_errors("10.0.0.7", 1, "socks5", 50) == {}
    assert set(field_errors("bad host!", 0, "ftp", 0)) == {"host", "port", "protocol", "max_numbers"}
    assert set(field_errors("", None, "http", None)) == {"host", "port", "max_numbers"}

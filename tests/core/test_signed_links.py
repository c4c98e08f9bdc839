"""Signed links to one library file (a picture status): the URL Evolution can fetch, and what makes a link valid."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from mirage_app.core import signed_links


@pytest.mark.parametrize(
    ("public_url", "base"),
    [
        ("https://mirage.example.com/", "https://mirage.example.com"),
        ("http://localhost:8000", "http://127.0.0.1:8000"),
        ("http://localhost", "http://127.0.0.1"),
        ("http://10.0.0.5:3000", "http://10.0.0.5:3000"),
    ],
)
def test_the_base_evolution_can_fetch(public_url, base):
    assert signed_links.fetchable_base(public_url) == base


def test_a_link_is_valid_for_its_file_and_time_only():
    tenant, asset, now = uuid.uuid4(), uuid.uuid4(), datetime(2026, 12, 6, 12, tzinfo=UTC)
    link = urlsplit(signed_links.file_link(tenant, asset, now, public_url="https://mirage.example.com"))
    assert link.path == f"/api/media/{asset}/shared"
    query = dict(parse_qsl(link.query))
    expires, signature = int(query["expires"]), query["signature"]
    assert signed_links.link_valid(tenant, asset, expires, signature, now)
    assert signed_links.link_valid(tenant, asset, expires, signature, now + signed_links.LINK_TTL)
    assert not signed_links.link_valid(tenant, asset, expires, signature, now + signed_links.LINK_TTL + timedelta(1))
    assert not signed_links.link_valid(tenant, uuid.uuid4(), expires, signature, now)
    assert not signed_links.link_valid(uuid.uuid4(), asset, expires, signature, now)
    assert not signed_links.link_valid(tenant, asset, expires + 1, signature, now)

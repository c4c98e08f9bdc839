"""The client joins each route to its server's base URL once (evolution.client.absolute_url), exactly as httpx would
join it on every request."""

from __future__ import annotations

import httpx
import pytest

from mirage_app.evolution.client import absolute_url

PATHS = ["/message/sendText/inst%20a", "/chat/whatsappNumbers/with space", "/instance/fetchInstances", "/x?y=1"]


@pytest.mark.parametrize("base", ["http://127.0.0.1:8081", "https://evo.example/api", "https://evo.example/api/"])
@pytest.mark.parametrize("path", PATHS)
def test_the_cached_join_is_httpx_own(base, path):
    client = httpx.Client(base_url=base.rstrip("/"))
    assert absolute_url(client.base_url, path) == client.build_request("GET", path).url

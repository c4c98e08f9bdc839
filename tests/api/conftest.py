"""Fixtures for the HTTP API: a client that signs its requests with a fresh admin API key."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from mirage_app.api.app import api
from mirage_app.base.permissions import Actor
from mirage_app.models import UserRole
from mirage_app.services import api_keys


def api_client(tenant) -> TestClient:
    """The API as a script with an admin's key for `tenant` sees it."""
    admin = Actor(tenant_id=tenant, role=UserRole.admin, label="admin@test", mfa_enabled=True)
    _, key = api_keys.create_key(admin, f"script-{uuid.uuid4().hex[:6]}")
    return TestClient(api, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def http(tenant_a) -> TestClient:
    return api_client(tenant_a)

"""Wrong API keys are throttled per client address (issue 14, finding 7): over the budget an address gets 429
`rate_limited` with Retry-After, while a good key from another address keeps working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from mirage_app.api.app import api
from mirage_app.base.errors import AuthFailed, Throttled
from mirage_app.services import api_keys
from mirage_app.services.throttle import API_KEY_POLICY
from tests.api.conftest import api_client

WRONG = "Bearer mrg_aaaaaaaa_" + "x" * 40


def _from(ip: str, authorization: str) -> TestClient:
    return TestClient(api, client=(ip, 40000), headers={"Authorization": authorization})


def test_thirty_wrong_keys_end_in_429_and_another_address_is_unaffected(tenant_a, new_ip):
    guesser, script = new_ip(), new_ip()
    statuses = [_from(guesser, WRONG).get("/api/me").status_code for _ in range(30)]
    assert statuses[: API_KEY_POLICY.ip_max_failures] == [401] * API_KEY_POLICY.ip_max_failures
    assert set(statuses[API_KEY_POLICY.ip_max_failures :]) == {429}

    refused = _from(guesser, WRONG).get("/api/me")
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert set(refused.json()) == {"error", "detail"} and 1 <= int(refused.headers["Retry-After"]) <= 60

    good = api_client(tenant_a).headers["Authorization"]
    assert _from(script, good).get("/api/me").status_code == 200
    assert _from(guesser, good).get("/api/me").status_code == 429  # the guessing address is refused whatever it sends


def test_good_keys_do_not_spend_the_budget(tenant_a, new_ip):
    ip, good = new_ip(), api_client(tenant_a).headers["Authorization"]
    for _ in range(API_KEY_POLICY.ip_max_failures + 5):
        assert _from(ip, good).get("/api/me").status_code == 200


def test_the_budget_returns_when_the_window_moves_on(tenant_a, new_ip, clock):
    ip = new_ip()
    for _ in range(API_KEY_POLICY.ip_max_failures):
        with pytest.raises(AuthFailed):
            api_keys.authenticate("mrg_aaaaaaaa_" + "y" * 40, ip, clock=clock)
    with pytest.raises(Throttled) as refused:
        api_keys.authenticate("mrg_aaaaaaaa_" + "y" * 40, ip, clock=clock)
    assert refused.value.code == "rate_limited" and refused.value.retry_after <= 60
    clock.advance(API_KEY_POLICY.ip_window + timedelta(seconds=1))
    with pytest.raises(AuthFailed):  # counted again from zero: a plain 401
        api_keys.authenticate("mrg_aaaaaaaa_" + "y" * 40, ip, clock=clock)

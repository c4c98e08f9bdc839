"""`/api/openapi.json` describes every operation, so clients can be written (or generated) from it alone.

The checks walk FastAPI's own routes, so a new route fails here until it documents its success body (or its 204),
the `{error, detail}` body of each failure it can answer with, and an example of its request body. A last test pins
the JSON the response models write, which must stay what the API has always answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from mirage_app.api.app import api
from mirage_app.api.deps import api_actor
from mirage_app.api.schemas.contacts import Contact
from mirage_app.api.schemas.instances import Instance
from mirage_app.api.schemas.outreach import Policy, Target
from mirage_app.services.contacts import ContactView
from mirage_app.services.instances import InstanceView
from mirage_app.services.outreach import PolicyView, TargetView

ERROR_BODY = "#/components/schemas/ErrorBody"
# Failures whose body is not `{error, detail}` on purpose: a failed health check still answers the full report.
OTHER_ERROR_BODIES = {("GET", "/api/health", "503"): "#/components/schemas/HealthReport"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return api.openapi()


def _uses_api_key(dependant) -> bool:
    return any(d.call is api_actor or _uses_api_key(d) for d in dependant.dependencies)


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, APIRoute, dict[str, Any]]]:
    """(name, route, its OpenAPI operation) for every route in the document (included routers unfolded)."""
    count = 0
    for context in iter_route_contexts(api.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(context.methods):
                count += 1
                yield f"{method} {context.path_format}", route, doc["paths"][context.path_format][method.lower()]
    assert count == sum(len(ops) for ops in doc["paths"].values()), "some operations were not checked"
    assert count >= 29, f"only {count} operations found: the routes were not all read"


def _schema(doc: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    ref = ref_or_schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def _has_example(doc: dict[str, Any], media: dict[str, Any]) -> bool:
    schema = _schema(doc, media.get("schema", {}))
    return bool(media.get("example") or media.get("examples") or schema.get("examples"))


def test_openapi_json_is_served(doc):
    response = TestClient(api).get("/api/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    served = response.json()
    assert served["paths"].keys() == doc["paths"].keys() and "ErrorBody" in served["components"]["schemas"]


def test_every_operation_documents_its_success_body(doc):
    missing = []
    for name, route, op in _operations(doc):
        status = str(route.status_code or 200)
        response = op["responses"].get(status)
        if response is None:
            missing.append(f"{name}: no {status} response")
        elif status == "204":
            if response.get("content"):
                missing.append(f"{name}: 204 documents a body")
        else:
            media = response.get("content", {}).get("application/json", {})
            schema = _schema(doc, media.get("schema", {}))
            if not schema.get("properties"):
                missing.append(f"{name}: {status} has no schema with properties")
            elif not _has_example(doc, media):
                missing.append(f"{name}: {status} has no example")
    assert missing == []


def test_every_failure_documents_the_error_body(doc):
    """Each documented failure is `{error, detail}` with an example, and each operation lists the failures it can
    answer with: 401/403 behind an API key, 404 with an id in the path (the webhook's event suffix is none), 422
    when FastAPI validates its input, and `default` (the 500) everywhere."""
    problems = []
    for name, route, op in _operations(doc):
        responses = op["responses"]
        required = {"default"}
        if _uses_api_key(route.dependant):
            required |= {"401", "403"}
            if op.get("security") != [{"ApiKey": []}]:
                problems.append(f"{name}: the API key scheme is not declared")
        if any(param.name.endswith("_id") for param in route.dependant.path_params):
            required.add("404")
        if route.body_field is not None or route.dependant.query_params:
            required.add("422")
        problems += [f"{name}: {status} not documented" for status in sorted(required - responses.keys())]
        for status, response in responses.items():
            if status != "default" and int(status) < 400:
                continue
            media = response.get("content", {}).get("application/json", {})
            expected = OTHER_ERROR_BODIES.get((*name.split(" "), status), ERROR_BODY)
            if media.get("schema", {}).get("$ref") != expected:
                problems.append(f"{name}: {status} is not {expected.rsplit('/', 1)[1]}")
            elif not _has_example(doc, media):
                problems.append(f"{name}: {status} has no example")
    assert problems == []
    # FastAPI's own 422 body ({"detail": [{loc, msg, type}]}) is not what Mirage answers: it must not be offered.
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_every_request_body_has_an_example_and_described_fields(doc):
    problems = []
    for name, route, op in _operations(doc):
        if route.body_field is not None and "requestBody" not in op:
            problems.append(f"{name}: body not documented")
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            if not _has_example(doc, media):
                problems.append(f"{name}: {media_type} body has no example")
            schema = _schema(doc, media.get("schema", {}))
            problems += [
                f"{name}: body field {field} has no description"
                for field, spec in schema.get("properties", {}).items()
                if route.body_field is not None and not spec.get("description")
            ]
    assert problems == []


def test_response_models_write_the_json_the_api_always_answered():
    """Field names, order and types as the former hand-written dicts wrote them (timestamps via isoformat())."""
    ids = [uuid.UUID(int=i) for i in range(1, 5)]
    at = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    local = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3)))
    instance = InstanceView(ids[0], "Sales", "mrg-sales", None, "connected", ids[1], "Bia", 3, 9, at, None, None, 0,
                            None, None)  # fmt: skip
    assert Instance.of(instance).model_dump_json() == (
        f'{{"id":"{ids[0]}","label":"Sales","session_id":"mrg-sales","wa_number":null,"status":"connected",'
        f'"persona_id":"{ids[1]}","messages_today":3,"messages_7d":9,"last_seen":"2025-01-02T03:04:05.123456+00:00",'
        '"server":null}'
    )
    contact = ContactView(ids[0], "+5511987651111", "Ana", ["vip"], "", "granted", "consent", "site", local, None,
                          False, None, at, None)  # fmt: skip
    assert Contact.model_validate(contact).model_dump(mode="json") == {
        "id": str(ids[0]), "wa_number": "+5511987651111", "display_name": "Ana", "tags": ["vip"], "notes": "",
        "consent_status": "granted", "consent_basis": "consent", "consent_source": "site",
        "consent_at": "2025-01-02T03:04:05-03:00", "opted_out_at": None, "suppressed": False,
        "suppression_reason": None, "created_at": "2025-01-02T03:04:05.123456+00:00", "updated_at": None,
        "contactable": True,
    }  # fmt: skip
    policy = PolicyView(ids[0], ids[1], "Sales", "+55119", "connected", None, None, 50, 5, 3, 10, ["morning"], [],
                        ["SAIR"], False, at, None, {"pending": 2}, 1, 0)  # fmt: skip
    assert list(Policy.model_validate(policy).model_dump(mode="json")) == [
        "id", "number_id", "number_label", "number_wa", "number_status", "persona_id", "persona_name", "daily_limit",
        "hourly_limit", "max_rounds_per_contact", "min_gap_minutes", "dayparts", "allow_days", "optout_keywords",
        "active", "created_at", "updated_at", "targets", "sent_today", "sent_last_hour",
    ]  # fmt: skip
    target = TargetView(ids[0], ids[1], ids[2], "+55119", "Ana", "granted", False, 0, "pending", None, 0, 3, None,
                        "Sales", at, at)  # fmt: skip
    dumped = Target.model_validate(target).model_dump(mode="json")
    assert list(dumped) == [
        "id", "policy_id", "contact_id", "wa_number", "display_name", "consent_status", "suppressed", "priority",
        "status", "last_contact_at", "rounds_done", "max_rounds", "last_error", "number_label", "created_at",
        "updated_at",
    ]  # fmt: skip
    assert dumped["contact_id"] == str(ids[2]) and dumped["updated_at"] == at.isoformat()

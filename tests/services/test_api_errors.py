"""Service errors reach API clients as JSON `{error, detail}` with their status, never a stack trace."""

from __future__ import annotations

import uuid

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from mirage_app.api.deps import api_actor, require
from mirage_app.api.errors import install_error_handlers
from mirage_app.base.errors import Conflict, NotFound, ServiceError, Throttled, ValidationFailed
from mirage_app.base.permissions import Action, Actor
from mirage_app.models import UserRole
from mirage_app.services import api_keys


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    errors = {
        "validation": ValidationFailed("validation.email_invalid", field="email"),
        "not-found": NotFound("users.not_found"),
        "conflict": Conflict("users.last_admin"),
        "throttled": Throttled("auth.account_locked", 900),
    }

    @app.get("/raise/{name}")
    def _raise(name: str) -> None:
        raise errors[name]

    @app.get("/users")
    def _users(actor: Actor = Depends(require(Action.users_manage))) -> dict:
        return {"ok": True}

    @app.get("/whoami")
    def _whoami(actor: Actor = Depends(api_actor)) -> dict:
        return {"label": actor.label}

    return app


@pytest.mark.parametrize(
    ("name", "status", "code", "detail"),
    [
        (
            "validation",
            422,
            "validation.email_invalid",
            [{"field": "email", "message": "Enter a valid email address."}],
        ),
        ("not-found", 404, "users.not_found", "User not found."),
        ("conflict", 409, "users.last_admin", "The tenant must keep at least one active admin."),
        (
            "throttled",
            429,
            "auth.account_locked",
            "Too many failed attempts: this account is locked. Try again in 15 minutes.",
        ),
    ],
)
def test_service_errors_as_json(name, status, code, detail):
    response = TestClient(_app()).get(f"/raise/{name}")
    assert (response.status_code, response.json()) == (status, {"error": code, "detail": detail})
    if name == "throttled":
        assert response.headers["Retry-After"] == "900"


def test_require_refuses_an_api_key_for_admin_actions(tenant_a, make_user, clock):
    admin = make_user(tenant_a, UserRole.admin, mfa_on=True)
    _view, raw = api_keys.create_key(admin.actor(), "ops", clock=clock)
    client = TestClient(_app())
    response = client.get("/users", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert response.json() == {"error": "permission.role", "detail": "Your role does not allow this action."}
    assert client.get("/whoami", headers={"Authorization": f"bearer {raw}"}).json()["label"].startswith("api_key:ops")


def test_unknown_codes_fall_back_to_a_generic_message():
    error = ServiceError("something.new")
    assert (error.status, error.message, error.detail()) == (400, "Something went wrong.", "Something went wrong.")
    assert Actor(tenant_id=uuid.uuid4(), role=UserRole.viewer, label="v").is_user is False

"""Invitations (one-time, expiring), roles, deactivation, the last-admin rule and cross-tenant attempts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import func, select

from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.core.db import tenant_session
from mirage_app.models import AuditLog, Invitation, User, UserRole
from mirage_app.services import auth, users
from mirage_app.services.users import INVITATION_TTL
from tests.services.conftest import unique_email


def _counts(tenant_id) -> tuple[int, int, int]:
    with tenant_session(tenant_id) as s:
        return tuple(s.exec(select(func.count()).select_from(model)).one() for model in (User, Invitation, AuditLog))


@pytest.fixture
def admin(tenant_a, make_user):
    return make_user(tenant_a, UserRole.admin, mfa_on=True)


def test_invite_and_accept(tenant_a, admin, clock):
    email = unique_email("New.Person")
    result = users.invite(admin.actor(), f" {email.upper()} ", "viewer", clock=clock)
    assert result.accept_path == f"/invite/{result.token}"
    assert result.invitation.status == "pending" and result.invitation.email == email.lower()
    assert result.invitation.expires_at == clock.now() + INVITATION_TTL
    assert [v.id for v in users.list_invitations(admin.actor(), clock=clock)] == [result.invitation.id]

    preview = users.describe_invitation(result.token, clock=clock)
    assert (preview.email, preview.role, preview.tenant_name) == (email.lower(), "viewer", "Tenant A")

    accepted = users.accept_invitation(
        result.token, "a perfectly fine passphrase", "en", "New Person", ip="192.0.2.5", clock=clock
    )
    actor = auth.resolve_session(accepted.session_token, clock=clock)
    assert actor.tenant_id == tenant_a and actor.role == UserRole.viewer and actor.locale == "en"
    assert actor.display_name == "New Person"
    assert auth.login(email, "a perfectly fine passphrase", clock=clock).session_token
    assert users.list_invitations(admin.actor(), clock=clock) == []
    statuses = {v.status for v in users.list_invitations(admin.actor(), include_closed=True, clock=clock)}
    assert statuses == {"accepted"}
    with tenant_session(tenant_a) as s:
        actions = set(s.exec(select(AuditLog.action)).all())
    assert {"users.invited", "users.invitation_accepted", "auth.login"} <= actions


def _expect(error_type, code, token, clock, tenant_id, password="a perfectly fine passphrase", locale="pt-BR"):
    before = _counts(tenant_id)
    with pytest.raises(error_type) as info:
        users.accept_invitation(token, password, locale, clock=clock)
    assert info.value.code == code
    assert _counts(tenant_id) == before  # nothing changed
    return info.value


def test_expired_invitation(tenant_a, admin, clock):
    token = users.invite(admin.actor(), unique_email("late"), "operator", clock=clock).token
    clock.advance(INVITATION_TTL + timedelta(seconds=1))
    error = _expect(Conflict, "invitations.expired", token, clock, tenant_a)
    assert "expired" in error.message
    with pytest.raises(Conflict):
        users.describe_invitation(token, clock=clock)


def test_invitation_is_single_use(tenant_a, admin, clock):
    token = users.invite(admin.actor(), unique_email("once"), "operator", clock=clock).token
    users.accept_invitation(token, "a perfectly fine passphrase", "pt-BR", clock=clock)
    _expect(Conflict, "invitations.used", token, clock, tenant_a)


def test_revoked_invitation(tenant_a, admin, clock):
    result = users.invite(admin.actor(), unique_email("revoked"), "operator", clock=clock)
    assert users.revoke_invitation(admin.actor(), result.invitation.id, clock=clock).status == "revoked"
    _expect(Conflict, "invitations.revoked", result.token, clock, tenant_a)


@pytest.mark.parametrize("token", ["", "nope", "x" * 300, None])
def test_unknown_invitation_token(tenant_a, token, clock):
    _expect(NotFound, "invitations.not_found", token, clock, tenant_a)


@pytest.mark.parametrize(
    ("password", "locale", "code"),
    [
        ("short", "pt-BR", "validation.password_too_short"),
        ("my {local} password", "pt-BR", "validation.password_contains_email"),
        ("a perfectly fine passphrase", "fr", "validation.locale_invalid"),
    ],
)
def test_bad_input_at_accept_changes_nothing_and_keeps_the_link(tenant_a, admin, clock, password, locale, code):
    email = unique_email("invitee")
    token = users.invite(admin.actor(), email, "operator", clock=clock).token
    password = password.format(local=email.split("@")[0])
    _expect(ValidationFailed, code, token, clock, tenant_a, password=password, locale=locale)
    assert users.accept_invitation(token, "a perfectly fine passphrase", "pt-BR", clock=clock).session_token


def test_reinviting_replaces_the_pending_link(admin, clock):
    email = unique_email("twice")
    first = users.invite(admin.actor(), email, "operator", clock=clock)
    second = users.invite(admin.actor(), email, "admin", clock=clock)
    with pytest.raises(Conflict) as info:
        users.accept_invitation(first.token, "a perfectly fine passphrase", "pt-BR", clock=clock)
    assert info.value.code == "invitations.revoked"
    accepted = users.accept_invitation(second.token, "a perfectly fine passphrase", "pt-BR", clock=clock)
    assert accepted.actor.role == UserRole.admin


@pytest.mark.parametrize(
    ("email", "role", "error", "code"),
    [
        ("not-an-email", "viewer", ValidationFailed, "validation.email_invalid"),
        ("ok-role@example.com", "superuser", ValidationFailed, "validation.role_invalid"),
    ],
)
def test_bad_invitation_input(tenant_a, admin, email, role, error, code):
    before = _counts(tenant_a)
    with pytest.raises(error) as info:
        users.invite(admin.actor(), email, role)
    assert info.value.code == code and info.value.field in {"email", "role"}
    assert _counts(tenant_a) == before


def test_cannot_invite_an_existing_email_even_from_another_tenant(tenant_a, tenant_b, admin, make_user):
    other = make_user(tenant_b)
    for email in (admin.email, other.email):
        with pytest.raises(Conflict) as info:
            users.invite(admin.actor(), email, "viewer")
        assert info.value.code == "users.email_taken"


def test_last_admin_cannot_be_demoted_or_deactivated(tenant_a, admin, make_user, clock):
    for attempt in (
        lambda: users.change_role(admin.actor(), admin.id, "operator", clock=clock),
        lambda: users.deactivate_user(admin.actor(), admin.id, clock=clock),
    ):
        with pytest.raises(Conflict) as info:
            attempt()
        assert info.value.code == "users.last_admin"
    second = make_user(tenant_a, UserRole.admin)
    assert users.change_role(admin.actor(), admin.id, "operator", clock=clock).role == "operator"
    with pytest.raises(Conflict):
        users.deactivate_user(admin.actor(), second.id, clock=clock)  # now the only admin


def test_deactivation_revokes_sessions(tenant_a, admin, make_user, clock):
    person = make_user(tenant_a)
    token = auth.login(person.email, person.password, clock=clock).session_token
    view = users.deactivate_user(admin.actor(), person.id, clock=clock)
    assert not view.is_active
    assert auth.resolve_session(token, clock=clock) is None
    assert {u.email: u.is_active for u in users.list_users(admin.actor())}[person.email] is False


def test_cross_tenant_user_management_is_not_found_and_changes_nothing(tenant_a, tenant_b, admin, make_user, clock):
    victim = make_user(tenant_b, UserRole.admin)
    victim_b2 = make_user(tenant_b, UserRole.admin)
    other_admin = make_user(tenant_b, UserRole.admin, mfa_on=True)
    invitation = users.invite(other_admin.actor(), unique_email("b-invitee"), "viewer", clock=clock).invitation
    before = _counts(tenant_b)
    for attempt in (
        lambda: users.change_role(admin.actor(), victim.id, "viewer"),
        lambda: users.deactivate_user(admin.actor(), victim_b2.id),
        lambda: users.revoke_invitation(admin.actor(), invitation.id),
        lambda: users.change_role(admin.actor(), "not-a-uuid", "viewer"),
        lambda: users.change_role(admin.actor(), uuid.uuid4(), "viewer"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert _counts(tenant_b) == before
    with tenant_session(tenant_b) as s:
        assert s.get(User, victim.id).role == UserRole.admin and s.get(User, victim_b2.id).is_active
        assert s.get(Invitation, invitation.id).revoked_at is None
    assert {u.email for u in users.list_users(admin.actor())}.isdisjoint({victim.email, victim_b2.email})


def test_set_locale(tenant_a, make_user):
    person = make_user(tenant_a, UserRole.viewer)
    assert users.set_locale(person.actor(), "en") == "en"
    assert users.get_profile(person.actor()).locale == "en"
    with pytest.raises(ValidationFailed) as info:
        users.set_locale(person.actor(), "xx")
    assert info.value.field == "locale"
    assert users.get_profile(person.actor()).locale == "en"

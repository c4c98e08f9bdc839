"""No password, session token, API key, invitation token, TOTP secret or recovery code is stored in the clear."""

from __future__ import annotations

import psycopg
import pytest
import redis

from mirage_app.base.errors import AuthFailed
from mirage_app.models import UserRole
from mirage_app.services import api_keys, auth, mfa, users
from tests.services.conftest import enable_mfa, next_totp, unique_email


def _dump_database(admin_url: str) -> str:
    """Every row of every table, as text, read with the owner's connection (no row-level security)."""
    with psycopg.connect(admin_url.replace("+psycopg", "")) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        chunks = []
        for table in tables:
            chunks.extend(row[0] for row in conn.execute(f'SELECT t::text FROM "{table}" t'))
    return "\n".join(chunks)


def test_no_secret_is_stored_in_plain_text(services, tenant_a, make_user, clock):
    secrets: list[str] = []

    admin = make_user(tenant_a, UserRole.admin, mfa_on=True)
    secrets += [admin.password, admin.totp_secret, *admin.recovery_codes]
    secrets += [code.replace("-", "") for code in admin.recovery_codes]
    actor = admin.actor()

    pending = auth.login(admin.email, admin.password, clock=clock).pending_token
    session = auth.complete_mfa(pending, admin.recovery_codes[0], clock=clock).session_token
    secrets += [pending, session]

    accepted = users.invite(actor, unique_email("accepted"), "operator", clock=clock)
    joined = users.accept_invitation(accepted.token, "the invitee's passphrase", "en", clock=clock)
    open_invite = users.invite(actor, unique_email("pending"), "viewer", clock=clock)
    secrets += [accepted.token, open_invite.token, joined.session_token, "the invitee's passphrase"]

    operator = make_user(tenant_a, UserRole.operator)
    op_session = auth.login(operator.email, operator.password, clock=clock).session_token
    op_actor = auth.resolve_session(op_session, clock=clock)
    auth.change_password(op_actor, operator.password, "a changed passphrase", clock=clock)
    secrets += [op_session, "a changed passphrase"]
    enable_mfa(operator, clock)
    secrets += [operator.totp_secret, *operator.recovery_codes]
    secrets += mfa.regenerate_recovery_codes(operator.actor(), next_totp(operator, clock), clock=clock)

    for name in ("ci", "revoked"):
        view, raw = api_keys.create_key(actor, name, clock=clock)
        api_keys.authenticate(raw, clock=clock)
        secrets += [raw, raw.split("_", 2)[2]]
    api_keys.revoke_key(actor, view.id, clock=clock)
    with pytest.raises(AuthFailed):
        auth.login(operator.email, "a wrong passphrase", ip="192.0.2.77", clock=clock)

    dump = _dump_database(services.admin_url)
    assert admin.email in dump and view.prefix in dump and "$argon2id$" in dump  # the dump really holds the tables
    leaked = [secret for secret in secrets if secret in dump or secret.lower() in dump.lower()]
    assert leaked == []

    # Redis holds throttling state keyed by hashes, never email addresses.
    keys = redis.Redis.from_url(services.redis_url).keys("mirage:login:*")
    assert keys and not [k for k in keys if b"@" in k]

"""The audit trail: who, what, when, before/after and IP; secrets redacted; browsing with filters (admins only)."""

from __future__ import annotations

import ast
from datetime import timedelta

import pytest

from mirage_app.base import audit
from mirage_app.base.errors import PermissionDenied
from mirage_app.core.config import PROJECT_ROOT
from mirage_app.core.db import tenant_session
from mirage_app.i18n import EN, PT_BR
from mirage_app.models import UserRole
from mirage_app.services import api_keys, users
from mirage_app.services.outreach.targets import BULK_ACTIONS
from tests.services.conftest import unique_email


def test_secrets_are_redacted_at_any_depth():
    value = {
        "name": "x",
        "password": "p",
        "new_password": "p",
        "Session_Token": "t",
        "totp_secret_enc": "s",
        "nested": {"api_key_raw": "k", "key_hash": "h", "ok": [1, {"recovery_codes": ["a"]}]},
    }
    assert audit.redact(value) == {
        "name": "x",
        "password": audit.REDACTED,
        "new_password": audit.REDACTED,
        "Session_Token": audit.REDACTED,
        "totp_secret_enc": audit.REDACTED,
        "nested": {
            "api_key_raw": audit.REDACTED,
            "key_hash": audit.REDACTED,
            "ok": [1, {"recovery_codes": "[redacted]"}],
        },
    }


def test_record_writes_in_the_callers_transaction(tenant_a, make_user, clock):
    admin = make_user(tenant_a, UserRole.admin)
    actor = admin.actor()
    with tenant_session(tenant_a) as s:
        audit.record(s, actor, "settings.changed", "settings", "x", {"a": 1}, {"a": 2, "token": "abc"}, clock=clock)
        s.rollback()  # the change failed: no entry either
    assert audit.list_entries(actor).total == 0
    with tenant_session(tenant_a) as s:
        audit.record(s, actor, "settings.changed", "settings", "x", {"a": 1}, {"a": 2, "token": "abc"}, clock=clock)
        s.commit()
    (entry,) = audit.list_entries(actor).entries
    assert (entry.actor, entry.actor_user_id, entry.ip, entry.at) == (admin.email, admin.id, actor.ip, clock.now())
    assert (entry.before, entry.after) == ({"a": 1}, {"a": 2, "token": "[redacted]"})


def test_browse_and_filter(tenant_a, tenant_b, make_user, clock):
    admin = make_user(tenant_a, UserRole.admin, mfa_on=True)
    actor = admin.actor()
    start = clock.advance(timedelta(seconds=1))
    users.invite(actor, unique_email("one"), "viewer", clock=clock)
    clock.advance(timedelta(minutes=5))
    api_keys.create_key(actor, "ci", clock=clock)
    other = make_user(tenant_b, UserRole.admin, mfa_on=True)
    api_keys.create_key(other.actor(), "not ours", clock=clock)

    page = audit.list_entries(actor)
    assert page.total == 4  # enrolment started, enabled, invited, key created; nothing from tenant B
    assert [e.action for e in page.entries][:2] == ["api_keys.created", "users.invited"]  # newest first
    assert [e.action for e in audit.list_entries(actor, action="api_keys.").entries] == ["api_keys.created"]
    assert audit.list_entries(actor, entity="invitation").total == 1
    assert audit.list_entries(actor, who=admin.email.split("@")[0].upper()).total == 4
    assert audit.list_entries(actor, who="someone else").total == 0
    assert audit.list_entries(actor, since=start + timedelta(minutes=1)).total == 1
    assert audit.list_entries(actor, since=start, until=start + timedelta(minutes=1)).total == 1
    first, second = audit.list_entries(actor, limit=1), audit.list_entries(actor, limit=1, offset=1)
    assert first.total == second.total == 4 and first.entries[0].id != second.entries[0].id
    assert audit.list_entries(actor, action="%").total == 0  # wildcards are literal


@pytest.mark.parametrize("role", [UserRole.operator, UserRole.viewer])
def test_only_admins_read_the_audit_log(tenant_a, make_user, role):
    with pytest.raises(PermissionDenied):
        audit.list_entries(make_user(tenant_a, role).actor())


def _recorded_actions() -> set[str]:
    """Every action identifier the code writes with a literal (`audit.record(s, actor, "users.invited", ...)`)."""
    found: set[str] = set()
    for path in (PROJECT_ROOT / "mirage_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"):
                continue
            if len(node.args) < 3 or getattr(node.func.value, "id", None) != "audit":
                continue
            arg = node.args[2]
            for value in (arg.body, arg.orelse) if isinstance(arg, ast.IfExp) else (arg,):
                if isinstance(value, ast.Constant):
                    found.add(value.value)
    return found


def test_every_audit_action_reads_as_words_in_both_languages():
    built = {f"outreach.targets_{a}" for a in BULK_ACTIONS} | {
        f"outreach.policy_{a}" for a in ("update", "activate", "deactivate")
    }
    actions = _recorded_actions() | built
    assert "auth.login_failed" in actions and len(actions) > 50
    for catalog in (EN, PT_BR):
        missing = sorted(a for a in actions if f"audit.action.{a}" not in catalog)
        assert not missing, f"audit actions without words: {missing}"

"""`mirage tenant create | list | suspend | resume | plan | limits | defaults` from a script."""

from __future__ import annotations

import json
import uuid

from mirage_app.cli import main
from mirage_app.services import users


def test_create_list_suspend_resume_plan_limits(services, capsys):
    name = f"Cliente {uuid.uuid4().hex[:6]}"
    email = f"owner-{uuid.uuid4().hex[:6]}@example.com"
    assert main(["tenant", "--json", "create", name, "--admin-email", email, "--plan", "pro"]) == 0
    created = json.loads(capsys.readouterr().out)
    token = created["invitation_link"].rsplit("/invite/", 1)[1]
    assert users.describe_invitation(token).email == email  # a link, no password
    assert main(["tenant", "--json", "list"]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out) if r["id"] == created["id"]]
    assert (row["name"], row["plan"], row["status"], row["use"]["users"]) == (
        name,
        "pro",
        "active",
        {"used": 1, "limit": 20},
    )

    assert main(["tenant", "--json", "suspend", name, "--reason", "unpaid"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["status"], row["suspended_reason"]) == ("suspended", "unpaid")
    assert main(["tenant", "suspend", name, "--reason", "again"]) == 2
    assert "already suspended" in capsys.readouterr().err
    assert main(["tenant", "--json", "resume", created["id"]]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "active"

    assert main(["tenant", "--json", "plan", name, "free"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["plan"] == "free"
    assert main(["tenant", "--json", "limits", name, "contacts=9000", "numbers="]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["use"]["contacts"]["limit"] == 9000 and row["overrides"]["contacts"] == 9000
    assert main(["tenant", "resume", "no such tenant"]) == 2
    assert main(["tenant", "--json", "defaults", "enterprise"]) == 0
    assert json.loads(capsys.readouterr().out)["enterprise"]["numbers"] is None


def test_create_refuses_an_unknown_timezone_and_creates_nothing(services, capsys):
    name = f"Cliente {uuid.uuid4().hex[:6]}"
    email = f"owner-{uuid.uuid4().hex[:6]}@example.com"
    assert main(["tenant", "create", name, "--admin-email", email, "--timezone", "America/Atlantida"]) == 2
    err = capsys.readouterr().err
    assert "Unknown timezone" in err or "Fuso horário desconhecido" in err  # the CLI speaks the default locale
    assert main(["tenant", "--json", "list"]) == 0
    assert name not in [r["name"] for r in json.loads(capsys.readouterr().out)]


def test_a_name_two_tenants_share_asks_for_the_id(services, capsys):
    name = f"Gêmeos {uuid.uuid4().hex[:6]}"
    ids = []
    for n in range(2):
        assert (
            main(["tenant", "--json", "create", name, "--admin-email", f"g{n}-{uuid.uuid4().hex[:6]}@example.com"]) == 0
        )
        ids.append(json.loads(capsys.readouterr().out)["id"])
    assert main(["tenant", "suspend", name, "--reason", "which one?"]) == 2
    err = capsys.readouterr().err
    assert "use its id" in err or "use o id" in err
    assert main(["tenant", "--json", "plan", ids[1], "pro"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["plan"] == "pro"

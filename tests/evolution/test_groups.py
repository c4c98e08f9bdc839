"""Contract: groups over real HTTP (reference §13), shared by a pool's servers, with §13.9's webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import EvolutionBadRequest, EvolutionNotFound
from mirage_app.evolution.rich_models import MessageKey
from mirage_app.evolution.simulator import SimulatorPool, SimulatorServer
from mirage_app.evolution.webhook import normalise
from tests.evolution.conftest import fast_config, make_client


def _open(sim: SimulatorServer, client: EvolutionClient, *names: str) -> list[str]:
    phones = []
    for instance in names:
        client.create_instance(instance, qrcode=False)
        phones.append(sim.scan(instance))
    return phones


def _events(sim: Any, instance: str, event: str) -> list[dict[str, Any]]:
    assert sim.wait_idle(5)
    return [e["data"] for e in sim.events(instance, event)]


def _raw(sim: SimulatorServer, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, sim.url + path, headers={"apikey": sim.api_key}, **kw)


def test_create_message_leave(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    a, b, c = name + "-a", name + "-b", name + "-c"
    phone_a, phone_b, phone_c = _open(sim, client, a, b, c)
    group = client.group_create(a, "Família", [phone_b, phone_c, "5511000000001"], "grupo da família")
    assert group.jid.startswith("120363") and group.jid.endswith("@g.us") and len(group.jid) == 23
    assert (group.subject, group.description, group.owner_phone, group.size) == (
        "Família",
        "grupo da família",
        phone_a,
        3,
    )  # the number without WhatsApp was dropped silently
    admins = {p.phone: p.admin for p in group.participants}
    assert admins == {phone_a: "superadmin", phone_b: None, phone_c: None}
    assert all(p.jid.endswith("@lid") for p in group.participants)
    (upsert,) = _events(sim, b, "groups.upsert")
    created = normalise({"event": "groups.upsert", "instance": b, "data": upsert})
    assert (created.kind, created.group_jid, created.group_action, created.author_phone) == (
        "group",
        group.jid,
        "create",
        phone_a,
    )

    sent = client.send_text(b, group.jid, "oi grupo")
    assert sent.remote_jid == group.jid and "contextInfo" not in sent.raw
    for instance in (a, c):
        (data,) = _events(sim, instance, "messages.upsert")
        assert data["key"]["participantAlt"] == f"{phone_b}@s.whatsapp.net"
        assert data["key"]["participant"].endswith("@lid") and data["key"]["addressingMode"] == "lid"
        event = normalise({"event": "messages.upsert", "instance": instance, "data": data})
        assert (event.group_jid, event.author_phone, event.text) == (group.jid, phone_b, "oi grupo")
    assert _events(sim, b, "messages.upsert") == []
    assert [u["status"] for u in _events(sim, b, "messages.update")] == ["SERVER_ACK"]  # no per-member acks

    client.send_reaction(a, key=MessageKey(sent.key_id, group.jid, False, f"{phone_b}@s.whatsapp.net"), emoji="😂")
    reaction = _events(sim, b, "messages.upsert")[-1]["message"]["reactionMessage"]
    assert reaction["key"] == {
        "remoteJid": group.jid,
        "fromMe": True,
        "id": sent.key_id,
        "participant": f"{phone_b}@s.whatsapp.net",
    }

    client.leave_group(c, group.jid)
    left = [normalise({"event": "group-participants.update", "instance": a, "data": d}) for d in
            _events(sim, a, "group-participants.update")]  # fmt: skip
    assert [(e.group_action, e.group_participants) for e in left] == [("remove", (phone_c,))]
    with pytest.raises(EvolutionBadRequest) as info:
        client.send_text(c, group.jid, "ainda estou?")
    assert info.value.messages == ["[object Object]"]
    before = len(_events(sim, c, "messages.upsert"))
    client.send_text(a, group.jid, "tchau C")
    assert len(_events(sim, c, "messages.upsert")) == before
    assert [g.jid for g in client.fetch_all_groups(c)] == []
    listed = client.fetch_all_groups(a, with_participants=True)
    assert [(g.jid, len(g.participants)) for g in listed] == [(group.jid, 2)]


def test_participants_update_and_admin_rules(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    a, b, c = name + "-a", name + "-b", name + "-c"
    phone_a, phone_b, phone_c = _open(sim, client, a, b, c)
    group = client.group_create(a, "Trabalho", [phone_b])
    changes = client.group_update_participants(a, group.jid, "add", [phone_c, phone_b])
    assert [(ch.phone, ch.status, ch.ok) for ch in changes] == [(phone_c, "200", True), (phone_b, "409", False)]
    assert len(_events(sim, c, "groups.upsert")) == 1
    members = {p.phone: p.is_admin for p in client.group_participants(c, group.jid)}
    assert members == {phone_a: True, phone_b: False, phone_c: False}
    with pytest.raises(EvolutionBadRequest) as info:
        client.group_update_participants(b, group.jid, "remove", [phone_c])
    assert info.value.messages == ["Error updating participants", "Error: not-authorized"]
    client.group_update_participants(a, group.jid, "promote", [phone_b])
    client.group_update_participants(b, group.jid, "remove", [phone_c])
    with pytest.raises(EvolutionNotFound) as missing:
        client.group_participants(c, group.jid)
    assert missing.value.messages == ["No participants", "Error: item-not-found"]
    update = _events(sim, a, "group-participants.update")[0]
    assert update["participants"][0]["phoneNumber"] == f"{phone_c}@s.whatsapp.net"
    assert update["participantsData"][0]["phoneNumber"] == "[object Object]"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", "/group/participants/{n}", None, 400, ["The group id needs to be informed in the query",
                                                        'ex: "groupJid=120362@g.us"']),
        ("GET", "/group/participants/{n}?groupJid=abc", None, 400,
         [{"property": "groupJid", "message": 'groupJid does not match pattern "^[\\\\d-]+@g.us$"'}]),
        ("GET", "/group/fetchAllGroups/{n}", None, 400, ["The getParticipants needs to be informed in the query"]),
        ("POST", "/group/updateParticipant/{n}?groupJid=1203634", {"participants": ["5511988887777"]}, 400,
         [{"property": "instance", "message": 'instance requires property "action"'}]),
        ("POST", "/group/updateParticipant/{n}?groupJid=1203634", {"action": "kick", "participants": ["5511988887777"]},
         400, [{"property": "action", "message": "action is not one of enum values: add,remove,promote,demote"}]),
        ("POST", "/group/create/{n}", {"subject": "x"}, 400, [['instance requires property "participants"']]),
        ("POST", "/group/create/{n}", {"subject": "x", "participants": ["123"]}, 400,
         [['"participants" must be an array of numeric strings']]),
        ("DELETE", "/group/leaveGroup/{n}?groupJid=120363000000000001", None, 400,
         ["Unable to leave the group", "Error: item-not-found"]),
        ("POST", "/message/sendText/{n}", {"number": "120363000000000001@g.us", "text": "x"}, 400, ["[object Object]"]),
    ],
)  # fmt: skip
def test_group_error_shapes(
    sim: SimulatorServer,
    client: EvolutionClient,
    name: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    message: Any,
) -> None:
    _open(sim, client, name)
    response = _raw(sim, method, path.replace("{n}", name), json=body)
    assert (response.status_code, response.json()) == (
        status,
        {"status": status, "error": "Bad Request", "response": {"message": message}},
    )


def test_create_on_closed_socket_is_500(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    response = _raw(sim, "POST", f"/group/create/{name}", json={"subject": "x", "participants": ["5511988887777"]})
    assert response.status_code == 500
    assert response.json()["response"]["message"] == ["Error creating group", "Error: Connection Closed"]


@pytest.fixture
def pool() -> Iterator[SimulatorPool]:
    with SimulatorPool(2, config=fast_config()) as simulators:
        yield simulators


def test_groups_span_the_servers_of_a_pool(pool: SimulatorPool, name: str) -> None:
    one, two = pool.servers
    with make_client(one.url, one.api_key) as first, make_client(two.url, two.api_key) as second:
        first.create_instance(name + "-a", qrcode=False)
        second.create_instance(name + "-b", qrcode=False)
        phone_a, phone_b = one.scan(name + "-a"), two.scan(name + "-b")
        group = first.group_create(name + "-a", "Pool", [phone_b])
        assert [g.jid for g in second.fetch_all_groups(name + "-b")] == [group.jid]
        second.send_text(name + "-b", group.jid, "de outro servidor")
        assert two.wait_idle(5)  # the sender's server hands the message over; then the receiver's posts it
        (data,) = _events(one, name + "-a", "messages.upsert")
        assert data["key"]["participantAlt"] == f"{phone_b}@s.whatsapp.net"
        assert phone_a in {p.phone for p in second.group_participants(name + "-b", group.jid)}

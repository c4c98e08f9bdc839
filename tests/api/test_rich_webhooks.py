"""Rich actions through ingestion: every webhook the simulator emits for them, at the sender and the receivers,
delivered three times in a shuffled order, stores each message once with its kind and facts (issue 15)."""

from __future__ import annotations

import base64
import io
import json
import random
import uuid

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text

from mirage_app.api.app import asgi
from mirage_app.core.db import tenant_session
from mirage_app.core.security import hash_token
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.evolution.rich_models import MessageKey
from mirage_app.evolution.simulator.server import SimulatorServer
from mirage_app.media import speech
from mirage_app.models import Conversation, ConversationMode, EvolutionSession, Number, NumberStatus
from mirage_app.models.media import GroupState, WarmingGroup
from tests.evolution.conftest import Receiver, fast_config, make_client

EVENTS = ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "SEND_MESSAGE", "MESSAGES_EDITED", "SEND_MESSAGE_UPDATE",
          "GROUPS_UPSERT", "GROUP_PARTICIPANTS_UPDATE"]  # fmt: skip


def _png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def recorded():
    """Three instances doing every rich action on the simulator; the webhooks they produced, and the ids."""
    with SimulatorServer(config=fast_config()) as sim, Receiver() as hook, make_client(sim.url, sim.api_key) as c:
        tag = uuid.uuid4().hex[:6]
        names = [f"rich-{tag}-{i}" for i in range(3)]
        phones = [f"55119{55500000 + i + random.randrange(10_000) * 10:08d}" for i in range(3)]
        for name, phone in zip(names, phones, strict=True):
            c.create_instance(name, webhook_url=hook.url, webhook_events=EVENTS, settings={"readStatus": True})
            sim.scan(name, phone)
        a, b, _ = names
        ids: dict[str, str] = {}
        ids["text"] = c.send_text(a, phones[1], "vamos marcar o café?").key_id
        key_in_b = MessageKey(id=ids["text"], remote_jid=f"{phones[0]}@s.whatsapp.net", from_me=False)
        ids["quote"] = c.send_text(
            b, phones[0], "bora, sábado", quoted=_quoted(key_in_b, "vamos marcar o café?")
        ).key_id
        ids["reaction"] = c.send_reaction(b, key=key_in_b, emoji="👍").key_id
        voice = speech.speak("oi, tudo bem? te mando a foto já já", "pt-BR", seed="rich-webhooks")
        ids["voice"] = c.send_voice(a, phones[1], audio_b64=base64.b64encode(voice.data).decode()).key_id
        ids["image"] = c.send_media(
            a, phones[1], media_b64=_png(), mimetype="image/png", file_name="foto.png", caption="olha"
        ).key_id
        ids["sticker"] = c.send_sticker(b, phones[0], sticker_b64=_png()).key_id
        ids["location"] = c.send_location(
            a, phones[1], latitude=-23.58, longitude=-46.65, place_name="Ibirapuera", address="São Paulo"
        ).key_id
        ids["contact"] = c.send_contact(a, phones[1], full_name="Carla", wuid=phones[2], phone_number="+" + phones[2])
        ids["contact"] = ids["contact"].key_id
        ids["typo"] = c.send_text(a, phones[1], "chego em dez mniutos").key_id
        own = MessageKey(id=ids["typo"], remote_jid=f"{phones[1]}@s.whatsapp.net", from_me=True)
        c.update_message(a, phones[1], key=own, text="chego em dez minutos")
        group = c.group_create(a, "Café ☕", [phones[1], phones[2]], description="sábado")
        ids["group"] = c.send_text(a, group.jid, "bom dia, grupo!").key_id
        ids["status"] = c.send_status(
            a, kind="text", content="Sextou! 🎉", background_color="#1E88E5", font=1, jid_list=phones[1:]
        ).key_id
        sim.wait_idle(10)
        hook.wait_for(20)
        yield {"names": names, "phones": phones, "ids": ids, "group_jid": group.jid, "bodies": hook.requests[:]}


def _quoted(key: MessageKey, body: str):
    from mirage_app.evolution.rich_models import QuotedRef

    return QuotedRef.of_text(key, body)


@pytest.fixture
def tenant_numbers(tenant_a, recorded):
    """The three instances as numbers of one tenant (with their webhook secrets) and the group as its own."""
    secrets = {}
    with tenant_session(tenant_a) as s:
        numbers = []
        for i, (name, phone) in enumerate(zip(recorded["names"], recorded["phones"], strict=True)):
            session = f"{name}-{uuid.uuid4().hex[:4]}"  # a fresh instance name per test run of this fixture
            number = Number(tenant_id=tenant_a, session_id=session, label=f"N{i}", status=NumberStatus.connected,
                            wa_number="+" + phone)  # fmt: skip
            s.add(number)
            s.flush()
            secrets[name] = (session, f"secret-{uuid.uuid4().hex}")
            s.add(
                EvolutionSession(
                    tenant_id=tenant_a, number_id=number.id, webhook_secret_hash=hash_token(secrets[name][1])
                )
            )
            numbers.append(number.id)
        conv = Conversation(tenant_id=tenant_a, name="Café", mode=ConversationMode.group)
        s.add(conv)
        s.flush()
        conv_id = conv.id
        group = WarmingGroup(tenant_id=tenant_a, conversation_id=conv_id, subject="Café ☕",
                             group_jid=recorded["group_jid"], state=GroupState.active)  # fmt: skip
        s.add(group)
        s.commit()
        return {"tenant": tenant_a, "secrets": secrets, "numbers": numbers, "group_id": group.id}


def _deliver(client, bodies, secrets, seed):
    posts = []
    for body in bodies:
        session, secret = secrets[body["instance"]]
        payload = json.dumps({**body, "instance": session}).encode()
        posts.extend([(payload, secret)] * 3)
    random.Random(seed).shuffle(posts)
    for payload, secret in posts:
        answer = client.post(
            "/api/webhooks/evolution", content=payload,
            headers={"content-type": "application/json", SECRET_HEADER: secret},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("seed", [1, 2])
def test_every_rich_shape_is_stored_once_with_its_kind(recorded, tenant_numbers, seed):
    bodies = [r.body for r in recorded["bodies"]]
    assert {b["event"] for b in bodies} >= {"messages.upsert", "send.message", "messages.edited", "send.message.update"}
    _deliver(TestClient(asgi), bodies, tenant_numbers["secrets"], seed)
    ids = recorded["ids"]
    with tenant_session(tenant_numbers["tenant"]) as s:
        rows = {
            r.wa_msg_id: r
            for r in s.execute(
                text(
                    "SELECT wa_msg_id, kind::text AS kind, body, ref_wa_msg_id, group_id, meta, from_number_id, "
                    "to_number_id, direction::text AS direction FROM messages WHERE wa_msg_id = ANY(:ids)"
                ),
                {"ids": list(ids.values())},
            )
        }
        per_id = s.execute(
            text("SELECT wa_msg_id, count(*) FROM messages WHERE wa_msg_id = ANY(:ids) GROUP BY 1"),
            {"ids": list(ids.values())},
        ).all()
    assert all(n == 1 for _, n in per_id) and set(rows) == set(ids.values())
    a, b, _ = tenant_numbers["numbers"]
    kinds = {name: rows[wa].kind for name, wa in ids.items()}
    assert kinds == {
        "text": "text", "quote": "text", "reaction": "reaction", "voice": "voice", "image": "image",
        "sticker": "sticker", "location": "location", "contact": "contact", "typo": "text", "group": "text",
        "status": "status",
    }  # fmt: skip
    assert rows[ids["quote"]].ref_wa_msg_id == ids["text"] and rows[ids["quote"]].meta["quoted"]["wa_msg_id"]
    reaction = rows[ids["reaction"]]
    assert (reaction.ref_wa_msg_id, reaction.body, reaction.from_number_id) == (ids["text"], "👍", b)
    assert rows[ids["voice"]].meta["voice"]["seconds"] >= 1
    assert rows[ids["image"]].body == "olha"
    assert rows[ids["location"]].meta["location"]["name"] == "Ibirapuera"
    assert rows[ids["contact"]].meta["contact_card"]
    typo = rows[ids["typo"]]
    assert typo.body == "chego em dez minutos" and typo.meta["edited"]["from"] == "chego em dez mniutos"
    group_row = rows[ids["group"]]
    assert (group_row.group_id, group_row.to_number_id, group_row.from_number_id) == (
        tenant_numbers["group_id"],
        None,
        a,
    )
    assert rows[ids["status"]].from_number_id == a and rows[ids["status"]].to_number_id is None
    assert all(r.direction == "out" for r in rows.values())  # every sender is one of the tenant's numbers

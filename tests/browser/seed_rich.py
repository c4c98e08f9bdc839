"""Messages of every kind (issue 15) written into a running app's database, for the rich screens' browser test.

Run as `python -m tests.browser.seed_rich <admin email>` beside the app (tests.browser.conftest.run_beside_app): two
numbers paired through the simulator, a pair conversation (inactive: the engine leaves it alone), the demo's
starter library, then a short exchange with a reaction, a voice note and a reply quoting it, a fixed typo, a
captioned picture, a sticker, a location, a contact card and a status post. Prints the ids the test opens.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.services import conversations as conv
from mirage_app.services import instances, media_library, media_starter
from tests.browser.seed_states import admin_actor


def main(admin_email: str) -> dict:
    actor = admin_actor(admin_email)
    a = instances.create_instance(actor, "Rich A").id
    b = instances.create_instance(actor, "Rich B").id
    for number in (a, b):
        instances.simulate_scan(actor, number)
    c = conv.create_conversation(actor, "Conversa rica", "pair")
    media_starter.load_starter_library(actor)
    assets = {v.kind: v.id for v in media_library.list_assets(actor)}
    t0 = datetime.now(UTC) - timedelta(minutes=20)
    place = {"lat": -23.56, "lng": -46.65, "name": "Padaria Estrela", "address": "Rua Augusta, 1200"}
    card = {"full_name": "Carla Dias", "phone": "+55 11 98888-7777"}
    typo = {"edited": {"from": "Amanhã vou na apdaria nova"}}
    rows = [
        # (from, to, wa id, kind, body, ref, meta, media)
        (a, b, "rich-1", "text", "Bom dia! Como foi o fim de semana?", None, {}, None),
        (b, a, "rich-2", "reaction", "❤️", "rich-1", {}, None),
        (b, a, "rich-3", "voice", "", None, {"voice": {"seconds": 6.2}}, assets.get("voice")),
        (
            a,
            b,
            "rich-4",
            "text",
            "Haha, que inveja",
            "rich-3",
            {"quoted": {"wa_msg_id": "rich-3"}},
            None,
        ),
        (b, a, "rich-5", "reaction", "😂", "rich-4", {}, None),
        (b, a, "rich-6", "text", "Amanhã vou na apdaria nova", None, typo, None),
        (b, a, "rich-7", "edit", "Amanhã vou na padaria nova", "rich-6", {}, None),
        (a, b, "rich-8", "image", "Olha o pôr do sol daqui", None, {}, assets.get("image")),
        (b, a, "rich-9", "sticker", "", None, {}, assets.get("sticker")),
        (b, a, "rich-10", "location", "", None, {"location": place}, None),
        (a, b, "rich-11", "contact", "", None, {"contact_card": card}, None),
        (a, b, "rich-12", "image", "Isso aqui também", "rich-10", {"quoted": {"wa_msg_id": "rich-10"}}, None),
    ]
    with tenant_session(actor.tenant_id) as s:
        for i, (sender, to, wa, kind, body, ref, meta, media) in enumerate(rows):
            s.execute(
                text(
                    "INSERT INTO messages (tenant_id, conversation_id, from_number_id, to_number_id, wa_msg_id, kind, "
                    "body, ref_wa_msg_id, meta, media_id, direction, status, created_at, sent_at) VALUES (:t, :c, "
                    ":a, :b, :wa, CAST(:k AS message_kind), :body, :ref, CAST(:meta AS jsonb), :m, 'out', 'read', "
                    ":at, :at)"
                ),
                {
                    "t": actor.tenant_id,
                    "c": c.id,
                    "a": sender,
                    "b": to,
                    "wa": wa,
                    "k": kind,
                    "body": body,
                    "ref": ref,
                    "meta": json.dumps(meta),
                    "m": media,  # rich-12's file was deleted since: it shows "no longer available"
                    "at": t0 + timedelta(minutes=i),
                },
            )
        s.execute(
            text(
                "INSERT INTO messages (tenant_id, from_number_id, wa_msg_id, kind, body, media_id, direction, status, "
                "created_at, sent_at) VALUES (:t, :a, 'rich-status', 'status', 'Dia lindo hoje ☀️', NULL, 'out', "
                "'read', :at, :at)"
            ),
            {"t": actor.tenant_id, "a": a, "at": t0 + timedelta(minutes=15)},
        )
        s.commit()
    return {"conversation": str(c.id), "a": str(a), "b": str(b)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))

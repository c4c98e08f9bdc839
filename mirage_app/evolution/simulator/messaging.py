"""Messaging between simulated numbers and humans: texts, receipts, receptions, replies and opt-outs.

Rich sends (`rich`, `reactions`, `status`, `edits`, `groups`) reuse its socket and recipient checks; what a
human answers is decided in `humans`.

A send from instance A emits `send.message` at A at once, then (after `ack_delays_s`) `messages.update`
SERVER_ACK → DELIVERY_ACK → READ at A. If the target is instance B, B gets `messages.upsert` with the same
message id when it is (or next comes) online, on whichever server of the network B lives (a down server counts
as offline); if it is a human, the human may answer or opt out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mirage_app.evolution.jids import user_jid
from mirage_app.evolution.simulator import envelope, humans, inbound, payloads
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.envelope import SimHttpError
from mirage_app.evolution.simulator.ids import canonical_phone
from mirage_app.evolution.simulator.models import SimHuman, SimInstance, SimMessage
from mirage_app.evolution.simulator.validation import (
    READ_MESSAGES,
    SEND_PRESENCE,
    TEXT_MESSAGE,
    WHATSAPP_NUMBERS,
    check,
    errors_for,
)


@dataclass(frozen=True)
class Outgoing:
    """A validated send, waiting for its typing `delay` before it is committed."""

    instance: str
    phone: str
    jid: str
    text: str
    delay_ms: int | None
    quote: dict[str, Any] | None  # the contextInfo quote fields (reference §12.5)


class Messaging:
    def __init__(self, core: SimCore) -> None:
        self._core = core
        self._nacked: set[str] = set()  # sends WhatsApp refused (reach-out timelock): they opened no chat

    # -- Evolution routes -----------------------------------------------------------------------------------

    def prepare_text(self, name: str, body: Any) -> Outgoing:
        """Everything sendText checks before its delay: schema, text, socket, recipient."""
        check(body, TEXT_MESSAGE)
        if not body["text"].strip():
            raise envelope.bad_request("Text is required")
        with self._core.lock:
            inst = self.require_socket(
                name, unloaded_message="Cannot read properties of undefined (reading 'textMessage')"
            )
            phone, jid = self.recipient(body["number"])
            delay = body.get("delay")
            quote = inbound.quote_context(self._core, inst, body.get("quoted"), jid)
            return Outgoing(name, phone, jid, body["text"], int(delay) if delay is not None else None, quote)

    def commit_text(self, out: Outgoing) -> dict[str, Any]:
        """Send it: record, emit `send.message` and schedule receipts. Returns sendText's 201 body."""
        core = self._core
        with core.lock:
            inst = self.require_socket(out.instance)
            now = core.now()
            key_id = core.ids.web_message_id()
            raw = payloads.message_raw(inst, out.jid, key_id, out.text, now, out.quote)
            message = {"conversation": out.text}
            core.messages.append(
                SimMessage(inst.name, key_id, True, out.phone, out.text, now, out.delay_ms, message=message)
            )
            core.emit(inst, "send.message", raw)
            self._schedule_receipts(inst, out, key_id)
            return raw

    def prepare_presence(self, name: str, body: Any) -> dict[str, Any]:
        """sendPresence's checks; returns the record to commit once the delay has passed."""
        check(body, SEND_PRESENCE)
        with self._core.lock:
            try:  # both checks sit inside the try of `sendPresence`: a 400 with the error `toString()`-ed
                self.require_socket(name)
                phone, _ = self.recipient(body["number"])
            except SimHttpError as exc:
                if exc.status == 404 or self._core.config.faults.is_unloaded(name):
                    raise
                text = "[object Object]" if exc.status == 400 else "Error: Connection Closed"
                raise envelope.bad_request(text) from exc
            return {"instance": name, "phone": phone, "presence": body["presence"], "delay": body["delay"]}

    def commit_presence(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._core.lock:
            self._core.presences.append(record | {"at": payloads.iso(self._core.now())})
            return {"presence": record["presence"]}

    def mark_read(self, name: str, body: Any) -> dict[str, Any]:
        check(body, READ_MESSAGES)
        core = self._core
        with core.lock:
            inst = core.instance(name)
            if inst.status != "open" or core.config.faults.is_disconnected(name):
                raise envelope.http_error(500, ["Read messages fail", "Error: Connection Closed"])
            for item in body["readMessages"]:
                if item["remoteJid"].endswith(("@s.whatsapp.net", "@g.us")):  # @lid keys are skipped silently
                    core.reads.append({"instance": name, **item, "at": payloads.iso(core.now())})
            return {"message": "Read messages", "read": "success"}

    def whatsapp_numbers(self, name: str, body: Any) -> list[dict[str, Any]]:
        """This route answers 400 with the raw error object, without the `response` wrapper."""
        errors = errors_for(body, WHATSAPP_NUMBERS)
        if errors:
            raise SimHttpError(400, {"status": 400, "error": "Bad Request", "message": [errors]})
        core = self._core
        with core.lock:
            inst = core.instance(name)
            numbers = body.get("numbers")
            if not isinstance(numbers, list) or inst.status != "open" or core.config.faults.is_disconnected(name):
                raise SimHttpError(400, {})  # a TypeError or a closed socket serialises as {}
            return [self._lookup(number) for number in numbers]

    # -- control API ----------------------------------------------------------------------------------------

    def add_human(
        self,
        phone: str,
        name: str,
        reply_probability: float = 0.5,
        optout_probability: float = 0.1,
        reply_texts: list[str] | None = None,
        optout_text: str = "SAIR",
    ) -> SimHuman:
        """Register an external WhatsApp user. On each message they opt out with `optout_probability`,
        else reply with `reply_probability`, else stay silent; after opting out they never answer again."""
        for label, value in (("reply_probability", reply_probability), ("optout_probability", optout_probability)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{label} must be between 0 and 1")
        digits = canonical_phone(phone)
        with self._core.lock:
            if not digits or self._core.network.is_instance_phone(digits):
                raise ValueError(f"{phone!r} is empty or linked to a simulated instance")
            human = self._new_human(digits, name, reply_probability, optout_probability)
            human.optout_text = optout_text
            if reply_texts:
                human.reply_texts = list(reply_texts)
            self._core.humans[digits] = human
            return human

    def inject_inbound(
        self, instance: str, from_phone: str, text: str, lid: bool = False, push_name: str | None = None
    ) -> str:
        """Deliver a text from `from_phone` to `instance` (queued until it is open). Returns the message id."""
        core = self._core
        digits = canonical_phone(from_phone)
        if not digits:
            raise ValueError("from_phone has no digits")
        with core.lock:
            inst = core.instance(instance)
            key_id = core.ids.phone_message_id()
            core.when_open(inst, lambda: receive(core, inst, digits, key_id, text, lid, push_name))
            return key_id

    # -- internals ------------------------------------------------------------------------------------------

    def require_socket(self, name: str, unloaded_message: str = "Connection Closed") -> SimInstance:
        """Sends need a live socket; a closed one fails with 500 `Connection Closed` like Baileys."""
        core = self._core
        inst = core.instance(name)
        if core.config.faults.is_unloaded(name):
            raise envelope.runtime_error(unloaded_message)
        if inst.status != "open" or core.config.faults.is_disconnected(name):
            raise envelope.connection_closed()
        return inst

    def _new_human(self, phone: str, name: str, reply: float, optout: float) -> SimHuman:
        """A human with the server's rich-answer habits (`SimConfig.human_*_probability`)."""
        cfg = self._core.config
        return SimHuman(
            phone,
            name,
            reply,
            optout,
            react_probability=cfg.human_react_probability,
            quote_probability=cfg.human_quote_probability,
            voice_back_probability=cfg.human_voice_back_probability,
        )

    def resolve(self, number: str) -> str | None:
        """Phone digits behind a number or JID if someone simulated owns it."""
        core = self._core
        user, _, server = number.partition("@")
        if server == "lid":
            return next((phone for phone, lid in core.lids.items() if lid == user), None)
        if server not in ("", "s.whatsapp.net", "c.us"):
            return None
        phone = canonical_phone(user)
        unknown = phone and not core.network.is_taken(phone)
        if unknown and core.config.auto_humans and phone.isdigit() and 10 <= len(phone) <= 15:
            cfg = core.config
            core.humans[phone] = self._new_human(
                phone, f"Contato {phone[-4:]}", cfg.auto_human_reply_probability, cfg.auto_human_optout_probability
            )
        return phone if core.network.is_taken(phone) else None

    def recipient(self, number: str) -> tuple[str, str]:
        phone = self.resolve(number)
        if phone is None:
            raise SimHttpError(400, envelope.envelope(400, [self._lookup(number)]))
        return phone, user_jid(phone)

    def _lookup(self, number: str) -> dict[str, Any]:
        """One `OnWhatsAppDto`: `{jid, exists, number[, name]}`."""
        phone = self.resolve(number)
        if phone is None:
            jid = number if "@" in number else user_jid(canonical_phone(number))
            return {"jid": jid, "exists": False, "number": number}
        return {"jid": user_jid(phone), "exists": True, "number": number, "name": self._core.display_name(phone)}

    def _schedule_receipts(self, inst: SimInstance, out: Outgoing, key_id: str) -> None:
        core = self._core
        row_id = core.ids.cuid()
        server_ack_s, delivered_s, read_s = core.config.ack_delays_s
        read_after_s = max(0.0, read_s - delivered_s)
        sender_name, sender_phone = inst.name, inst.phone or ""

        def receipt(status: str) -> None:
            with core.lock:
                sender = core.instances.get(sender_name)
                if sender is not None:
                    core.emit(sender, "messages.update", payloads.update_data(sender, key_id, out.jid, status, row_id))

        def delivered_and_read() -> None:
            receipt("DELIVERY_ACK")
            core.dispatcher.call_later(read_after_s, read_and_react)

        def read_and_react() -> None:
            receipt("READ")
            humans.answer(core, sender_name, out.phone, key_id, {"conversation": out.text})

        def hand_over() -> None:
            with core.lock:
                owner = core.network.owner_instance(out.phone)
                if owner is None:
                    delivered_and_read()
                    return
                target_core, target = owner  # maybe another server of the network
                lid = core.chance(core.config.lid_probability)

                def arrive() -> None:
                    receive(target_core, target, sender_phone, key_id, out.text, lid, context=out.quote)
                    delivered_and_read()

                target_core.when_open(target, arrive)

        if core.config.faults.is_restricted(sender_name) and self._first_contact(sender_name, out.phone, key_id):
            # WhatsApp nacks with 463; Evolution 2.3.7 passes on only the ERROR status, and nothing follows.
            self._nacked.add(key_id)
            core.dispatcher.call_later(server_ack_s, lambda: receipt("ERROR"))
            return
        core.dispatcher.call_later(server_ack_s, lambda: receipt("SERVER_ACK"))
        core.dispatcher.call_later(max(server_ack_s, delivered_s), hand_over)

    def _first_contact(self, instance: str, phone: str, key_id: str) -> bool:
        """No earlier message either way between the instance and the phone (a chat without a privacy token)."""
        return not any(
            m.instance == instance and m.peer_phone == phone and m.key_id != key_id and m.key_id not in self._nacked
            for m in self._core.messages
        )


def receive(
    core: SimCore,
    inst: SimInstance,
    phone: str,
    key_id: str,
    text: str,
    lid: bool,
    push_name: str | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Emit `messages.upsert` (+ `contacts.upsert`) at `inst` of `core` for a text from `phone`."""
    with core.lock:
        key = inbound.direct_key(core, phone, key_id, lid)
        name = push_name or core.display_name(phone)
        message = {"conversation": text}
        record = SimMessage(inst.name, key_id, False, phone, text, core.now(), lid=lid, message=message)
        inbound.deliver(core, inst, key, name, message, "conversation", record, context)

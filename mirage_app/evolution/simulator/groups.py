"""Groups (reference §13): create, list, participants, add/remove/promote/demote, leave, and their webhooks.

Groups live on the `SimNetwork`, so every server of a pool sees the same group and members on other servers
receive its messages. Group JIDs look like WhatsApp's (`120363` + 12 digits `@g.us`); members appear as
`@lid` ids with their phone JID beside them (`addressingMode: "lid"`), as Baileys 7 reports them.
"""

from __future__ import annotations

from typing import Any

from mirage_app.evolution.errors import OBJECT_OBJECT
from mirage_app.evolution.jids import user_jid
from mirage_app.evolution.simulator import envelope
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.envelope import SimHttpError
from mirage_app.evolution.simulator.messaging import Messaging
from mirage_app.evolution.simulator.models import SimGroup, SimInstance, SimParticipant
from mirage_app.evolution.simulator.rich_schemas import CREATE_GROUP, GROUP_JID, UPDATE_PARTICIPANTS
from mirage_app.evolution.simulator.validation import Schema, check, located_errors_for

_MISSING_GROUP = ("The group id needs to be informed in the query", 'ex: "groupJid=120362@g.us"')
_ADMINS = ("superadmin", "admin")


class Groups:
    def __init__(self, core: SimCore, messaging: Messaging) -> None:
        self._core = core
        self._messaging = messaging

    def create(self, name: str, body: Any) -> dict[str, Any]:
        check(body, CREATE_GROUP)
        core = self._core
        with core.lock:
            inst = self._socket(name, ["Error creating group", "Error: Connection Closed"], 500)
            creator = inst.phone or ""
            now = int(core.now().timestamp())
            jid = f"120363{core.rng.randrange(10**11, 10**12)}@g.us"
            group = SimGroup(jid, body["subject"], body.get("description") or None, creator, now)
            group.participants[creator] = SimParticipant(creator, "superadmin")
            promote = body.get("promoteParticipants") is True
            for number in body["participants"]:
                phone = self._messaging.resolve(number)  # numbers not on WhatsApp are dropped silently
                if phone and phone != creator:
                    group.participants[phone] = SimParticipant(phone, "admin" if promote else None)
            if group.desc:
                group.desc_id = core.ids.web_message_id()
            core.network.groups[jid] = group
            for phone in group.participants:
                if phone != creator:
                    self._notify(phone, "groups.upsert", lambda tc, g=group: [metadata(tc, g) | _author(tc, creator)])
            return metadata(core, group)

    def fetch_all(self, name: str, query: dict[str, str]) -> list[dict[str, Any]]:
        flag = query.get("getParticipants")
        if flag is None:
            raise envelope.bad_request("The getParticipants needs to be informed in the query")
        if flag not in ("true", "false"):
            message = "getParticipants is not one of enum values: true,false"
            raise envelope.bad_request({"property": "getParticipants", "message": message})
        core = self._core
        with core.lock:
            inst = self._messaging.require_socket(name)
            mine = [g for g in core.network.groups.values() if (inst.phone or "") in g.participants]
            return [listing(core, g, flag == "true") for g in mine]

    def participants(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        jid = group_jid_param(query, GROUP_JID)
        core = self._core
        with core.lock:
            inst = self._socket(name, ["No participants", "Error: Connection Closed"], 404)
            group = core.network.groups.get(jid)
            if group is None or (inst.phone or "") not in group.participants:
                raise envelope.http_error(404, ["No participants", "Error: item-not-found"])
            return {"participants": [_participant(core, p) for p in group.participants.values()]}

    def update_participants(self, name: str, query: dict[str, str], body: Any) -> dict[str, Any]:
        merged = (body if isinstance(body, dict) else {}) | (
            {"groupJid": query["groupJid"]} if "groupJid" in query else {}
        )
        jid = group_jid_param(merged, UPDATE_PARTICIPANTS)
        core = self._core
        with core.lock:
            inst = self._socket(name, ["Error updating participants", "Error: Connection Closed"], 400)
            group = core.network.groups.get(jid)
            me = inst.phone or ""
            if group is None:
                raise envelope.bad_request("Error updating participants", "Error: item-not-found")
            if group.participants.get(me) is None or group.participants[me].admin not in _ADMINS:
                raise envelope.bad_request("Error updating participants", "Error: not-authorized")
            action = merged["action"]
            results, changed = [], []
            for number in merged["participants"]:
                phone = self._messaging.resolve(number)
                target = user_jid(phone or number)
                status = self._apply(group, action, phone)
                if status == "200" and phone:
                    changed.append(phone)
                content = {"tag": "participant", "attrs": {"jid": target}}
                results.append({"status": status, "jid": target, "content": content})
            if changed:
                self._announce(group, action, me, changed)
            return {"updateParticipants": results}

    def leave(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        jid = group_jid_param(query, {})
        core = self._core
        with core.lock:
            inst = self._socket(name, ["Unable to leave the group", "Error: Connection Closed"], 400)
            group = core.network.groups.get(jid)
            me = inst.phone or ""
            if group is None or me not in group.participants:
                raise envelope.bad_request("Unable to leave the group", "Error: item-not-found")
            self._announce(group, "remove", me, [me], leaving=True)
            return {"groupJid": jid, "leave": True}

    # -- internals --------------------------------------------------------------------------------------------

    def _socket(self, name: str, closed: list[str], status: int) -> SimInstance:
        """Group routes wrap a closed socket in their own error envelope."""
        try:
            return self._messaging.require_socket(name)
        except SimHttpError as exc:
            if exc.status == 404:
                raise
            raise envelope.http_error(status, closed) from exc

    def _apply(self, group: SimGroup, action: str, phone: str | None) -> str:
        """WhatsApp's per-participant status code (a string), after changing the group."""
        members = group.participants
        if phone is None:
            return "404"
        if action == "add":
            if phone in members:
                return "409"
            members[phone] = SimParticipant(phone)
            return "200"
        if phone not in members:
            return "404"
        if action == "remove":
            return "200"  # removed in `_announce`, after the removed member heard of it
        members[phone].admin = "admin" if action == "promote" else None
        return "200"

    def _announce(self, group: SimGroup, action: str, author: str, phones: list[str], leaving: bool = False) -> None:
        """`group-participants.update` at every member's instance (the changed ones included)."""
        audience = list(group.participants)
        for phone in phones:
            if action == "add":
                self._notify(phone, "groups.upsert", lambda tc: [metadata(tc, group) | _author(tc, author)])

        def data(tc: SimCore, listener: str) -> dict[str, Any]:
            changed = [_participant(tc, group.participants[p]) for p in phones if p in group.participants]
            body: dict[str, Any] = {"id": group.jid, **_author(tc, author), "participants": changed, "action": action}
            if not (action == "remove" and listener in phones):  # the lookup fails for a removed listener
                body["participantsData"] = [{"jid": p, "phoneNumber": OBJECT_OBJECT} for p in changed]
            return body

        for phone in audience:
            self._notify(phone, "group-participants.update", lambda tc, listener=phone: data(tc, listener))
        if action == "remove":
            for phone in phones:
                group.participants.pop(phone, None)

    def _notify(self, phone: str, event: str, build: Any) -> None:
        """Emit `event` at the instance holding `phone` (on whichever server), when it is online."""
        owner = self._core.network.owner_instance(phone)
        if owner is None:
            return
        target_core, target = owner
        data = build(target_core)  # built now: the group may change before the instance comes online
        target_core.when_open(target, lambda: target_core.emit(target, event, data))


def group_jid_param(source: dict[str, Any], schema: Schema) -> str:
    """`groupValidate`: the JID is required, gets `@g.us` appended, then the route schema runs (objects)."""
    raw = source.get("groupJid")
    if not raw:
        raise envelope.bad_request(*_MISSING_GROUP)
    jid = raw if str(raw).endswith("@g.us") else f"{raw}@g.us"
    errors = located_errors_for(source | {"groupJid": jid}, schema) if schema else []
    if errors:
        raise envelope.bad_request(*({"property": prop, "message": message} for prop, message in errors))
    return jid


def metadata(core: SimCore, group: SimGroup) -> dict[str, Any]:
    """The raw Baileys `GroupMetadata` (`/group/create`, `groups.upsert`)."""
    owner = f"{core.lid_for(group.owner_phone)}@lid"
    body: dict[str, Any] = {
        "id": group.jid,
        "addressingMode": "lid",
        "subject": group.subject,
        "subjectOwner": owner,
        "subjectOwnerPn": user_jid(group.owner_phone),
        "subjectTime": group.creation,
        "size": len(group.participants),
        "creation": group.creation,
        "owner": owner,
        "ownerPn": user_jid(group.owner_phone),
        "owner_country_code": "BR",
    }
    if group.desc:
        body |= {"desc": group.desc, "descId": group.desc_id, "descOwner": owner, "descTime": group.creation}
    body |= {
        "restrict": False,
        "announce": False,
        "isCommunity": False,
        "isCommunityAnnounce": False,
        "joinApprovalMode": False,
        "memberAddMode": False,
        "participants": [_participant(core, p) for p in group.participants.values()],
    }
    return body


def listing(core: SimCore, group: SimGroup, with_participants: bool) -> dict[str, Any]:
    """One `fetchAllGroups` row (Evolution's own shape)."""
    full = metadata(core, group)
    keys = ("id", "subject", "subjectOwner", "subjectTime", "size", "creation", "owner", "desc", "descId")
    row = {k: full[k] for k in keys if k in full} | {"pictureUrl": None}
    row |= {k: full[k] for k in ("restrict", "announce", "isCommunity", "isCommunityAnnounce")}
    if with_participants:
        row["participants"] = full["participants"]
    return row


def _participant(core: SimCore, member: SimParticipant) -> dict[str, Any]:
    return {"id": f"{core.lid_for(member.phone)}@lid", "phoneNumber": user_jid(member.phone), "admin": member.admin}


def _author(core: SimCore, phone: str) -> dict[str, Any]:
    return {"author": f"{core.lid_for(phone)}@lid", "authorPn": user_jid(phone)}

"""Rich sends and groups for `EvolutionClient` (reference §11–§13), as a mixin over its `_call`.

Media bodies are base64 (Mirage keeps files in PostgreSQL, there is no public URL). Every send returns the same
`SentMessage` sendText returns. Retries follow the client's rules: sends are writes and are never resent unless
the request provably did not reach Evolution; the two group listings are reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import quote

import httpx

from mirage_app.evolution.models import SentMessage
from mirage_app.evolution.rich_models import (
    EditedMessage,
    GroupInfo,
    GroupParticipant,
    MessageKey,
    ParticipantChange,
    QuotedRef,
)

MediaType = Literal["image", "video", "document", "audio"]
StatusKind = Literal["text", "image"]
ParticipantAction = Literal["add", "remove", "promote", "demote"]


def api_path(group: str, action: str, instance: str) -> str:
    return f"/{group}/{action}/{quote(instance, safe='')}"


class _Transport(Protocol):
    def _call(
        self,
        method: str,
        path: str,
        safety: Literal["read", "write"],
        token: str | None,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Any: ...

    def _send_timeout(self, delay_ms: int | None) -> httpx.Timeout: ...


class RichActionsMixin:
    """The rich-action routes; `EvolutionClient` provides `_call` and `_send_timeout`."""

    def send_media(
        self: _Transport,
        name: str,
        number: str,
        *,
        mediatype: MediaType = "image",
        media_b64: str,
        mimetype: str,
        file_name: str,
        caption: str | None = None,
        delay_ms: int | None = None,
        quoted: QuotedRef | None = None,
        token: str | None = None,
    ) -> SentMessage:
        """Picture, video, document or plain audio. Evolution re-encodes pictures to JPEG and sets the mimetype
        from `file_name` (always give it an extension). A body that is not what it claims is a 500."""
        body = {"number": number, "mediatype": mediatype, "media": media_b64, "mimetype": mimetype}
        body |= {"fileName": file_name}
        return _send(self, name, "sendMedia", body, delay_ms, quoted, caption=caption, token=token)

    def send_voice(
        self: _Transport,
        name: str,
        number: str,
        *,
        audio_b64: str,
        delay_ms: int | None = None,
        token: str | None = None,
    ) -> SentMessage:
        """A voice note (PTT): Evolution converts to OGG/Opus and shows "recording…" for `delay_ms`.
        `quoted` is ignored by 2.3.7 on this route, so it is not offered."""
        return _send(
            self, name, "sendWhatsAppAudio", {"number": number, "audio": audio_b64}, delay_ms, None, token=token
        )

    def send_sticker(
        self: _Transport,
        name: str,
        number: str,
        *,
        sticker_b64: str,
        delay_ms: int | None = None,
        quoted: QuotedRef | None = None,
        token: str | None = None,
    ) -> SentMessage:
        """Any image Evolution can read, sent as a WebP sticker."""
        return _send(
            self, name, "sendSticker", {"number": number, "sticker": sticker_b64}, delay_ms, quoted, token=token
        )

    def send_reaction(
        self: _Transport, name: str, *, key: MessageKey, emoji: str, token: str | None = None
    ) -> SentMessage:
        """React to the message `key` (from this instance's view) with one emoji; `""` removes the reaction."""
        body = {"key": key.to_body(), "reaction": emoji}
        return SentMessage.from_body(
            self._call("POST", api_path("message", "sendReaction", name), "write", token, json=body)
        )

    def send_location(
        self: _Transport,
        name: str,
        number: str,
        *,
        latitude: float,
        longitude: float,
        place_name: str,
        address: str,
        delay_ms: int | None = None,
        quoted: QuotedRef | None = None,
        token: str | None = None,
    ) -> SentMessage:
        body = {"number": number, "latitude": latitude, "longitude": longitude, "name": place_name, "address": address}
        return _send(self, name, "sendLocation", body, delay_ms, quoted, token=token)

    def send_contact(
        self: _Transport,
        name: str,
        number: str,
        *,
        full_name: str,
        wuid: str,
        phone_number: str,
        token: str | None = None,
    ) -> SentMessage:
        """One contact card. `wuid` (digits) links the card to the WhatsApp account; `phone_number` ≥ 10 chars."""
        card = {"fullName": full_name, "wuid": wuid, "phoneNumber": phone_number}
        return _send(self, name, "sendContact", {"number": number, "contact": [card]}, None, None, token=token)

    def update_message(
        self: _Transport, name: str, number: str, *, key: MessageKey, text: str, token: str | None = None
    ) -> EditedMessage:
        """Edit a sent text. Pass `number` equal to the `remoteJid` the send returned: a 9th-digit rewrite makes
        Evolution answer 400 "RemoteJid does not match"; an unknown id is 400 "Message not compatible"."""
        body = {"number": number, "key": key.to_body(), "text": text}
        return EditedMessage.from_body(
            self._call("POST", api_path("chat", "updateMessage", name), "write", token, json=body)
        )

    def send_status(
        self: _Transport,
        name: str,
        *,
        kind: StatusKind,
        content: str,
        jid_list: Iterable[str],
        caption: str | None = None,
        background_color: str | None = None,
        font: int | None = None,
        token: str | None = None,
    ) -> SentMessage:
        """A status post seen by `jid_list` (numbers or JIDs). Text needs `background_color` (#RRGGBB) and a
        `font` 1–5; a picture's `content` must be a URL (Evolution 2.3.7 fails base64 status pictures)."""
        body: dict[str, Any] = {"type": kind, "content": content, "statusJidList": [_user_jid(j) for j in jid_list]}
        optional = {"caption": caption, "backgroundColor": background_color, "font": font}
        body |= {k: v for k, v in optional.items() if v is not None}
        return SentMessage.from_body(
            self._call("POST", api_path("message", "sendStatus", name), "write", token, json=body)
        )

    # -- groups -----------------------------------------------------------------------------------------------

    def group_create(
        self: _Transport,
        name: str,
        subject: str,
        participants: Iterable[str],
        description: str | None = None,
        *,
        token: str | None = None,
    ) -> GroupInfo:
        """Create a group with this instance as superadmin. Numbers without WhatsApp are dropped silently:
        compare `participants` of the result with what you asked for."""
        body: dict[str, Any] = {"subject": subject, "participants": list(participants)}
        if description:
            body["description"] = description
        return GroupInfo.from_body(self._call("POST", api_path("group", "create", name), "write", token, json=body))

    def group_participants(
        self: _Transport, name: str, group_jid: str, *, token: str | None = None
    ) -> list[GroupParticipant]:
        """Members with their admin flags; `EvolutionNotFound` when this instance is not a member."""
        body = self._call("GET", api_path("group", "participants", name), "read", token, params={"groupJid": group_jid})
        if not isinstance(body, dict):
            return GroupParticipant.list_from_body(None)
        return GroupParticipant.list_from_body(body.get("participants"))

    def group_update_participants(
        self: _Transport,
        name: str,
        group_jid: str,
        action: ParticipantAction,
        participants: Iterable[str],
        *,
        token: str | None = None,
    ) -> list[ParticipantChange]:
        """Add, remove, promote or demote (admins only). Check each result's `ok`: HTTP 201 is not success."""
        body = {"action": action, "participants": list(participants)}
        path = api_path("group", "updateParticipant", name)
        return ParticipantChange.list_from_body(
            self._call("POST", path, "write", token, json=body, params={"groupJid": group_jid})
        )

    def fetch_all_groups(
        self: _Transport, name: str, with_participants: bool = False, *, token: str | None = None
    ) -> list[GroupInfo]:
        params = {"getParticipants": "true" if with_participants else "false"}
        body = self._call("GET", api_path("group", "fetchAllGroups", name), "read", token, params=params)
        if not isinstance(body, list):
            body = [body]  # from_body raises the bad_response error
        return [GroupInfo.from_body(item) for item in body]

    def leave_group(self: _Transport, name: str, group_jid: str, *, token: str | None = None) -> None:
        self._call("DELETE", api_path("group", "leaveGroup", name), "write", token, params={"groupJid": group_jid})


def _send(
    client: _Transport,
    name: str,
    route: str,
    body: dict[str, Any],
    delay_ms: int | None,
    quoted: QuotedRef | None,
    *,
    caption: str | None = None,
    token: str | None,
) -> SentMessage:
    """One `/message/send*` call; the read timeout covers the delay Evolution holds the response for."""
    if delay_ms is not None:
        body["delay"] = int(delay_ms)
    if quoted is not None:
        body["quoted"] = quoted.to_body()
    if caption:
        body["caption"] = caption
    timeout = client._send_timeout(delay_ms)
    return SentMessage.from_body(
        client._call("POST", api_path("message", route, name), "write", token, json=body, timeout=timeout)
    )


def _user_jid(number: str) -> str:
    """statusJidList items reach Baileys unchanged, so bare digits must become full JIDs."""
    return number if "@" in number else f"{''.join(ch for ch in number if ch.isdigit())}@s.whatsapp.net"

"""WhatsApp JID helpers shared by webhook normalisation and the simulator (pure, no I/O)."""

from __future__ import annotations

USER_SERVER = "s.whatsapp.net"
LEGACY_USER_SERVER = "c.us"
GROUP_SERVER = "g.us"
LID_SERVER = "lid"


def split_jid(jid: str) -> tuple[str, str]:
    """`"5511...:12@s.whatsapp.net"` → `("5511...", "s.whatsapp.net")`; the device suffix is dropped."""
    user, _, server = jid.partition("@")
    return user.split(":", 1)[0], server


def is_group_jid(jid: str) -> bool:
    return split_jid(jid)[1] == GROUP_SERVER


def is_lid_jid(jid: str) -> bool:
    return split_jid(jid)[1] == LID_SERVER


def phone_from_jid(jid: str) -> str | None:
    """Digits of a phone JID; None for groups, `@lid` and anything else that is not a phone number."""
    user, server = split_jid(jid)
    if server in (USER_SERVER, LEGACY_USER_SERVER) and user.isascii() and user.isdigit():
        return user
    return None


def phone_digits(number: str) -> str:
    """What Evolution keeps of a typed number: `+55 (11) 9...` → `5511 9...` digits only."""
    return "".join(ch for ch in number if "0" <= ch <= "9")


def user_jid(phone: str) -> str:
    return f"{phone_digits(phone)}@{USER_SERVER}"

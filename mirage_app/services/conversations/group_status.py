"""What the conversation's header says about its warming group (read side of services.conversations.groups)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.db import tenant_session
from mirage_app.models import ConversationParticipant, ParticipantKind
from mirage_app.models.media import GroupState, WarmingGroupMember
from mirage_app.services.conversations.groups import group_of
from mirage_app.services.conversations.records import load_conversation


@dataclass(frozen=True)
class GroupView:
    subject: str
    description: str
    state: str  # pending | active | failed | closed
    error: str | None  # Evolution's reason when the creation was refused
    members: int  # members who have not left


def group_status(actor: Actor, conversation_id: Any) -> GroupView | None:
    """The warming group of a `group` conversation, as the conversation's header shows it (None for other modes)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        group = group_of(s, conv)
        if group is None:
            return None
        if group.state == GroupState.pending:  # not on WhatsApp yet: its members are the numbers taking part
            query = select(ConversationParticipant).where(
                ConversationParticipant.conversation_id == conv.id, ConversationParticipant.kind == ParticipantKind.bot
            )
        else:
            query = select(WarmingGroupMember).where(
                WarmingGroupMember.group_id == group.id, col(WarmingGroupMember.left_at).is_(None)
            )
        members = len(s.exec(query).all())
        return GroupView(group.subject, group.description, group.state.value, group.error, members)

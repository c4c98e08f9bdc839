"""The warming group behind a `group` conversation: made with the conversation, created on WhatsApp by the engine
(engine.groups) before its first round, retried when the operator switches a failed one on again."""

from __future__ import annotations

from sqlmodel import select

from mirage_app.base.errors import ValidationFailed
from mirage_app.core.clock import Clock
from mirage_app.logic import group_names
from mirage_app.models import Conversation, ConversationMode, ConversationParticipant, ParticipantKind, Tenant
from mirage_app.models.media import GroupState, WarmingGroup


def group_of(s, conv: Conversation) -> WarmingGroup | None:
    return s.exec(select(WarmingGroup).where(WarmingGroup.conversation_id == conv.id)).first()


def ensure_group(s, conv: Conversation, clock: Clock) -> WarmingGroup | None:
    """A group conversation has its warming group row (pending until the engine creates it on WhatsApp); a failed
    one goes back to pending, to be tried again. Other modes have none to ensure."""
    if conv.mode != ConversationMode.group:
        return None
    group = group_of(s, conv)
    if group is None:
        locale = s.get(Tenant, conv.tenant_id).locale
        subject, description = group_names.suggest(locale, conv.id)
        group = WarmingGroup(
            tenant_id=conv.tenant_id, conversation_id=conv.id, subject=subject, description=description
        )
    elif group.state == GroupState.failed:
        group.state, group.error, group.updated_at = GroupState.pending, None, clock.now()
    s.add(group)
    return group


def check_group_ready(conv: Conversation, people: list[ConversationParticipant]) -> None:
    """A warming group is made of the tenant's own numbers only, at least two of them."""
    if conv.mode != ConversationMode.group:
        return
    if any(p.kind != ParticipantKind.bot for p in people):
        raise ValidationFailed("conversations.group_numbers_only", field="mode")
    if sum(1 for p in people if p.kind == ParticipantKind.bot) < 2:
        raise ValidationFailed("conversations.group_needs_numbers", field="mode")

"""Every table, imported here so SQLModel.metadata (and Alembic) sees them all."""

from mirage_app.models.conversations import (
    Conversation,
    ConversationParticipant,
    ConversationSchedule,
    ConversationSettings,
    Pairing,
    Round,
    Topic,
)
from mirage_app.models.enums import (
    ConsentStatus,
    ConversationMode,
    MessageDirection,
    MessageStatus,
    NumberStatus,
    ParticipantKind,
    RoundState,
    TargetStatus,
    TenantPlan,
    UserRole,
    Weekday,
)
from mirage_app.models.messaging import Message, WebhookEvent
from mirage_app.models.numbers import EvolutionSession, Number, Persona
from mirage_app.models.outreach import Contact, OutreachPolicy, OutreachTarget, Suppression
from mirage_app.models.servers import EvolutionServer, EvolutionServerKey, ServerHealth, ServerState
from mirage_app.models.tenancy import (
    ApiKey,
    AuditLog,
    Invitation,
    Tenant,
    TenantSettings,
    User,
    UserSession,
)

TENANT_TABLES = [
    model.__tablename__
    for model in (
        User,
        Invitation,
        UserSession,
        ApiKey,
        TenantSettings,
        AuditLog,
        Persona,
        Number,
        EvolutionSession,
        EvolutionServer,
        EvolutionServerKey,
        Conversation,
        ConversationParticipant,
        Pairing,
        Topic,
        ConversationSchedule,
        ConversationSettings,
        Round,
        Message,
        WebhookEvent,
        Contact,
        OutreachPolicy,
        OutreachTarget,
        Suppression,
    )
]

__all__ = [
    "TENANT_TABLES",
    "ApiKey",
    "AuditLog",
    "ConsentStatus",
    "Contact",
    "Conversation",
    "ConversationMode",
    "ConversationParticipant",
    "ConversationSchedule",
    "ConversationSettings",
    "EvolutionServer",
    "EvolutionServerKey",
    "EvolutionSession",
    "Invitation",
    "Message",
    "MessageDirection",
    "MessageStatus",
    "Number",
    "NumberStatus",
    "OutreachPolicy",
    "OutreachTarget",
    "Pairing",
    "ParticipantKind",
    "Persona",
    "Round",
    "RoundState",
    "ServerHealth",
    "ServerState",
    "Suppression",
    "TargetStatus",
    "Tenant",
    "TenantPlan",
    "TenantSettings",
    "Topic",
    "User",
    "UserRole",
    "UserSession",
    "WebhookEvent",
    "Weekday",
]

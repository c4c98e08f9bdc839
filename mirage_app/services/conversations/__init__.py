"""Warming conversations: one module per concern, every public name re-exported here (`conversations.activate`, ...).

`records` holds the conversation itself (create / list / update / delete, activation, the lookups the other
modules share), `settings` the per-conversation overrides of pacing and model, `schedule` the weekly 7×3 grid,
`participants` the numbers and consenting contacts taking part with their start order and pairings, `topics`
the topics, `rounds_feed` the read-only rounds and messages of the live panel. Every function takes the acting
`Actor`, authorizes (`conversations.manage` to change, `data.read` to look), validates into
`ValidationFailed(code, field=...)` and audits.
"""

from mirage_app.services.conversations.group_status import GroupView, group_status
from mirage_app.services.conversations.participants import (
    PairingView,
    ParticipantView,
    add_participant,
    list_pairings,
    list_participants,
    participant_impact,
    remove_participant,
    reorder_participants,
    set_pairings,
)
from mirage_app.services.conversations.records import (
    TOPIC_STRATEGIES,
    ConversationView,
    activate,
    conversation_impact,
    create_conversation,
    deactivate,
    delete_conversation,
    get_conversation,
    list_conversations,
    update_conversation,
)
from mirage_app.services.conversations.rounds_feed import RoundView, list_rounds, recent_messages
from mirage_app.services.conversations.schedule import DayScheduleView, get_schedule, next_window, set_schedule
from mirage_app.services.conversations.settings import (
    OVERRIDE_FIELDS,
    ConversationSettingsView,
    get_settings,
    set_settings,
)
from mirage_app.services.conversations.topics import (
    TopicView,
    create_topic,
    delete_topic,
    list_topics,
    topic_impact,
    update_topic,
)

__all__ = [
    "OVERRIDE_FIELDS",
    "TOPIC_STRATEGIES",
    "ConversationSettingsView",
    "ConversationView",
    "DayScheduleView",
    "GroupView",
    "PairingView",
    "ParticipantView",
    "RoundView",
    "TopicView",
    "activate",
    "add_participant",
    "conversation_impact",
    "create_conversation",
    "create_topic",
    "deactivate",
    "delete_conversation",
    "delete_topic",
    "get_conversation",
    "get_schedule",
    "get_settings",
    "group_status",
    "list_conversations",
    "list_pairings",
    "list_participants",
    "list_rounds",
    "list_topics",
    "next_window",
    "participant_impact",
    "recent_messages",
    "remove_participant",
    "reorder_participants",
    "set_pairings",
    "set_schedule",
    "set_settings",
    "topic_impact",
    "update_conversation",
    "update_topic",
]

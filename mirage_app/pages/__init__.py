"""One module per route; importing them registers the pages."""

from mirage_app.pages import (  # noqa: F401
    audit,
    contacts,
    conversation_participants,
    conversation_schedule,
    conversation_settings,
    conversation_topics,
    conversations,
    instances,
    invite,
    login,
    media,
    metrics,
    not_found,
    outreach_policies,
    outreach_targets,
    overview,
    personas,
    platform,
    settings,
)

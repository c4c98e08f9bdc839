"""Request schemas of the rich-action routes (`src/validate/{message,chat,group}.schema.ts` at 2.3.7)."""

from __future__ import annotations

from mirage_app.evolution.simulator.validation import Schema

_NUMBER: Schema = {"type": "string", "description": "Invalid format"}
_DELAY: Schema = {"type": "integer", "description": "Enter a value in milliseconds"}
_KEY: Schema = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "remoteJid": {"type": "string"}, "fromMe": {"type": "boolean"}},
    "required": ["id", "remoteJid", "fromMe"],
}
QUOTED: Schema = {
    "properties": {
        "key": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        "message": {"type": "object"},
    },
}
_MENTIONED: Schema = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {"type": "string", "pattern": r"^\d+", "description": '"mentioned" must be an array of numeric strings'},
}
_COMMON: Schema = {
    "number": _NUMBER,
    "delay": _DELAY,
    "quoted": QUOTED,
    "everyOne": {"type": "boolean"},
    "mentioned": _MENTIONED,
}

MEDIA_MESSAGE: Schema = {
    "type": "object",
    "properties": _COMMON
    | {
        "mediatype": {"type": "string", "enum": ["image", "document", "video", "audio"]},
        "mimetype": {"type": "string"},
        "media": {"type": "string"},
        "fileName": {"type": "string"},
        "caption": {"type": "string"},
    },
    "required": ["number", "mediatype"],
}

AUDIO_MESSAGE: Schema = {
    "type": "object",
    "properties": _COMMON | {"audio": {"type": "string"}},
    "required": ["number"],
}

STICKER_MESSAGE: Schema = {
    "type": "object",
    "properties": _COMMON | {"sticker": {"type": "string"}},
    "required": ["number"],
}

REACTION_MESSAGE: Schema = {
    "type": "object",
    "properties": {"key": _KEY, "reaction": {"type": "string"}},
    "required": ["key", "reaction"],
}

LOCATION_MESSAGE: Schema = {
    "type": "object",
    "properties": _COMMON
    | {
        "latitude": {"type": "number"},
        "longitude": {"type": "number"},
        "name": {"type": "string"},
        "address": {"type": "string"},
    },
    "required": ["number", "latitude", "longitude", "name", "address"],
}

CONTACT_MESSAGE: Schema = {
    "type": "object",
    "properties": {
        "number": _NUMBER,
        "contact": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {
                "type": "object",
                "properties": {
                    "fullName": {"type": "string"},
                    "wuid": {
                        "type": "string",
                        "minLength": 10,
                        "pattern": r"\d+",
                        "description": '"wuid" must be a numeric string',
                    },
                    "phoneNumber": {"type": "string", "minLength": 10},
                    "organization": {"type": "string"},
                    "email": {"type": "string"},
                    "url": {"type": "string"},
                },
                "required": ["fullName", "phoneNumber"],
            },
        },
    },
    "required": ["number", "contact"],
}

STATUS_MESSAGE: Schema = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["text", "image", "audio", "video"]},
        "content": {"type": "string"},
        "caption": {"type": "string"},
        "backgroundColor": {"type": "string"},
        "font": {"type": "integer", "minimum": 0, "maximum": 5},
        "statusJidList": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {
                "type": "string",
                "pattern": r"^\d+",
                "description": '"statusJidList" must be an array of numeric strings',
            },
        },
        "allContacts": {"type": "boolean"},
    },
    "required": ["type"],
}

UPDATE_MESSAGE: Schema = {
    "type": "object",
    "properties": {"number": _NUMBER, "text": {"type": "string"}, "key": _KEY},
}

# Group members, as `group/create` and `group/updateParticipant` both validate them.
PARTICIPANTS: Schema = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {
        "type": "string",
        "minLength": 10,
        "pattern": r"\d+",
        "description": '"participants" must be an array of numeric strings',
    },
}

CREATE_GROUP: Schema = {
    "type": "object",
    "properties": {
        "subject": {"type": "string"},
        "description": {"type": "string"},
        "profilePicture": {"type": "string"},
        "promoteParticipants": {"type": "boolean"},
        "participants": PARTICIPANTS,
    },
    "required": ["subject", "participants"],
}

GROUP_JID: Schema = {
    "type": "object",
    "properties": {"groupJid": {"type": "string", "pattern": r"^[\d-]+@g.us$"}},
    "required": ["groupJid"],
}

UPDATE_PARTICIPANTS: Schema = {
    "type": "object",
    "properties": {
        "groupJid": {"type": "string", "pattern": r"^[\d-]+@g.us$"},
        "action": {"type": "string", "enum": ["add", "remove", "promote", "demote"]},
        "participants": PARTICIPANTS,
    },
    "required": ["groupJid", "action", "participants"],
}

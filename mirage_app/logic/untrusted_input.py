"""Checks on input from outside that the database or the JSON parser would otherwise meet as a crash.

PostgreSQL refuses NUL characters in text and cannot encode unpaired UTF-16 surrogates (`"\\ud800"` decodes to
one in Python); a bigint offset tops out at 2**63 - 1; CPython's JSON parser recurses once per nesting level. Each
of these must be a 4xx before it reaches a statement or the parser, so they are named here once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Far beyond any real page (a million pages of the largest size), far below bigint.
MAX_OFFSET = 500_000_000
MAX_JSON_DEPTH = 64

BAD_TEXT = "NUL characters and unpaired surrogates are not allowed"

_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def is_bad_text(value: str) -> bool:
    """A NUL or an unpaired surrogate (a decoded JSON pair is one character, so any surrogate left is alone)."""
    return "\x00" in value or _SURROGATE.search(value) is not None


def bad_text_paths(value: Any, path: str = "") -> Iterator[str]:
    """The dotted paths (`tags.0`, `name`) of every bad string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        if is_bad_text(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and is_bad_text(key):
                yield path or "body"
            yield from bad_text_paths(item, inner)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from bad_text_paths(item, f"{path}.{i}" if path else str(i))


def nesting_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether raw JSON nests objects/arrays deeper than `limit`, found without parsing it recursively.

    Cheap for ordinary bodies: with no more than `limit` opening brackets in all it cannot nest deeper; otherwise
    strings are blanked (they may hold brackets) and only the brackets are walked.
    """
    if body.count(b"{") + body.count(b"[") <= limit:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b'""', body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"{[" else -1
        if depth > limit:
            return True
    return False


def may_hold_surrogate(body: bytes) -> bool:
    """Whether raw JSON escapes a surrogate at all (`\\ud83d`...): only then is the decoded payload worth a walk."""
    return _SURROGATE_ESCAPE.search(body) is not None

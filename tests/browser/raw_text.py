"""What a screen must never show, derived from the code so that it cannot drift: a catalog key (any key prefix
of the catalogs), a value of the models' enums or of the option lists the pages offer, and an unfilled
`str.format` placeholder. Pure text checks, shared by the browser sweep and its unit tests."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from enum import StrEnum
from functools import cache

from playwright.sync_api import Page

import mirage_app.models
from mirage_app.i18n import EN, PT_BR
from mirage_app.logic.dayparts import DAYPARTS
from mirage_app.logic.prompts import OUTREACH_PHASES, PHASES
from mirage_app.services.contacts.validation import CONSENT_BASES
from mirage_app.services.conversations import TOPIC_STRATEGIES
from mirage_app.services.personas import TRAITS

# A format field left in a text: "{detail}", "{value!r}", "{n:d}" (JSON such as {"a": 1} has quotes and spaces).
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?(?::[^{}\s]*)?\}|![rsa]\}")
# Values a Python or JavaScript expression leaks when a page formats nothing. Python's None only on pt-BR pages:
# "None" is an English word the app writes ("None of your settings was changed").
_JS_LEAKS = r"\b(?:undefined|NaN|null)\b|\[object Object\]"
LEAKED_VALUES = {"en": re.compile(_JS_LEAKS), "pt-BR": re.compile(_JS_LEAKS + r"|\bNone\b")}
WORD = r"(?<![\w.@/-]){}(?![\w@/-]|\.\w)"  # a whole word, not part of an address, a path or a dotted name


def enum_values() -> set[str]:
    """Every value an enum of the models can hold, and every option a page offers from a fixed list (phases,
    persona traits, legal bases, topic strategies, dayparts)."""
    values: set[str] = set()
    for info in pkgutil.iter_modules(mirage_app.models.__path__):
        module = importlib.import_module(f"mirage_app.models.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, StrEnum) and cls is not StrEnum:
                values |= {member.value for member in cls}
    for options in (PHASES, OUTREACH_PHASES, CONSENT_BASES, TOPIC_STRATEGIES, DAYPARTS):
        values |= set(options)
    values |= {option for options in TRAITS.values() if options for option in options}
    return values


def words_of(text: str) -> set[str]:
    """The words of a catalog text as written (placeholders left out: "{low}" is not the word "low")."""
    return set(re.findall(r"[^\W\d]+", PLACEHOLDER.sub(" ", text)))


@cache
def raw_value_patterns() -> dict[str, re.Pattern]:
    """Per page language, how an enum value reads when it is shown raw: as stored (lower case, from the page's
    text nodes before any CSS capitalisation).

    Identifiers with an underscore (`server_ack`, `round_robin`) are raw in any language. On pt-BR pages every
    value is raw (no pt-BR text uses one: tests/i18n checks it). On English pages a plain value ("read",
    "connected") is an ordinary word, so only the identifiers are checked there."""
    values = enum_values()
    underscored = sorted(v for v in values if "_" in v)

    def alternation(words: list[str]) -> re.Pattern:
        return re.compile(WORD.format("(?:" + "|".join(re.escape(w) for w in words) + ")"))

    return {"en": alternation(underscored), "pt-BR": alternation(sorted(values, key=len, reverse=True))}


@cache
def raw_key_pattern() -> re.Pattern:
    """`prefix.rest` for every first segment of a catalog key: a key shown instead of its text."""
    prefixes = sorted({k.split(".")[0] for k in (*PT_BR, *EN)}, key=len, reverse=True)
    return re.compile(WORD.format(r"(?:" + "|".join(prefixes) + r")\.[a-z0-9_]+(?:\.[a-z0-9_]+)*"))


def leaks(text: str, locale: str) -> list[str]:
    """Each raw thing found in a page's text, with where it stands (the first few of each kind)."""
    found = []
    for kind, pattern in (
        ("raw key", raw_key_pattern()),
        ("raw value", raw_value_patterns()[locale]),
        ("placeholder", PLACEHOLDER),
        ("leaked value", LEAKED_VALUES[locale]),
    ):
        first: dict[str, int] = {}
        for match in pattern.finditer(text):
            first.setdefault(match.group(0), match.start())
        found += [f"{kind}: {hit}  «{_context(text, at, hit)}»" for hit, at in sorted(first.items())[:8]]
    return found


def _context(text: str, at: int, hit: str, width: int = 45) -> str:
    return " ".join(text[max(0, at - width) : at + len(hit) + width].split())


# Stored records shown as they were written, not screen text: the audit log's "field: before → after" column
# (field names and stored values, by design; the action and entity columns are words and are checked).
RECORDS = "#audit-table tbody td:nth-child(5)"
# What people and phones wrote, shown as written: message bodies (the demo's phrasebook says "planos pro fim de
# semana") and a persona's preview. Any word may be in them; the app's own labels around them are checked.
USER_CONTENT = "[data-user-content], #preview-text"
NOT_SCREEN_TEXT = f"script,style,noscript,{RECORDS},{USER_CONTENT}"


def page_text(page: Page) -> str:
    """What a person reads, as the page wrote it (text nodes before CSS capitalisation, visible ones only), plus
    the placeholders, titles and labels of controls; stored records and user content left out."""
    return page.evaluate(
        """(skip) => {
            const out = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const parent = node.parentElement;
                if (!parent || parent.closest(skip)) continue;
                if (parent.checkVisibility && !parent.checkVisibility({visibilityProperty: true})) continue;
                if (node.nodeValue.trim()) out.push(node.nodeValue);
            }
            for (const e of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
                for (const a of ['placeholder', 'title', 'aria-label']) {
                    if (e.getAttribute(a)) out.push(e.getAttribute(a));
                }
            }
            return out.join('\\n');
        }""",
        NOT_SCREEN_TEXT,
    )

"""Placeholders: the same `{name}` fields in both languages, every field supplied where a text is filled, and no
pt-BR text that names an English enum value (the every-page sweep counts one on a pt-BR page as raw)."""

from __future__ import annotations

import ast
from pathlib import Path
from string import Formatter

import pytest

from mirage_app.i18n import EN, PT_BR
from tests.browser.raw_text import PLACEHOLDER, enum_values, leaks, words_of

ROOT = Path(__file__).resolve().parents[2] / "mirage_app"
ERRORS = {
    "ServiceError",
    "NotFound",
    "ValidationFailed",
    "Conflict",
    "AuthFailed",
    "PermissionDenied",
    "Throttled",
    "EvolutionFailure",
}
NOT_PARAMS = {"field", "status", "message"}  # ServiceError's own keywords: never handed to the text
FILLED_BY_CLASS = {"Throttled": {"retry_after", "minutes"}}  # from its positional wait
KEY_OF = {"PermissionDenied": "permission.{}"}  # raised with a reason, not a key


def fields(text: str) -> set[str]:
    return {name.split("!")[0].split(".")[0] for _, name, _, _ in Formatter().parse(text) if name}


def test_every_text_parses_as_a_format_string():
    for catalog in (PT_BR, EN):
        for key, text in catalog.items():
            try:
                fields(text)
            except ValueError as exc:
                pytest.fail(f"{key}: {exc}")


def test_both_languages_fill_the_same_fields():
    differ = {k: (sorted(fields(PT_BR[k])), sorted(fields(EN[k]))) for k in PT_BR.keys() & EN.keys()}
    assert {k: v for k, v in differ.items() if v[0] != v[1]} == {}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def filled_texts() -> list[tuple[str, str, set[str]]]:
    """Every place that fills a catalog text with a literal key and only named values: a service error raised
    (its keywords become the text's fields) and `translate(key, locale, …)`. Calls that pass `**values` are
    left out: what they hold is not known statically."""
    found = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            key = node.args[0]
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            if any(kw.arg is None for kw in node.keywords):
                continue
            given = {kw.arg for kw in node.keywords}
            if _name(node.func) in ERRORS:
                given = (given - NOT_PARAMS) | FILLED_BY_CLASS.get(_name(node.func), set())
                code = KEY_OF.get(_name(node.func), "{}").format(key.value)
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", code, given))
            elif _name(node.func) == "translate":
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", key.value, given))
    return found


def test_every_field_of_a_filled_text_is_supplied():
    places = filled_texts()
    assert len(places) > 100  # the scan does find the raises
    missing = [f"{where} {key}" for where, key, _ in places if key not in EN]
    assert missing == [], "filled texts with no catalog key"
    unfilled = [
        f"{where} {key}: needs {sorted(fields(EN[key]) - given)}"
        for where, key, given in places
        if fields(EN[key]) - given
    ]
    assert unfilled == []


def test_no_pt_br_text_names_an_english_enum_value():
    """A pt-BR text says "pares fixos", not "pair": an enum value in a pt-BR text is a raw value on screen."""
    values = enum_values()
    named = {key: sorted(words_of(text) & values) for key, text in PT_BR.items()}
    assert {key: words for key, words in named.items() if words} == {}


def test_no_text_names_an_identifier():
    """`round_robin`, `server_ack`: identifiers are raw in English texts too."""
    values = {v for v in enum_values() if "_" in v}
    named = {
        f"{lang}:{key}": sorted(words_of(text) & values)
        for lang, cat in (("en", EN), ("pt-BR", PT_BR))
        for key, text in cat.items()
    }
    assert {key: words for key, words in named.items() if words} == {}


def test_the_raw_text_check_bites():
    text = "Status: server_ack · conectado · {detail} · …desconhecido {value!r} · nav.overview · undefined"
    kinds = [leak.split(":")[0] for leak in leaks(text, "pt-BR")]
    assert kinds == ["raw key", "raw value", "placeholder", "placeholder", "leaked value"]
    signed = "Lido às 21:28 · 6 dez · admin@mirage.local · operator.semente@mirage.local · https://x.io/random"
    assert leaks(signed, "pt-BR") == []
    assert leaks("Read at 21:28 · connected · Round robin", "en") == []
    assert leaks("None of your settings was changed.", "en") == []  # an English word on English pages
    assert [leak.split(":")[0] for leak in leaks("Persona: None", "pt-BR")] == ["leaked value"]
    assert [leak.split(":")[0] for leak in leaks("Modo: round_robin", "en")] == ["raw value"]
    assert [leak.split(":")[0] for leak in leaks("Modo: random, fase greeting", "pt-BR")] == ["raw value"] * 2
    assert PLACEHOLDER.search('{"status": "connected"}') is None  # JSON is not a placeholder


def filled(text: str) -> str:
    """The text as a page shows it once every field is given a value."""
    return "".join(literal + ("7" if name is not None else "") for literal, name, _, _ in Formatter().parse(text))


def test_no_catalog_text_trips_the_sweep():
    """The sweep flags nothing the catalogs themselves say: each text, filled, is clean in its own language."""
    tripped = {
        f"{code}:{key}": found
        for code, cat in (("en", EN), ("pt-BR", PT_BR))
        for key, text in cat.items()
        if (found := leaks(filled(text), code))
    }
    assert tripped == {}

"""Every screen string exists in pt-BR and English; no page can show a raw key."""

from __future__ import annotations

import re
from pathlib import Path

import mirage_app.api.app
import mirage_app.pages  # noqa: F401  (registers the pages, and with them every service's messages)
from mirage_app.i18n import EN, LOCALES, PT_BR, catalog

ROOT = Path(__file__).resolve().parents[2] / "mirage_app"
ERRORS = "NotFound|ValidationFailed|Conflict|ServiceError|AuthFailed|PermissionDenied|Throttled"
RAISED = re.compile(rf"""(?:{ERRORS})\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
USED = re.compile(r"""(?:\bt\(|\btr\[|success=|_key=|tr\.get\()\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*ROOT.glob("pages/**/*.py"), *ROOT.glob("components/**/*.py"), *ROOT.glob("states/**/*.py")]:
        keys |= set(USED.findall(path.read_text()))
    return keys


def test_both_languages_have_the_same_keys():
    assert sorted(set(catalog("pt-BR")) ^ set(catalog("en"))) == []


WRITTEN_TEXT = re.compile(rf"""(?:{ERRORS}|EvolutionFailure)\(\s*["'][a-z_.]+["'],\s*f?["']|message=f?["']""")


def test_no_service_module_writes_texts():
    """Services raise error codes; every text lives in the locale catalogs (mirage_app/i18n), nowhere else: no
    English text handed to an error, no catalog of its own."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("services", "engine", "base")
        for path in (ROOT / folder).rglob("*.py")
        if WRITTEN_TEXT.search(path.read_text()) or re.search(r"MESSAGES\.update|I18N_PT_BR", path.read_text())
    ]
    assert offenders == []
    assert WRITTEN_TEXT.search('raise NotFound("users.not_found", "User not found.")')  # the check itself bites


def test_every_used_key_is_translated():
    missing = sorted(k for k in used_keys() if k not in PT_BR or k not in catalog("en"))
    assert missing == []


def test_every_service_error_is_translated():
    raised = set()
    for path in ROOT.rglob("*.py"):
        if path.parts[-2] in ("services", "engine", "base") or "services" in path.parts:
            raised |= set(RAISED.findall(path.read_text()))
    missing = sorted(code for code in raised if code not in PT_BR or code not in EN)
    assert missing == []


def test_no_empty_translation():
    for locale in LOCALES:
        assert [k for k, v in catalog(locale).items() if not v.strip()] == [], locale

"""Issue 15's screens in a real browser: messages that show what they are (player, picture, sticker, reactions on
their target, quotes, "edited", cards), the phase rules and persona habits refusing bad values beside the field, the
action mix on /metrics, and the media library (upload refused and accepted, delete that says how many messages
show the file). Screenshots at 1440 and 390 px, in pt-BR and English, under screenshots/rich/."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import run_beside_app, screenshot, set_language_cookie

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def seeded(running_app, admin) -> dict:
    """Once for the module: the tests read it (the media test archives a starter file no other test uses)."""
    return run_beside_app(running_app, "-m", "tests.browser.seed_rich", admin.email)


def _both_languages(page: Page, url: str, path: str, name: str, ready: str) -> None:
    for code in ("pt-BR", "en"):
        set_language_cookie(page, url, code)
        page.goto(url + path)
        expect(page.locator(ready).first).to_be_visible(timeout=30_000)
        sideways = screenshot(page, "rich", f"{name}-{code}")
        assert sideways[390] <= 1, f"{name} scrolls sideways at phone width ({code})"


def test_messages_show_what_they_are(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    set_language_cookie(page, url, "pt-BR")
    page.goto(f"{url}/conversations/{seeded['conversation']}/settings")
    feed = page.locator("#live-feed")
    expect(feed.locator("audio")).to_have_count(1, timeout=30_000)
    expect(feed.locator("audio")).to_have_attribute("src", re.compile(r"/api/media/[0-9a-f-]+/file$"))
    expect(feed.locator("img.msg-thumb")).to_have_count(1)
    expect(feed.locator("img.msg-sticker")).to_have_count(1)
    expect(feed.locator(".reaction-badge")).to_have_count(2)
    expect(feed).to_contain_text("🎤 Mensagem de voz")  # the quote box of the reply to the voice note
    expect(feed).to_contain_text("Amanhã vou na padaria nova")  # the corrected text…
    expect(feed).not_to_contain_text("apdaria")
    expect(feed.locator(".edited-mark")).to_have_text("editada")  # …marked
    expect(feed).to_contain_text("Padaria Estrela")
    expect(feed).to_contain_text("Carla Dias")
    expect(feed).to_contain_text("O arquivo não está mais disponível.")
    # the files load from the backend with the session cookie
    for selector in ("img.msg-thumb", "img.msg-sticker", "audio"):
        answer = page.request.get(feed.locator(selector).get_attribute("src"))
        assert answer.status == 200, (selector, answer.status, answer.text()[:200])
    feed.locator("img.msg-sticker").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#live-feed img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=30_000,
    )
    _both_languages(page, url, f"/conversations/{seeded['conversation']}/settings", "conversation", "#live-feed audio")

    set_language_cookie(page, url, "pt-BR")
    page.goto(url + "/instances")
    card = page.locator(".instance-card", has_text="Rich A")
    card.get_by_role("button", name=re.compile("Mensagens|Messages")).click()
    dialog = page.locator("#message-list")
    expect(dialog.locator("[data-kind=status]")).to_have_count(1, timeout=30_000)
    expect(dialog.locator(".reaction-badge")).to_have_count(2)
    screenshot(page, "rich", "number-history-pt-BR")
    dialog.locator("[data-kind=voice]").scroll_into_view_if_needed()
    screenshot(page, "rich", "number-history-older-pt-BR")


def test_rules_and_habits_refuse_bad_values_beside_the_field(running_app, admin_page: Page):
    page, url = admin_page, running_app.url
    set_language_cookie(page, url, "pt-BR")
    page.goto(url + "/settings?tab=tenant")
    voice_day = page.locator("#action-rules input[data-action=voice]")
    expect(voice_day).to_be_visible(timeout=30_000)
    voice_day.fill("0")
    page.locator("#rules-save").click()
    expect(page.locator("#rules-error")).to_contain_text("Mensagens de voz")
    expect(voice_day).to_have_attribute("aria-invalid", "true")
    voice_day.fill("8")
    page.locator("#rules-save").click()
    expect(page.get_by_text("Regras de ações salvas.")).to_be_visible(timeout=30_000)
    _both_languages(page, url, "/settings?tab=tenant", "tenant-rules", "#action-rules")

    set_language_cookie(page, url, "pt-BR")
    page.goto(url + "/personas")
    page.locator("#persona-new").click()
    page.locator("#persona-name").fill("Hábitos")
    page.locator("#habit-reactions").fill("150")
    page.locator("#persona-save").click()
    expect(page.locator("#habit-reactions-error")).to_contain_text("0 a 100")
    page.locator("#habit-reactions").fill("35")
    screenshot(page, "rich", "persona-habits-pt-BR", part=page.locator("#persona-habits"))
    page.locator("#persona-save").click()
    expect(page.locator("#persona-grid")).to_contain_text("Hábitos", timeout=30_000)


def test_the_media_library(running_app, admin_page: Page, seeded):
    page, url = admin_page, running_app.url
    set_language_cookie(page, url, "pt-BR")
    page.goto(url + "/media")
    grid = page.locator("#media-grid")
    # the demo's starter library (10 files), and whatever the engine drew or spoke for earlier tests of the run
    expect(grid.locator(".media-tile").nth(9)).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1_000)
    library = grid.locator(".media-tile").count()
    page.locator("#media-upload input[type=file]").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture at all"}]
    )
    expect(page.locator("#media-upload-error")).to_be_visible(timeout=30_000)
    picture = io.BytesIO()
    Image.new("RGB", (320, 240), (230, 140, 60)).save(picture, "PNG")
    page.locator("#media-upload-tags").fill("praia, teste")
    page.wait_for_timeout(500)  # the typed tags reach the server (websocket) before the file does (HTTP upload)
    page.locator("#media-upload input[type=file]").set_input_files(
        files=[{"name": "laranja.png", "mimeType": "image/png", "buffer": picture.getvalue()}]
    )
    expect(grid.locator(".media-tile")).to_have_count(library + 1, timeout=30_000)
    expect(grid.locator(".media-tile", has_text="laranja.png")).to_contain_text("praia")
    page.locator("#media-filter-tag").select_option("praia")
    expect(grid.locator(".media-tile")).to_have_count(1, timeout=30_000)
    page.locator("#media-filter-tag").select_option("")
    # a file messages show: the confirmation says so, and it is archived
    shown = grid.locator(".media-tile", has_text=re.compile("Aparece em"))
    expect(shown.first).to_be_visible(timeout=30_000)
    shown.first.locator(".media-delete").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("mostra", timeout=30_000)
    screenshot(page, "rich", "media-delete-pt-BR", widths=(1440,))
    page.get_by_role("alertdialog").get_by_role("button", name="Arquivar").click()
    expect(grid.locator(".media-tile")).to_have_count(library, timeout=30_000)
    _both_languages(page, url, "/media", "media", "#media-grid")
    _both_languages(page, url, "/metrics", "metrics", "#chart-mix-per-day")

"""`page_text` itself, on a page written for it: it reads what is visible (a raw key shown is one leak), leaves out
what is hidden and what people wrote (message bodies), and reads controls' labels."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.raw_text import leaks, page_text

pytestmark = [pytest.mark.browser]

PAGE = """
<main>
  <h1 id="page-title">Números</h1>
  <p>nav.overview</p>
  <p style="display: none">connected</p>
  <p style="visibility: hidden">round_robin</p>
  <div class="bubble"><p data-user-content="message">planos pro fim de semana</p><p>Lida</p></div>
  <button aria-label="Excluir">×</button>
</main>
"""


def test_page_text_reads_what_is_shown_and_nothing_else(page: Page):
    page.set_content(PAGE)
    text = page_text(page)
    assert "Números" in text and "Lida" in text and "Excluir" in text
    assert "planos pro" not in text  # a message body: the phones wrote it
    found = leaks(text, "pt-BR")
    assert [leak.split(":")[0] for leak in found] == ["raw key"], found
    assert "nav.overview" in found[0]

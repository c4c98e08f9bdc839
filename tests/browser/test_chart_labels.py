"""Issue 14, finding 4 in a real browser: a number named with HTML shows on /metrics as the text typed, never as a
link or styled text (plotly renders a subset of HTML in labels); and the charts keep their size when the window
changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from mirage_app.components.metrics_charts import CHART_HEIGHT
from tests.browser.conftest import app_db, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = '<a href="https://evil.example/phish">Demo Ana</a><b style="font-size:40px">BIG</b>'


def test_a_number_named_with_html_is_drawn_as_text(running_app, demo_loaded, admin_page: Page, console_errors):
    [number] = app_db(
        running_app,
        "SELECT id, label FROM numbers WHERE label LIKE 'Demo %' AND archived_at IS NULL ORDER BY label LIMIT 1",
    )
    app_db(running_app, "UPDATE numbers SET label = :l WHERE id = :id", l=HOSTILE, id=number.id)
    try:
        page = admin_page
        page.goto(running_app.url + "/metrics")
        chart = page.locator("#chart-per-number")
        expect(chart).to_contain_text("evil.example/phish", timeout=60_000)  # the markup itself, as letters
        assert chart.locator("a").count() == 0  # no link
        bold = chart.locator("tspan[style*='bold'], text[style*='bold']")
        assert not any("BIG" in t for t in bold.all_inner_texts())  # no styled text
        screenshot(page, "security", "chart-html-label", widths=(1440, 390), settle_ms=2000)
        # The viewport changed twice: every plot redrew into its box and kept its height.
        heights = "[...document.querySelectorAll('.js-plotly-plot')].map(e => e.getBoundingClientRect().height)"
        assert set(page.evaluate(heights)) == {CHART_HEIGHT}
        assert console_errors == []
    finally:
        app_db(running_app, "UPDATE numbers SET label = :l WHERE id = :id", l=number.label, id=number.id)

"""Text is text in charts too: plotly renders a subset of HTML in labels and hover text."""

from __future__ import annotations

import plotly.graph_objects as go

from mirage_app.pages.metrics import chart_text


def test_operator_labels_reach_plotly_escaped():
    labels = chart_text(["<b>bold</b>", 'Vendas & <a href="javascript:alert(1)">x</a>', "Ana"])
    assert labels == ["&lt;b&gt;bold&lt;/b&gt;", 'Vendas &amp; &lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;', "Ana"]
    shown = go.Figure(go.Bar(x=[1, 2, 3], y=labels, orientation="h")).to_plotly_json()["data"][0]["y"]
    assert not any("<" in label for label in shown)  # what reaches the browser has no markup left

"""A number's reputation on screen: the coloured band badge on its card, and its score over time as a chart.

The chart's labels go through `logic.chart_text.plain` (the catalog's words included), as every figure's do
(components/metrics_charts.py)."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import reflex as rx

from mirage_app.components.metrics_charts import CYAN, chart_layout
from mirage_app.i18n import formats
from mirage_app.logic.chart_text import plain, plain_all
from mirage_app.services.reputation import ReputationPoint

BAND_COLORS = {"cold": "blue", "warming": "amber", "healthy": "grass", "cooling_down": "red"}
BAND_LINES = ((45.0, "#60a5fa"), (75.0, "#4ade80"))  # logic.reputation's band thresholds


def reputation_badge(score: rx.Var, band: rx.Var, band_label: rx.Var) -> rx.Component:
    """ "Reputation 82 · Healthy" in the band's colour ("Reputation not computed yet" in grey before the first)."""
    return rx.badge(
        rx.icon("shield-check", size=12),
        rx.cond(score != "", rx.text(score, " · ", band_label), band_label),
        color_scheme=rx.match(band, *BAND_COLORS.items(), "gray"),
        variant="soft",
        class_name="reputation-badge",
        data_band=band,
    )


def history_figure(points: list[ReputationPoint], tr: Mapping[str, str], tz_name: str, lang: str) -> go.Figure:
    """The score over time (tenant's zone), each point's band in its hover text, the band thresholds as lines."""
    stamps = plain_all(formats.stamp(p.at, tz_name, lang) for p in points)
    bands = plain_all(tr[f"reputation.band.{p.band}"] for p in points)
    fig = go.Figure(
        go.Scatter(
            x=stamps,
            y=[p.score for p in points],
            mode="lines+markers",
            line={"color": CYAN, "shape": "hv"},
            name=plain(tr["reputation.history"]),
            text=bands,
            hovertemplate="%{x}<br>%{y:.0f} · %{text}<extra></extra>",
        )
    )
    for level, colour in BAND_LINES:
        fig.add_hline(y=level, line={"color": colour, "dash": "dot", "width": 1})
    chart_layout(fig).update_layout(showlegend=False, yaxis={"range": [0, 100]}, xaxis={"type": "category"})
    return fig

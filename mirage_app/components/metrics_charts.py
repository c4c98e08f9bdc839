"""The figures of `/metrics`, built from `services.metrics.MetricsData`.

Every label a chart draws goes through `logic.chart_text.plain`: number names and topic seeds are written by
operators, and plotly renders a subset of HTML in labels (see that module). The catalog's own words (legend names)
and the day and weekday names go through it too, so no text reaches a figure unescaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go

from mirage_app.i18n import formats
from mirage_app.logic.chart_text import plain, plain_all
from mirage_app.services.action_mix import ActionMix
from mirage_app.services.metrics import MetricsData

CYAN, VIOLET, RED, AMBER = "#22d3ee", "#a78bfa", "#f87171", "#fbbf24"
WEEKDAYS = {
    "pt-BR": ["dom", "seg", "ter", "qua", "qui", "sex", "sáb"],
    "en": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
}

CHART_HEIGHT = 300  # px, every chart: the page gives each plot a box this tall (pages/metrics.py)


@dataclass(frozen=True)
class MetricsFigures:
    per_day: go.Figure
    per_number: go.Figure
    heatmap: go.Figure
    topics: go.Figure
    latency: go.Figure
    failures: go.Figure


def chart_layout(fig: go.Figure) -> go.Figure:
    fig.update_layout(
        template="plotly_dark",
        height=CHART_HEIGHT,
        margin={"l": 40, "r": 10, "t": 10, "b": 40},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "y": -0.2},
        font={"size": 12},
    )
    return fig


def build_figures(data: MetricsData, tr: Mapping[str, str], lang: str) -> MetricsFigures:
    numbers, topics = plain_all(data.numbers), plain_all(seed for seed, _ in data.topics)
    sent, received = plain(tr["metrics.sent"]), plain(tr["metrics.received"])
    # Days as the page's language writes them ("29 nov" / "Nov 29"), as categories: plotly would reparse dates.
    days = plain_all(formats.day(date.fromisoformat(d), lang) for d in data.days)
    per_day = go.Figure(
        [
            go.Bar(x=days, y=data.sent_per_day, name=sent, marker_color=CYAN),
            go.Bar(x=days, y=data.received_per_day, name=received, marker_color=VIOLET),
        ],
        layout={"barmode": "group", "xaxis": {"type": "category"}},
    )
    per_number = go.Figure(
        [
            go.Bar(x=numbers, y=data.sent_per_number, name=sent, marker_color=CYAN),
            go.Bar(x=numbers, y=data.received_per_number, name=received, marker_color=VIOLET),
        ],
        layout={"barmode": "group", "xaxis": {"type": "category"}},
    )
    heatmap = go.Figure(
        go.Heatmap(
            z=data.heatmap,
            x=list(range(24)),
            y=plain_all(WEEKDAYS[lang]),
            colorscale=[[0, "#111827"], [0.5, "#0e7490"], [1, "#67e8f9"]],
            hovertemplate="%{y} %{x}h: %{z}<extra></extra>",
        )
    )
    topic_bars = go.Figure(
        go.Bar(x=[n for _, n in data.topics][::-1], y=topics[::-1], orientation="h", marker_color=CYAN),
        layout={"yaxis": {"type": "category"}},
    )
    latency = go.Figure(
        go.Bar(
            x=numbers,
            y=[v or 0 for v in data.latency_per_number],
            marker_color=AMBER,
            hovertemplate="%{x}: %{y}s<extra></extra>",
        ),
        layout={"xaxis": {"type": "category"}},
    )
    failures = go.Figure(
        [
            go.Scatter(x=days, y=data.failed_per_day, name=plain(tr["metrics.failures"]), mode="lines+markers",
                       line={"color": RED}),
            go.Scatter(x=days, y=data.optouts_per_day, name=plain(tr["metrics.optouts"]), mode="lines+markers",
                       line={"color": AMBER}),
        ],
        layout={"xaxis": {"type": "category"}},
    )  # fmt: skip
    return MetricsFigures(
        chart_layout(per_day),
        chart_layout(per_number),
        chart_layout(heatmap),
        chart_layout(topic_bars),
        chart_layout(latency),
        chart_layout(failures),
    )


# One colour per message kind, the same in both mix charts (models.enums.MessageKind).
KIND_COLOURS = {
    "text": CYAN,
    "reaction": "#f472b6",
    "voice": VIOLET,
    "image": "#34d399",
    "sticker": AMBER,
    "location": RED,
    "contact": "#60a5fa",
    "edit": "#94a3b8",
    "status": "#e879f9",
}


def build_mix_figures(mix: ActionMix, tr: Mapping[str, str], lang: str) -> tuple[go.Figure, go.Figure]:
    """The action mix stacked by kind: per day of the period, and per number over the period."""
    days = plain_all(formats.day(date.fromisoformat(d), lang) for d in mix.days)
    numbers = plain_all(mix.numbers)

    def stacked(x: list[str], series: dict[str, list[int]]) -> go.Figure:
        bars = [
            go.Bar(x=x, y=counts, name=plain(formats.label(tr, "message_kind", kind)), marker_color=KIND_COLOURS[kind])
            for kind, counts in series.items()
        ]
        return chart_layout(go.Figure(bars, layout={"barmode": "stack", "xaxis": {"type": "category"}}))

    return stacked(days, mix.per_day), stacked(numbers, mix.per_number)

"""A number's reputation detail (opened from its card on /instances): its score over 30 days as a chart, its band
and cooldown, and the three signals that moved it most, in the tenant's time zone and the page's language."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import reflex as rx

from mirage_app.components.metrics_charts import CHART_HEIGHT
from mirage_app.components.reputation import history_figure
from mirage_app.services import reputation
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t


@dataclass(frozen=True)
class SignalLine:
    name: str
    points: str  # "+12 points" / "-8 points"
    good: bool


class ReputationState(AuthState):
    rep_open: bool = False
    rep_title: str = ""
    rep_summary: str = ""  # "Reputation 82 · Healthy" / "... · Cooling down until 7 dez 14:00"
    rep_signals: list[SignalLine] = []
    rep_has_history: bool = False
    rep_figure: go.Figure = go.Figure()

    @rx.event
    def show(self, number_id: str):
        loaded = self._call(reputation.detail, number_id)
        if not loaded.ok:
            return loaded.feedback
        d = loaded.value
        self.rep_title, self.rep_open = d.label, True
        band = self.tr[f"reputation.band.{d.band}"] if d.band else self.tr["reputation.none"]
        if d.band == "cooling_down" and d.cooldown_until is not None:
            band = self.tr["reputation.cooldown_until"].format(time=self.stamp(d.cooldown_until))
        score = self.tr["reputation.score"].format(score=f"{d.score:.0f}") if d.score is not None else ""
        self.rep_summary = f"{score} · {band}" if score else band
        self.rep_signals = [
            SignalLine(
                self.tr.get(f"reputation.signal.{s['signal']}", s["signal"]),
                self.tr["reputation.points"].format(points=f"{s['points']:+.0f}"),
                s["points"] >= 0,
            )
            for s in d.top_signals
        ]
        self.rep_has_history = bool(d.history)
        self.rep_figure = history_figure(d.history, self.tr, self.tenant_tz, self.lang)
        return None

    @rx.event
    def set_rep_open(self, is_open: bool):
        self.rep_open = bool(is_open)


def _signal(line: rx.Var[SignalLine]) -> rx.Component:
    return rx.hstack(
        rx.icon(rx.cond(line.good, "trending-up", "trending-down"), size=14),
        rx.text(line.name, size="2"),
        rx.spacer(),
        rx.text(line.points, size="2", color_scheme=rx.cond(line.good, "grass", "red"), class_name="mono"),
        width="100%",
        align="center",
    )


def reputation_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(ReputationState.rep_title),
            rx.dialog.description(ReputationState.rep_summary, size="2", id="reputation-summary"),
            rx.cond(
                ReputationState.rep_has_history,
                rx.plotly(
                    data=ReputationState.rep_figure,
                    config={"displayModeBar": False, "responsive": True},
                    width="100%",
                    height=f"{CHART_HEIGHT}px",
                    id="reputation-chart",
                ),
                rx.text(t("reputation.history_empty"), color_scheme="gray", size="2", padding_y="1em"),
            ),
            rx.cond(
                ReputationState.rep_signals.length() > 0,
                rx.vstack(
                    rx.text(t("reputation.moved_most"), weight="medium", size="2"),
                    rx.foreach(ReputationState.rep_signals, _signal),
                    spacing="1",
                    width="100%",
                    id="reputation-signals",
                ),
            ),
            rx.dialog.close(rx.button(t("common.close"), variant="ghost", margin_top="1em")),
            max_width="640px",
        ),
        open=ReputationState.rep_open,
        on_open_change=ReputationState.set_rep_open,
    )

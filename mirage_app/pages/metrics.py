"""`/metrics`: plotly charts over the metric rollups, with number / conversation / period filters, and the
demo-data loader (demo mode) with its progress bar."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import plotly.graph_objects as go
import reflex as rx

from mirage_app.components.layout import app_page, page_layout
from mirage_app.components.metrics_charts import CHART_HEIGHT, build_figures, build_mix_figures
from mirage_app.logic import event_args
from mirage_app.services import action_mix, metrics
from mirage_app.services.demo_data import load_demo_data
from mirage_app.states.auth import AuthState
from mirage_app.states.rows import SelectOption
from mirage_app.states.ui import UiState, t


@dataclass(frozen=True)
class MetricsTotals:
    sent: int = 0
    received: int = 0
    failure_rate: float = 0.0  # percent of sent
    avg_latency: float = 0.0  # seconds
    optouts: int = 0


PERIODS = ("7", "30")  # days, as the period control offers them
FILTERS = {
    "period": event_args.one_of(*PERIODS),
    "number_id": event_args.uuid_or_empty,
    "conversation_id": event_args.uuid_or_empty,
}


class MetricsState(AuthState):
    period: str = "7"
    number_id: str = ""
    conversation_id: str = ""
    number_choices: list[SelectOption] = []
    conversation_choices: list[SelectOption] = []
    totals: MetricsTotals = MetricsTotals()
    has_data: bool = False
    loading_demo: bool = False
    demo_progress: int = 0
    demo_summary: list[str] = []  # what the last demo load created and which settings it changed
    fig_per_day: go.Figure = go.Figure()
    fig_per_number: go.Figure = go.Figure()
    fig_heatmap: go.Figure = go.Figure()
    fig_topics: go.Figure = go.Figure()
    fig_latency: go.Figure = go.Figure()
    fig_failures: go.Figure = go.Figure()
    fig_mix_per_day: go.Figure = go.Figure()
    fig_mix_per_number: go.Figure = go.Figure()

    @rx.event
    def on_load(self):
        failed = self._load_choices()
        return failed if failed is not None else self._build()

    def _load_choices(self):
        listed = self._call(metrics.filter_choices)
        if not listed.ok:
            return listed.feedback
        numbers, conversations = listed.value
        self.number_choices = SelectOption.from_pairs(numbers)
        self.conversation_choices = SelectOption.from_pairs(conversations)
        return None

    @rx.event
    def set_filter(self, name: str, value: str | list[str]):
        change = event_args.accepted(FILTERS, name, value)
        if change is None:
            return rx.toast.error(self.tr["error.generic"], id="service-error")
        setattr(self, *change)  # one of FILTERS' names only
        return self._build()

    def _build(self):
        flt = metrics.MetricsFilter(int(self.period), self.number_id or None, self.conversation_id or None)
        built = self._call(metrics.dashboard, flt)
        if not built.ok:
            return built.feedback
        data = built.value
        self.totals = MetricsTotals(
            **{k: data.totals[k] for k in ("sent", "received", "failure_rate", "avg_latency", "optouts")}
        )
        self.has_data = bool(self.totals.sent or self.totals.received)
        figures = build_figures(data, self.tr, self.lang)
        self.fig_per_day, self.fig_per_number, self.fig_heatmap = figures.per_day, figures.per_number, figures.heatmap
        self.fig_topics, self.fig_latency, self.fig_failures = figures.topics, figures.latency, figures.failures
        mixed = self._call(action_mix.action_mix, flt)
        if not mixed.ok:
            return mixed.feedback
        self.fig_mix_per_day, self.fig_mix_per_number = build_mix_figures(mixed.value, self.tr, self.lang)
        return None

    @rx.event(background=True)
    async def load_demo(self):
        async with self:
            if self.loading_demo:
                return None
            self.loading_demo, self.demo_progress = True, 0
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue = asyncio.Queue()

        def progress(pct: int, _step: str) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, pct)

        task = asyncio.create_task(self._call_in_thread(load_demo_data, progress, success="metrics.demo_loaded"))
        while not task.done() or not updates.empty():
            try:
                pct = await asyncio.wait_for(updates.get(), timeout=0.5)
            except TimeoutError:
                continue
            async with self:
                self.demo_progress = pct
        loaded = task.result()
        async with self:
            self.loading_demo = False
            if loaded.ok:
                self.demo_summary = self._demo_summary(loaded.value)
                self._load_choices()
                self._build()
        return loaded.feedback

    def _demo_summary(self, summary) -> list[str]:
        tr = self.tr
        created = tr["metrics.demo_created"].format(
            numbers=summary.numbers, personas=summary.personas, messages=summary.messages
        )
        changed = [tr[key] for key in summary.changed_settings if key in tr]
        return [created, *changed] if changed else [created, tr["metrics.demo_unchanged"]]


def _kpi(label_key: str, value: rx.Var, suffix: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t(label_key), size="1", color_scheme="gray"),
            rx.heading(value, suffix, size="6", id="metric-" + label_key.split(".")[-1]),
            spacing="1",
        ),
        class_name="kpi",
    )


def _chart(title_key: str, figure: rx.Var, chart_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t(title_key), weight="medium"),
            # A fixed height: a responsive plot measures its box on every resize, and an auto-height box is 0 tall.
            rx.plotly(
                data=figure,
                config={"displayModeBar": False, "responsive": True},
                width="100%",
                height=f"{CHART_HEIGHT}px",
                id=chart_id,
            ),
            width="100%",
        ),
        width="100%",
    )


def _select(name: str, choices: rx.Var, value: rx.Var, all_key: str) -> rx.Component:
    return rx.el.select(
        rx.el.option(t(all_key), value=""),
        rx.foreach(choices, lambda option: rx.el.option(option.label, value=option.value)),
        value=value,
        on_change=lambda v: MetricsState.set_filter(name, v),
        class_name="native-select native-select-sm",
        aria_label=name,
        id=f"filter-{name}",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        rx.segmented_control.root(
            rx.segmented_control.item(t("metrics.days7"), value="7"),
            rx.segmented_control.item(t("metrics.days30"), value="30"),
            value=MetricsState.period,
            on_change=lambda v: MetricsState.set_filter("period", v),
            id="filter-period",
        ),
        _select("number_id", MetricsState.number_choices, MetricsState.number_id, "metrics.all_numbers"),
        _select(
            "conversation_id",
            MetricsState.conversation_choices,
            MetricsState.conversation_id,
            "metrics.all_conversations",
        ),
        rx.spacer(),
        rx.cond(
            UiState.demo & AuthState.can_manage,
            rx.button(
                rx.icon("database-zap", size=16),
                t("metrics.load_demo"),
                on_click=MetricsState.load_demo,
                disabled=MetricsState.loading_demo,
                variant="soft",
                color_scheme="violet",
                id="load-demo",
            ),
        ),
        width="100%",
        wrap="wrap",
        align="center",
    )


def _demo_summary() -> rx.Component:
    return rx.cond(
        MetricsState.demo_summary.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("info")),
            rx.vstack(rx.foreach(MetricsState.demo_summary, lambda line: rx.text(line, size="2")), spacing="1"),
            color_scheme="cyan",
            size="1",
            width="100%",
            id="demo-summary",
        ),
    )


@app_page("/metrics", "Metrics", on_load=MetricsState.on_load)
def metrics_page() -> rx.Component:
    progress = rx.cond(
        MetricsState.loading_demo,
        rx.card(
            rx.vstack(
                rx.text(t("metrics.loading_demo"), " ", MetricsState.demo_progress, "%", size="2"),
                rx.progress(value=MetricsState.demo_progress, max=100, id="demo-progress"),
                width="100%",
            ),
            width="100%",
        ),
    )
    charts = rx.grid(
        _chart("metrics.per_day", MetricsState.fig_per_day, "chart-per-day"),
        _chart("metrics.per_number", MetricsState.fig_per_number, "chart-per-number"),
        _chart("metrics.heatmap", MetricsState.fig_heatmap, "chart-heatmap"),
        _chart("metrics.topics", MetricsState.fig_topics, "chart-topics"),
        _chart("metrics.latency", MetricsState.fig_latency, "chart-latency"),
        _chart("metrics.failures_optouts", MetricsState.fig_failures, "chart-failures"),
        _chart("metrics.mix_per_day", MetricsState.fig_mix_per_day, "chart-mix-per-day"),
        _chart("metrics.mix_per_number", MetricsState.fig_mix_per_number, "chart-mix-per-number"),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="4",
        width="100%",
    )
    kpis = rx.grid(
        _kpi("metrics.sent", MetricsState.totals.sent),
        _kpi("metrics.received", MetricsState.totals.received),
        _kpi("metrics.failure_rate", MetricsState.totals.failure_rate, "%"),
        _kpi("metrics.avg_latency", MetricsState.totals.avg_latency, " s"),
        _kpi("metrics.optouts", MetricsState.totals.optouts),
        columns=rx.breakpoints(initial="2", md="5"),
        spacing="3",
        width="100%",
    )
    return page_layout(
        "page.metrics.title",
        "page.metrics.subtitle",
        rx.vstack(
            _filters(),
            progress,
            _demo_summary(),
            kpis,
            rx.cond(
                MetricsState.has_data,
                charts,
                rx.callout(t("metrics.empty"), icon="chart-no-axes-column", color_scheme="gray", width="100%"),
            ),
            spacing="4",
            width="100%",
        ),
    )

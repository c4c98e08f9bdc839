"""Finding 4 of issue 14: every operator-written string a chart on /metrics draws is shown as text.

plotly.js renders a subset of HTML in trace names, tick labels, hover text, annotations and titles; a number named
`<a href=...>` showed a live link. The figures are built here as the page builds them (`metrics.dashboard`, then
`build_figures`) from numbers and topics named with HTML, and no `<` or `>` of that data survives anywhere in the
figures' JSON.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from mirage_app.base.permissions import Actor
from mirage_app.components.metrics_charts import build_figures
from mirage_app.core.db import tenant_session
from mirage_app.i18n import catalog
from mirage_app.logic.chart_text import plain
from mirage_app.models import Conversation, Topic, UserRole
from mirage_app.services import metrics
from tests.conftest import make_number

LINK = '<a href="https://evil.example/phish">Demo Ana</a><b style="font-size:40px">BIG</b>'
NAMES = [LINK, '<br><sup>up</sup><span style="color:red">x</span>', "Ana & <i>Bia</i> $x^2$"]
TOPIC = '<a href="javascript:alert(1)">clique</a> & <b>futebol</b>'


@pytest.fixture
def html_named_history(tenant_a):
    """Three numbers and a topic named with HTML, with messages sent today between them in a round on that topic."""
    numbers = [make_number(tenant_a, name) for name in NAMES]
    now = datetime.now(UTC)
    with tenant_session(tenant_a) as s:
        conv = Conversation(tenant_id=tenant_a, name="<b>conv</b>")
        s.add(conv)
        s.flush()
        topic = Topic(tenant_id=tenant_a, conversation_id=conv.id, seed=TOPIC)
        s.add(topic)
        s.flush()
        round_id = uuid.uuid4()
        s.execute(
            text(
                "INSERT INTO rounds (id, tenant_id, conversation_id, topic_id, planned_turns, turns_done, state, "
                "window_key, started_at, ended_at, created_at) VALUES (:id, :t, :c, :topic, 4, 4, 'done', 'w', "
                ":at, :at, :at)"
            ),
            {"id": round_id, "t": tenant_a, "c": conv.id, "topic": topic.id, "at": now - timedelta(minutes=5)},
        )
        for i, frm in enumerate(numbers):
            s.execute(
                text(
                    "INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, "
                    "direction, body, meta, status, created_at, sent_at) VALUES (:t, :c, :r, :f, :to, 'out', 'oi', "
                    "CAST(:meta AS jsonb), 'delivered', :at, :at)"
                ),
                {"t": tenant_a, "c": conv.id, "r": round_id, "f": frm, "to": numbers[(i + 1) % len(numbers)],
                 "meta": json.dumps({"reply_latency_s": 12}), "at": now - timedelta(minutes=4 - i)},
            )  # fmt: skip
        s.commit()
    return numbers


OUR_TEMPLATES = {"%{y} %{x}h: %{z}<extra></extra>", "%{x}: %{y}s<extra></extra>"}


def _strings(node, key: str = "") -> list[tuple[str, str]]:
    """(key, text) of every string anywhere in a figure's JSON: names, ticks, hover text, annotations, titles."""
    if isinstance(node, str):
        return [(key, node)]
    if isinstance(node, dict):
        return [found for k, value in node.items() for found in _strings(value, k)]
    if isinstance(node, list | tuple):
        return [found for value in node for found in _strings(value, key)]
    return []


def _as_plotly_draws(shown: str) -> str:
    """What plotly.js draws for a label without tags: its `convertEntities`, one pass, unknown entities kept."""
    names = {"amp": "&", "lt": "<", "gt": ">", "nbsp": "\u00a0", "mu": "μ", "times": "×", "plusmn": "±", "deg": "°"}

    def one(match: re.Match) -> str:
        inner = match.group(1)
        if inner.startswith("#x"):
            return chr(int(inner[2:], 16))
        if inner.startswith("#"):
            return chr(int(inner[1:]))
        return names.get(inner, match.group(0))

    return re.sub(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);", one, shown)


@pytest.mark.parametrize("lang", ["pt-BR", "en"])
def test_every_chart_shows_html_names_as_text(tenant_a, html_named_history, lang):
    viewer = Actor(tenant_id=tenant_a, role=UserRole.viewer, label="viewer@test")
    data = metrics.dashboard(viewer, metrics.MetricsFilter(7))
    assert set(data.numbers) == set(NAMES) and [seed for seed, _ in data.topics] == [TOPIC]  # the data is there

    figures = build_figures(data, catalog(lang), lang)
    drawn = set()
    for name in ("per_day", "per_number", "heatmap", "topics", "latency", "failures"):
        for key, shown in _strings(json.loads(getattr(figures, name).to_json())):
            if key == "hovertemplate":
                assert shown in OUR_TEMPLATES, (name, shown)  # our markup only, never a user's
            else:
                assert "<" not in shown and ">" not in shown and "$" not in shown, (name, key, shown)
                drawn.add(_as_plotly_draws(shown))
    # Every name reaches the charts, and plotly draws it exactly as the operator typed it.
    assert set(NAMES) | {TOPIC} <= drawn


@given(st.text())
def test_plain_leaves_no_markup_and_reads_back_to_the_text(value):
    shown = plain(value)
    assert "<" not in shown and ">" not in shown and "$" not in shown
    assert _as_plotly_draws(shown) == value  # drawn exactly as typed


@given(st.text(alphabet=st.characters(blacklist_characters="&<>$")))
def test_plain_text_without_special_characters_is_unchanged(value):
    assert plain(value) == value


def test_examples():
    assert plain('<a href="x">Ana</a> & $1') == '&lt;a href="x"&gt;Ana&lt;/a&gt; &amp; &#36;1'
    assert plain("&lt;") == "&amp;lt;"  # typed entities stay as typed
    assert plain(42) == "42"

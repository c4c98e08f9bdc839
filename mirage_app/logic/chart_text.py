"""Operator-written text as a plotly chart shows it.

plotly.js renders a subset of HTML in every label it draws (trace and legend names, tick labels, hover text,
annotations, titles): `<a href>` becomes a live link, `<b>`, `<i>`, `<sup>`, `<span style>` style the text, `<br>`
breaks it, and a `$...$` string is typeset as TeX wherever MathJax is loaded. It splits the tags off first and
decodes entities afterwards (`svg_text_utils.buildSVGText`), so an entity always shows as the character it names.
"""

from __future__ import annotations

from collections.abc import Iterable

# `str.translate` maps each character once: the `&` of an entity it writes is never escaped again.
_AS_ENTITY = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;"})


def plain(value: object) -> str:
    """`value` as text plotly shows literally: `<b>x</b>` is drawn as typed, never bold."""
    return str(value).translate(_AS_ENTITY)


def plain_all(values: Iterable[object]) -> list[str]:
    return [plain(value) for value in values]

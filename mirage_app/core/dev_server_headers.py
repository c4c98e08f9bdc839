"""The development server (`reflex run` serves pages through Vite) sends the same security headers as the
production server: a Reflex plugin writes them into the generated vite.config.js."""

from __future__ import annotations

import json
from collections.abc import Callable

from reflex_base.plugins.base import Plugin, PreCompileContext
from typing_extensions import Unpack

VITE_CONFIG = "vite.config.js"


def with_headers(vite_config: str, headers: dict[str, str]) -> str:
    """`vite_config` with `server.headers` set (the first `server: {` block is Vite's dev server)."""
    marker = "server: {"
    if marker not in vite_config or '"Content-Security-Policy"' in vite_config:
        return vite_config
    return vite_config.replace(marker, f"{marker}\n    headers: {json.dumps(headers)},", 1)


class DevServerHeaders(Plugin):
    def __init__(self, headers: Callable[[], dict[str, str]]) -> None:
        self.headers = headers  # read at compile time, once Reflex knows the ports

    def pre_compile(self, **context: Unpack[PreCompileContext]) -> None:
        context["add_modify_task"](VITE_CONFIG, lambda text: with_headers(text, self.headers()))

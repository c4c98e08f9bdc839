"""The development server (`reflex run` serves pages through Vite) sends the same security headers as the
production server: a Reflex plugin writes them into the generated vite.config.js."""

from __future__ import annotations

import json
from collections.abc import Callable

from reflex_base.plugins.base import Plugin, PreCompileContext
from typing_extensions import Unpack

VITE_CONFIG = "vite.config.js"
PLUGIN_NAME = "mirage-security-headers"


def with_headers(vite_config: str, headers: dict[str, str]) -> str:
    """`vite_config` with a first plugin that sets `headers` on every response of the dev server (Vite's own
    `server.headers` misses the pages, which React Router's dev middleware renders)."""
    marker = "plugins: ["
    if marker not in vite_config or PLUGIN_NAME in vite_config:
        return vite_config
    plugin = (
        f"{{name: {json.dumps(PLUGIN_NAME)}, configureServer(server) {{ server.middlewares.use((req, res, next) => "
        f"{{ for (const [k, v] of Object.entries({json.dumps(headers)})) res.setHeader(k, v); next(); }}); }}}},"
    )
    return vite_config.replace(marker, f"{marker}\n    {plugin}", 1)


class DevServerHeaders(Plugin):
    def __init__(self, headers: Callable[[], dict[str, str]]) -> None:
        self.headers = headers  # read at compile time, once Reflex knows the ports

    def pre_compile(self, **context: Unpack[PreCompileContext]) -> None:
        context["add_modify_task"](VITE_CONFIG, lambda text: with_headers(text, self.headers()))

"""The development server (`reflex run` serves pages through Vite) is held to the production server's rules: a
Reflex plugin writes a first Vite plugin into the generated vite.config.js that sends the same security headers
and, in the embedded default, listens on this machine only."""

from __future__ import annotations

import json
from collections.abc import Callable

from reflex_base.plugins.base import Plugin, PreCompileContext
from typing_extensions import Unpack

VITE_CONFIG = "vite.config.js"
PLUGIN_NAME = "mirage-dev-server-security"


def with_security(vite_config: str, headers: dict[str, str], host: str | None) -> str:
    """`vite_config` with a first plugin that sets `headers` on every response (Vite's own `server.headers` misses
    the pages, which React Router's dev middleware renders) and, given a `host`, listens there (Reflex starts Vite
    with a bare `--host`, every interface; a plugin's `config` hook sees the CLI's options and has the last word)."""
    marker = "plugins: ["
    if marker not in vite_config or PLUGIN_NAME in vite_config:
        return vite_config
    listen = f"config(config) {{ config.server = {{ ...config.server, host: {json.dumps(host)} }}; }}, " if host else ""
    send = f"for (const [k, v] of Object.entries({json.dumps(headers)})) res.setHeader(k, v); next();"
    plugin = (
        f"{{name: {json.dumps(PLUGIN_NAME)}, {listen}"
        f"configureServer(server) {{ server.middlewares.use((req, res, next) => {{ {send} }}); }}}},"
    )
    return vite_config.replace(marker, f"{marker}\n    {plugin}", 1)


class DevServerSecurity(Plugin):
    def __init__(self, headers: Callable[[], dict[str, str]], host: str | None) -> None:
        self.headers = headers  # read at compile time, once Reflex knows the ports
        self.host = host

    def pre_compile(self, **context: Unpack[PreCompileContext]) -> None:
        context["add_modify_task"](VITE_CONFIG, lambda text: with_security(text, self.headers(), self.host))

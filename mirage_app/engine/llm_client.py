"""The LLM behind persona replies: the `openai` SDK against any OpenAI-compatible server (OpenAI, Azure, Ollama,
vLLM...), or nothing at all when no key is configured (then `replies` uses the offline generator).

The SDK's own retries are off (`max_retries=0`); `LLMClient.complete` retries itself so it can honour
`Retry-After` (capped: a worker never sleeps longer than `max_retry_after_s`; a longer wait is raised as a
retryable `LLMError` with `retry_after` so the caller can defer instead). Timeouts, connection failures,
429 and 5xx are retried; any other 4xx is final.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import openai
from openai import OpenAI

from mirage_app.core.config import get_settings

log = logging.getLogger("mirage.llm")

OFFLINE = "offline"
DEFAULT_MODEL = "gpt-4o-mini"
MAX_TOKENS = 120  # 1–2 short sentences


class LLMError(Exception):
    """A reply could not be generated. `reason`: rate_limited, timeout, connection, server_error, rejected,
    empty; `retryable`: a later attempt may succeed; `retry_after` (s): how long the server asked us to wait."""

    def __init__(
        self, reason: str, message: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens, total_tokens
    attempts: int = 1
    latency_ms: int = 0


def parse_retry_after(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, `retry-after` (seconds or an HTTP date); None when absent."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class LLMClient:
    """One OpenAI-compatible endpoint. Thread-safe (the SDK client is)."""

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        timeout_s: float = 20.0,
        max_attempts: int = 3,
        max_retry_after_s: float = 30.0,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self._client = OpenAI(api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0)
        self._attempts = max(1, max_attempts)
        self._max_retry_after = max_retry_after_s
        self._backoff = backoff_s
        self._sleep = sleep

    @property
    def label(self) -> str:
        host = urlparse(self.base_url).netloc if self.base_url else "api.openai.com"
        return f"openai:{host}"

    def complete(
        self, messages: Sequence[dict[str, str]], model: str, temperature: float, max_tokens: int = MAX_TOKENS
    ) -> Completion:
        started = time.monotonic()
        last: LLMError | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._client.chat.completions.create(
                    model=model, messages=list(messages), temperature=temperature, max_tokens=max_tokens
                )
            except openai.APIStatusError as exc:
                last = _status_error(exc)
            except openai.APITimeoutError as exc:
                last = LLMError("timeout", str(exc) or "request timed out", retryable=True)
            except openai.APIConnectionError as exc:
                last = LLMError("connection", str(exc) or "connection failed", retryable=True)
            else:
                return _completion(response, model, attempt, started)
            if not last.retryable or attempt == self._attempts:
                break
            wait = last.retry_after if last.retry_after is not None else self._backoff * 2 ** (attempt - 1)
            if wait > self._max_retry_after:
                break  # the caller defers the work instead of holding a worker this long
            log.info("LLM %s (attempt %d/%d); retrying in %.2f s", last.reason, attempt, self._attempts, wait)
            self._sleep(wait)
        assert last is not None
        raise last


def _status_error(exc: openai.APIStatusError) -> LLMError:
    status = exc.status_code
    retry_after = parse_retry_after(getattr(exc.response, "headers", None))
    detail = str(getattr(exc, "message", "") or exc)[:300]
    if status == 429:
        return LLMError("rate_limited", detail, retryable=True, status=status, retry_after=retry_after)
    if status in (408, 409) or status >= 500:
        return LLMError("server_error", detail, retryable=True, status=status, retry_after=retry_after)
    return LLMError("rejected", detail, retryable=False, status=status)


def _completion(response: Any, model: str, attempts: int, started: float) -> Completion:
    choices = getattr(response, "choices", None) or []
    text = (choices[0].message.content or "").strip() if choices else ""
    if not text:
        raise LLMError("empty", "the model returned no text", retryable=False)
    usage = getattr(response, "usage", None)
    counts = {}
    if usage is not None:
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            value = getattr(usage, key, None)
            if isinstance(value, int):
                counts[key] = value
    return Completion(
        text=text,
        model=getattr(response, "model", None) or model,
        usage=counts,
        attempts=attempts,
        latency_ms=round((time.monotonic() - started) * 1000),
    )


@lru_cache
def default_client() -> LLMClient | None:
    """The configured client, or None (no OPENAI_API_KEY: the offline generator answers)."""
    settings = get_settings()
    if not settings.openai_api_key:
        return None
    return LLMClient(
        settings.openai_api_key,
        settings.openai_base_url,
        timeout_s=settings.llm_timeout_s,
        max_attempts=settings.llm_max_attempts,
        max_retry_after_s=settings.llm_max_retry_after_s,
    )

"""The LLM client against a local fake OpenAI-compatible server: request shape, Retry-After, timeouts, errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from mirage_app.engine import replies
from mirage_app.engine.llm_client import LLMClient, LLMError, parse_retry_after
from mirage_app.logic.prompts import PersonaSpec, build_conversation_messages
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture(scope="module")
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh(fake):
    fake.requests.clear()
    fake._script.clear()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake, **kwargs) -> LLMClient:
    kwargs.setdefault("sleep", Sleeps())
    return LLMClient("sk-test-123", fake.base_url, **kwargs)


def test_request_shape_and_usage(fake):
    messages = build_conversation_messages(
        PersonaSpec("Ana", greeting_morning="Bom diaa!"), {"seed": "futebol"}, "morning", "greeting", [], "pt-BR"
    )
    fake.reply("Bom diaa! Tudo bem?", prompt_tokens=120, completion_tokens=7)
    done = client(fake).complete(messages, "gpt-4o-mini", 0.65)
    assert done.text == "Bom diaa! Tudo bem?"
    assert done.usage == {"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127}
    assert done.model == "gpt-4o-mini" and done.attempts == 1
    [req] = fake.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test-123"
    assert req.body["model"] == "gpt-4o-mini"
    assert req.body["temperature"] == 0.65
    assert req.body["max_tokens"] == 120
    assert req.body["messages"] == messages
    assert req.body["messages"][0]["role"] == "system" and "You are Ana." in req.body["messages"][0]["content"]
    assert "stream" not in req.body or req.body["stream"] is False


def test_429_with_retry_after_is_honoured(fake):
    fake.fail(429, headers={"Retry-After": "2"})
    fake.reply("Depois do limite")
    sleeps = Sleeps()
    done = client(fake, sleep=sleeps).complete([{"role": "user", "content": "oi"}], "m", 0.5)
    assert done.text == "Depois do limite" and done.attempts == 2
    assert sleeps == [2.0]
    assert len(fake.requests) == 2


def test_retry_after_really_waits(fake):
    """With the real sleep: the second request arrives no earlier than Retry-After says."""
    fake.fail(429, headers={"retry-after-ms": "400"})
    started = time.monotonic()
    done = LLMClient("sk", fake.base_url).complete([{"role": "user", "content": "oi"}], "m", 0.5)
    assert done.attempts == 2 and time.monotonic() - started >= 0.4


def test_retry_after_longer_than_the_cap_is_raised_for_the_caller_to_defer(fake):
    fake.fail(429, headers={"Retry-After": "120"})
    sleeps = Sleeps()
    with pytest.raises(LLMError) as err:
        client(fake, sleep=sleeps, max_retry_after_s=30).complete([{"role": "user", "content": "x"}], "m", 0.5)
    assert err.value.reason == "rate_limited" and err.value.retryable and err.value.retry_after == 120
    assert sleeps == [] and len(fake.requests) == 1


def test_rate_limit_that_never_clears_ends_in_a_typed_error(fake):
    for _ in range(3):
        fake.fail(429, headers={"Retry-After": "1"})
    with pytest.raises(LLMError) as err:
        client(fake, max_attempts=3).complete([{"role": "user", "content": "x"}], "m", 0.5)
    assert err.value.reason == "rate_limited" and err.value.status == 429
    assert len(fake.requests) == 3


def test_a_slow_server_times_out_and_is_retried_then_reported(fake):
    fake.slow(1.5)
    fake.slow(1.5)
    started = time.monotonic()
    with pytest.raises(LLMError) as err:
        client(fake, timeout_s=0.3, max_attempts=2).complete([{"role": "user", "content": "x"}], "m", 0.5)
    assert err.value.reason == "timeout" and err.value.retryable
    assert time.monotonic() - started < 1.4  # never waited for the slow answers
    assert len(fake.requests) == 2


def test_a_timeout_then_an_answer(fake):
    fake.slow(1.0)
    fake.reply("Agora sim")
    done = client(fake, timeout_s=0.3, max_attempts=3).complete([{"role": "user", "content": "x"}], "m", 0.5)
    assert done.text == "Agora sim" and done.attempts == 2


def test_server_errors_back_off_and_client_errors_do_not_retry(fake):
    fake.fail(503)
    fake.reply("ok")
    sleeps = Sleeps()
    assert client(fake, sleep=sleeps, backoff_s=0.25).complete([{"role": "user", "content": "x"}], "m", 0).text == "ok"
    assert sleeps == [0.25]
    fake.fail(400, message="bad model")
    with pytest.raises(LLMError) as err:
        client(fake).complete([{"role": "user", "content": "x"}], "nope", 0)
    assert err.value.reason == "rejected" and not err.value.retryable and err.value.status == 400


def test_parse_retry_after():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": format_datetime(now + timedelta(seconds=30), usegmt=True)}, now) == 30.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_replies_use_the_model_and_fall_back_offline(fake):
    llm = client(fake)
    fake.reply("Bom dia! Viu o jogo ontem? https://example.com")
    reply = replies.generate(PersonaSpec("Ana"), None, "morning", "greeting", [], "pt-BR", seed="s", llm=llm)
    assert reply.text == "Bom dia! Viu o jogo ontem?"  # sanitised: no links
    assert reply.source.startswith("openai:127.0.0.1") and reply.usage["total_tokens"] == 51
    # The model repeating a line already said: the offline generator answers instead (tokens still recorded).
    fake.reply("Oi, tudo bem?")
    again = replies.generate(
        PersonaSpec("Ana"), None, "morning", "question", ["Oi, tudo bem?"], "pt-BR", seed="s", llm=llm
    )
    assert again.source == replies.OFFLINE_FALLBACK and again.error == "repeated" and again.usage
    assert again.text and again.text != "Oi, tudo bem?"
    # The model failing after its retries: offline as well, with the reason.
    fake.fail(400)
    failed = replies.generate(PersonaSpec("Ana"), None, "evening", "goodbye", [], "en", seed="s", llm=llm)
    assert failed.source == replies.OFFLINE_FALLBACK and failed.error == "rejected" and failed.text


def test_offline_without_a_key():
    reply = replies.generate(PersonaSpec("Mike", greeting_evening="Evening, mate!"), None, "evening", "greeting",
                             [], "en", seed="x")  # fmt: skip
    assert reply.source == "offline" and reply.text.startswith("Evening, mate!")

"""A local OpenAI-compatible HTTP server for tests: `POST /v1/chat/completions` and `POST /v1/audio/speech`
(which answers `speech_audio`, the bytes a test sets).

Every request is recorded (path, headers, JSON body). Answers come from a script of steps consumed in order;
when the script is empty the default answer is used:

    fake = FakeOpenAI().start()
    fake.fail(429, headers={"Retry-After": "1"})   # next request: 429
    fake.slow(2.0)                                   # next request: answered after 2 s
    fake.reply("Oi!", prompt_tokens=30)              # next request: this text
    LLMClient("sk-test", fake.base_url, ...)
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mirage_app.evolution.simulator.server import BackgroundServer


@dataclass
class Step:
    status: int = 200
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    prompt_tokens: int = 42
    completion_tokens: int = 9
    error: dict[str, Any] | None = None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeOpenAI:
    def __init__(self, default_text: str = "Opa, tudo certo por aqui! E com você?") -> None:
        self.default_text = default_text
        self.requests: list[Recorded] = []
        self._script: deque[Step] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.speech_audio = b""
        self._server = BackgroundServer(
            Starlette(
                routes=[
                    Route("/v1/chat/completions", self._completions, methods=["POST"]),
                    Route("/v1/audio/speech", self._speech, methods=["POST"]),
                ]
            )
        )

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return f"{self._server.url}/v1"

    # -- script -------------------------------------------------------------------------------------------------

    def reply(self, text: str, prompt_tokens: int = 42, completion_tokens: int = 9) -> None:
        self._push(Step(text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens))

    def fail(self, status: int, headers: dict[str, str] | None = None, message: str = "scripted failure") -> None:
        kind = "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request"
        error = {"message": message, "type": kind, "code": kind}
        self._push(Step(status=status, headers=headers or {}, error=error))

    def slow(self, delay_s: float, text: str | None = None) -> None:
        self._push(Step(text=text, delay_s=delay_s))

    def _push(self, step: Step) -> None:
        with self._lock:
            self._script.append(step)

    # -- HTTP ---------------------------------------------------------------------------------------------------

    async def _speech(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(Recorded(request.url.path, dict(request.headers), body))
            step = self._script.popleft() if self._script else Step()
        if step.status != 200:
            return JSONResponse({"error": step.error}, status_code=step.status, headers=step.headers)
        return Response(self.speech_audio, media_type="audio/ogg")

    async def _completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.requests.append(Recorded(request.url.path, dict(request.headers), body))
            step = self._script.popleft() if self._script else Step()
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        if step.status != 200:
            return JSONResponse({"error": step.error}, status_code=step.status, headers=step.headers)
        text = step.text if step.text is not None else self.default_text
        return JSONResponse(
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body.get("model", "unknown"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": step.prompt_tokens,
                    "completion_tokens": step.completion_tokens,
                    "total_tokens": step.prompt_tokens + step.completion_tokens,
                },
            },
            headers=step.headers,
        )

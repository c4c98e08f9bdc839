"""A local SMTP server for alert tests (aiosmtpd): every message it accepts is kept, parsed."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Collect:
    def __init__(self, inbox: list[EmailMessage]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by this name
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.inbox.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


class FakeSMTP:
    def __init__(self) -> None:
        self.inbox: list[EmailMessage] = []
        self.port = _free_port()  # aiosmtpd checks its server by connecting to the port: it cannot be 0
        self._controller = Controller(_Collect(self.inbox), hostname="127.0.0.1", port=self.port)

    def start(self) -> FakeSMTP:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

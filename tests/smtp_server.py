"""A real SMTP server (aiosmtpd) on loopback for the mail tests."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Accepts messages (or refuses them with ``refuse``) and keeps what it received."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.refuse: str | None = None  # e.g. "550 5.7.1 Refused" or "451 4.3.0 Try later"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.envelopes.append(envelope)
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    """Start and stop an aiosmtpd server on a fixed loopback port."""

    def __init__(self, port: int | None = None, recorder: Recorder | None = None, **options: Any):
        self.port = port or free_port()
        self.recorder = recorder or Recorder()
        self.options = options  # aiosmtpd's SMTP settings, e.g. enable_SMTPUTF8=False
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

"""A real SMTP server on loopback (aiosmtpd in a thread) that keeps what it receives and
can refuse on demand, for the e-mail durability tests."""

from __future__ import annotations

import contextlib
import email
import email.policy
import threading
from collections.abc import Iterator
from email.message import EmailMessage as ParsedMessage

from aiosmtpd.controller import Controller

from tests.processes import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[ParsedMessage] = []
        # (sender, recipients, message) of each accepted message, as the envelope had them.
        self.envelopes: list[tuple[str, list[str], ParsedMessage]] = []
        self.lock = threading.Lock()
        # Replies to give instead of accepting, consumed one per transaction.
        self.rcpt_replies: list[str] = []
        self.data_replies: list[str] = []
        # Close the connection after reading the message, without answering.
        self.drop_after_data = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.drop_after_data:
            server.transport.close()
            return "250 never sent"
        if self.data_replies:
            with self.lock:
                self.messages.pop()  # refused: not taken
                self.envelopes.pop()
            return self.data_replies.pop(0)
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(message["Subject"]) for message in self.messages]


@contextlib.contextmanager
def running_inbox(port: int | None = None) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_settings(settings, port: int) -> None:
    """Point this process's Django e-mail at the loopback server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


def smtp_env(port: int) -> dict[str, str]:
    """The same for a child process (production settings read the environment)."""
    return {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "false",
        "EMAIL_USE_SSL": "false",
    }

"""Small helpers shared by the web views of every app."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from solodesk.core.exceptions import ApplicationError


def service_error_messages(request: HttpRequest, error: ApplicationError | ValidationError) -> None:
    """Show a service's refusal as flash messages: its message, then any field messages
    that say something more (for actions that have no form to put them on)."""
    if isinstance(error, ApplicationError):
        texts = [error.message]
        texts += [m for msgs in error.errors.values() for m in msgs if m != error.message]
    else:
        texts = list(error.messages)
    for text in texts:
        messages.error(request, text)

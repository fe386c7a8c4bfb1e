"""Demo data for reminders: the default schedule, and the reminders due today on the demo's
overdue invoices already sent — through the real sweep and send, with a mail backend that
drops the message (the demo's clients are not real people)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.mail import get_connection

from solodesk.reminders.services import (
    reminder_send,
    reminder_settings_ensure,
    reminders_sweep,
)

if TYPE_CHECKING:
    from solodesk.accounts.models import User, Workspace


def demo_reminders(workspace: Workspace, user: User) -> int:
    """Returns how many reminders were sent. Scoped to the demo workspace: other workspaces'
    due reminders are left to the scheduler."""
    del user  # the sweep acts as the system, not as a person
    reminder_settings_ensure(workspace=workspace)
    result = reminders_sweep(workspace=workspace, enqueue=False)
    dropped = get_connection("django.core.mail.backends.dummy.EmailBackend")
    sent = 0
    for reminder_id in result.queued:
        reminder = reminder_send(reminder_id=reminder_id, connection=dropped)
        sent += bool(reminder and reminder.status == "sent")
    return sent

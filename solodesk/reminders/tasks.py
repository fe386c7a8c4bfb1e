"""Celery entry points for payment reminders: thin, ids in, one service call out.

The sweep only finds due work and fans out one `reminder_send_task` per row after commit;
the send task claims its row before the mail server sees anything, so a duplicate delivery
of either task has no second effect.
"""

from __future__ import annotations

from celery import shared_task

from solodesk.reminders.services import reminder_send, reminders_sweep


@shared_task(name="solodesk.reminders.tasks.reminders_sweep_task")
def reminders_sweep_task() -> int:
    return len(reminders_sweep().queued)


@shared_task(name="solodesk.reminders.tasks.reminder_send_task")
def reminder_send_task(reminder_id: int) -> None:
    reminder_send(reminder_id=reminder_id)

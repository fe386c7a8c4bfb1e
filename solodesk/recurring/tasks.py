"""Celery entry points for recurring invoices: thin, id in, one call out.

`recurring_sweep_task` is sent by beat every five minutes (a second one at the same moment
does nothing twice: see services); `recurring_run_task` creates one period's invoice and
is safe to deliver twice.
"""

from __future__ import annotations

from celery import shared_task

from solodesk.recurring.services import recurring_run_execute, recurring_sweep


@shared_task(name="solodesk.recurring.tasks.recurring_sweep_task")
def recurring_sweep_task() -> int:
    return recurring_sweep()


@shared_task(name="solodesk.recurring.tasks.recurring_run_task")
def recurring_run_task(run_id: int) -> None:
    recurring_run_execute(run_id=run_id)

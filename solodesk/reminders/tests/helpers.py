"""Invoices with reminders due, and a sweep followed by running each queued send task."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tests.factories import line, make_client, make_issued
from solodesk.reminders import services, tasks

ISSUE_DATE = dt.date(2026, 3, 2)  # clients pay in 30 days: due 1 April 2026


def issued(owner: Any, **kwargs: Any) -> Invoice:
    client = kwargs.pop("client", None) or make_client(
        owner.workspace, name="Acme Robotics", email="billing@acme.test"
    )
    return make_issued(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        issue_date=kwargs.pop("issue_date", ISSUE_DATE),
        lines=[line("Design work", quantity="10", unit_price="100.00", tax_rate="21")],
        **kwargs,
    )


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A moment on that day in Brussels (the factories' workspace time zone)."""
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour)), timezone.get_fixed_timezone(60)
    )


def sweep_and_send(**kwargs: Any) -> services.SweepResult:
    result = services.reminders_sweep(enqueue=False, **kwargs)
    for reminder_id in result.queued:
        tasks.reminder_send_task(reminder_id)
    return result

"""Reads for the reminder pages and API, always scoped to the workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import QuerySet

from solodesk.reminders.models import Reminder, ReminderSettings, ReminderStage

if TYPE_CHECKING:
    from solodesk.accounts.models import Workspace


def reminder_settings_get(*, workspace: Workspace) -> tuple[ReminderSettings, list[ReminderStage]]:
    """The settings row and the stages in date order (2 queries). The row must exist:
    callers go through `reminder_settings_ensure` first."""
    row = ReminderSettings.objects.get(workspace=workspace)
    stages = list(ReminderStage.objects.filter(workspace=workspace).order_by("offset_days"))
    return row, stages


def reminder_list(
    *, workspace: Workspace, invoice_public_id: UUID | str | None = None
) -> QuerySet[Reminder]:
    """Newest first, each with its invoice (joined: one query per page)."""
    qs = Reminder.objects.filter(workspace=workspace).select_related("invoice")
    if invoice_public_id:
        qs = qs.filter(invoice__public_id=invoice_public_id)
    return qs.order_by("-created_at", "-pk")


def reminder_list_by_ids(*, ids: list[int]) -> list[Reminder]:
    """Reminders by id with their invoices (for the `solodesk remind` report), in id order."""
    return list(Reminder.objects.filter(pk__in=ids).select_related("invoice").order_by("pk"))

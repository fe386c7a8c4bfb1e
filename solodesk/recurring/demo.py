"""Demo data: a monthly retainer for one demo client, with its past months already run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.recurring.models import RecurringProfile, RecurringRun
from solodesk.recurring.services import (
    recurring_profile_create,
    recurring_run_execute,
    recurring_runs_schedule,
)

DEMO_PROFILE_NAME = "Monthly retainer"


def demo_recurring(*, workspace: Workspace, user: User, client: Client, today: dt.date) -> None:
    """Idempotent: does nothing when the workspace already has the demo profile."""
    if RecurringProfile.objects.filter(workspace=workspace, name=DEMO_PROFILE_NAME).exists():
        return
    month = today.month - 3
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    profile = recurring_profile_create(
        workspace=workspace,
        user=user,
        client=client,
        name=DEMO_PROFILE_NAME,
        start_date=dt.date(year, month, 1),
        day_of_month=1,
        lines=[
            {
                "description": "Support and maintenance retainer",
                "quantity": Decimal("1"),
                "unit": "pieces",
                "unit_price": Decimal("1200.00"),
                "tax_rate": Decimal("21.00"),
            }
        ],
        notes="Thank you for your continued trust.",
    )
    # Create the past months' drafts now, as the sweeper would have done.
    recurring_runs_schedule()
    for run_id in (
        RecurringRun.objects.filter(profile=profile)
        .order_by("period_start")
        .values_list("pk", flat=True)
    ):
        recurring_run_execute(run_id=run_id)

"""Demo data that makes the demo workspace raise a realistic set of prompts.

The demo already has an overdue invoice, an issued invoice never sent, an accepted quote
not yet converted and unbilled time older than two weeks. This adds, without new rows (so
the demo's own counts stay as they are): a budget on the busiest hourly project set just
above what was tracked on it (85 % used), and payment terms left to the workspace's default
on one client. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django.db.models import Sum

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.clients.services import client_update
from solodesk.projects.models import Project
from solodesk.projects.services import project_update

BUDGET_USED = Decimal("0.85")


def demo_prompts(*, workspace: Workspace, user: User, today: dt.date) -> None:
    project = (
        Project.objects.filter(
            workspace=workspace,
            billing_method=Project.BillingMethod.HOURLY,
            is_archived=False,
        )
        .annotate(tracked=Sum("time_entries__duration_seconds"))
        .filter(tracked__gt=0)
        .order_by("-tracked", "pk")
        .first()
    )
    if project is not None:
        hours = Decimal(project.tracked) / 3600  # type: ignore[attr-defined]
        budget = (hours / BUDGET_USED).quantize(Decimal("1"), rounding=ROUND_CEILING)
        project_update(project=project, budget_hours=budget)
    client = Client.objects.filter(workspace=workspace, name="Studio Lumen").first()
    if client is not None:
        client_update(client=client, payment_terms_days=None)

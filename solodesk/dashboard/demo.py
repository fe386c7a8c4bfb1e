"""A year's history for the demo workspace, so the dashboard's 12-month charts show a
business rather than two bars.

The demo's own data covers the last six weeks. Before that, this adds, month by month for
up to ten months (from January of this year: invoice numbers restart each year and the demo
shows one gapless series), a few days of tracked time on the hourly projects, invoiced from
time at the end of the month and paid about three weeks later — through the services, so
the numbers, totals and billed entries are real. It runs before the demo's recent invoices
(their numbers follow the dates) and is part of the demo's one transaction: loading the
demo twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.invoicing.models import Payment
from solodesk.invoicing.services import invoice_create_from_time, invoice_issue, payment_record
from solodesk.projects.models import Project
from solodesk.timetracking.services import time_entry_create

HISTORY_MONTHS = 10
TASKS = ["Implementation", "Client meeting", "Design iteration", "Code review"]


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def demo_dashboard(
    *, workspace: Workspace, user: User, today: dt.date, recent_days: int, seed: int = 11
) -> None:
    """History strictly before `today - recent_days` (where the demo's own entries begin)."""
    rng = random.Random(seed)
    cutoff = today - dt.timedelta(days=recent_days + 1)
    projects = list(
        Project.objects.filter(workspace=workspace, billing_method=Project.BillingMethod.HOURLY)
        .select_related("client")
        .order_by("pk")
    )
    for back in range(HISTORY_MONTHS + 2, 1, -1):
        first = _month_start(today, back)
        last = min(_month_start(today, back - 1) - dt.timedelta(days=1), cutoff)
        if last < first or first.year != today.year:
            continue
        billed: dict[Client, list[Project]] = {}
        day = first
        while day <= last:
            if day.weekday() < 5 and rng.random() < 0.45:
                project = rng.choice(projects)
                start = dt.datetime.combine(day, dt.time(13, 0), workspace.tzinfo)
                time_entry_create(
                    workspace=workspace,
                    user=user,
                    project=project,
                    started_at=start,
                    ended_at=start + dt.timedelta(minutes=rng.choice([90, 120, 180, 240])),
                    description=rng.choice(TASKS),
                )
                billed.setdefault(project.client, [])
                if project not in billed[project.client]:
                    billed[project.client].append(project)
            day += dt.timedelta(days=1)
        for client, client_projects in sorted(billed.items(), key=lambda item: item[0].pk):
            invoice = invoice_create_from_time(
                workspace=workspace,
                user=user,
                client=client,
                date_from=first,
                date_to=last,
                project_public_ids=[project.public_id for project in client_projects],
            )
            invoice_issue(invoice=invoice, user=user, issue_date=last)
            payment_record(
                invoice=invoice,
                user=user,
                amount=invoice.total,
                date=min(last + dt.timedelta(days=rng.randint(10, 25)), cutoff),
                method=Payment.Method.BANK_TRANSFER,
                reference=f"Remittance {invoice.number}",
            )

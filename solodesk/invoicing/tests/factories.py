"""Helpers for invoicing tests: invoices are made through the services (so totals, numbers
and activity are real), time entries at exact local times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.invoicing import services
from solodesk.invoicing.models import Invoice
from solodesk.projects.models import Project
from solodesk.tests.factories import ClientFactory, ProjectFactory, TimeEntryFactory
from solodesk.timetracking.models import TimeEntry


def line(
    description: str = "Design work",
    quantity: str = "1",
    unit_price: str = "100.00",
    tax_rate: str = "21",
    unit: str = "hours",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": Decimal(quantity),
        "unit": unit,
        "unit_price": Decimal(unit_price),
        "tax_rate": Decimal(tax_rate),
        **extra,
    }


def make_client(workspace: Workspace, **kwargs: Any) -> Client:
    return ClientFactory(workspace=workspace, **kwargs)


def make_project(client: Client, **kwargs: Any) -> Project:
    return ProjectFactory(client=client, workspace=client.workspace, **kwargs)


def make_draft(
    *,
    workspace: Workspace,
    user: User,
    client: Client | None = None,
    lines: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Invoice:
    return services.invoice_create_draft(
        workspace=workspace,
        user=user,
        client=client or make_client(workspace),
        lines=[line()] if lines is None else lines,
        **kwargs,
    )


def make_issued(
    *,
    workspace: Workspace,
    user: User,
    issue_date: dt.date = dt.date(2026, 3, 2),
    **kwargs: Any,
) -> Invoice:
    draft = make_draft(workspace=workspace, user=user, **kwargs)
    return services.invoice_issue(invoice=draft, user=user, issue_date=issue_date)


def make_entry(
    *,
    project: Project,
    user: User,
    start: dt.datetime,
    minutes: int = 0,
    seconds: int = 0,
    **kwargs: Any,
) -> TimeEntry:
    """An entry starting at `start` (give it a tzinfo) lasting minutes + seconds."""
    duration = dt.timedelta(minutes=minutes, seconds=seconds)
    return TimeEntryFactory(
        project=project,
        workspace=project.workspace,
        user=user,
        started_at=start,
        ended_at=start + duration,
        **kwargs,
    )

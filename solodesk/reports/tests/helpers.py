"""Data for the report's tests, made through the services (invoices, credit notes,
payments) so totals and statuses are real."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.invoicing import services
from solodesk.invoicing.models import Invoice, Payment
from solodesk.invoicing.tests.factories import line, make_issued
from solodesk.projects.models import Project
from solodesk.tests.factories import ClientFactory, ProjectFactory, TimeEntryFactory
from solodesk.timetracking.models import TimeEntry


def client_with_project(workspace: Workspace, **kwargs: object) -> tuple[Client, Project]:
    client = ClientFactory(workspace=workspace, **kwargs)
    return client, ProjectFactory(client=client, workspace=workspace)


def entry(
    project: Project, user: User, start: dt.datetime, *, minutes: int, billable: bool = True
) -> TimeEntry:
    return TimeEntryFactory(
        project=project,
        workspace=project.workspace,
        user=user,
        started_at=start,
        ended_at=start + dt.timedelta(minutes=minutes),
        is_billable=billable,
    )


def invoice(
    client: Client, user: User, amount: str, issue_date: dt.date, *, tax_rate: str = "0"
) -> Invoice:
    """An issued invoice of one line: `amount` before tax."""
    return make_issued(
        workspace=client.workspace,
        user=user,
        client=client,
        lines=[line(quantity="1", unit_price=amount, tax_rate=tax_rate)],
        issue_date=issue_date,
    )


def credit_note(invoice: Invoice, user: User, on: dt.date) -> Invoice:
    """A credit note for the whole invoice, issued on `on` (its date is the day it is made)."""
    with time_machine.travel(dt.datetime.combine(on, dt.time(12), dt.UTC), tick=False):
        return services.credit_note_create(invoice=invoice, user=user)


def pay(invoice: Invoice, user: User, amount: str, on: dt.date) -> Payment:
    return services.payment_record(
        invoice=invoice, user=user, amount=Decimal(amount), date=on, method="bank_transfer"
    )

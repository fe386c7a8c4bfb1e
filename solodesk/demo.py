"""Demo data: a freelancer with clients, projects and a few weeks of tracked time.

Idempotent: the demo user is the marker; when it exists nothing is created again.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from solodesk.accounts.models import User
from solodesk.accounts.selectors import membership_get_current
from solodesk.accounts.services import user_create
from solodesk.clients.models import Client
from solodesk.clients.services import client_create
from solodesk.core.exceptions import ApplicationError
from solodesk.dashboard.demo import demo_dashboard
from solodesk.invoicing.models import Invoice, Payment
from solodesk.invoicing.services import (
    credit_note_create,
    invoice_create_draft,
    invoice_create_from_time,
    invoice_issue,
    payment_record,
)
from solodesk.projects.models import Project
from solodesk.projects.services import project_create
from solodesk.prompts.demo import demo_prompts
from solodesk.quotes.services import quote_accept, quote_create_draft, quote_send
from solodesk.recurring.demo import demo_recurring
from solodesk.reminders.demo import demo_reminders
from solodesk.timetracking.services import time_entry_create
from solodesk.webhooks.demo import demo_webhooks

CLIENTS = [
    ("Acme Ltd", "accounts@acme.example", "GBP", Decimal("85.00")),
    ("Blue Harbour GmbH", "buchhaltung@blueharbour.example", "EUR", Decimal("95.00")),
    ("Northwind Traders", "ap@northwind.example", "USD", Decimal("110.00")),
    ("Studio Lumen", "hello@lumen.example", "EUR", Decimal("70.00")),
]
PROJECTS = [
    (0, "Website redesign", Project.BillingMethod.HOURLY, None),
    (0, "Support retainer", Project.BillingMethod.HOURLY, Decimal("75.00")),
    (1, "Data pipeline", Project.BillingMethod.HOURLY, None),
    (1, "Security audit", Project.BillingMethod.FIXED, None),
    (2, "Mobile app", Project.BillingMethod.HOURLY, Decimal("120.00")),
    (3, "Brand workshop", Project.BillingMethod.FIXED, None),
    (3, "Internal admin", Project.BillingMethod.NON_BILLABLE, None),
]
TASKS = [
    "Planning call",
    "Implementation",
    "Code review",
    "Bug fixing",
    "Design iteration",
    "Client meeting",
    "Documentation",
    "Deployment",
]
TAGS = ["meeting", "development", "design", "admin", "review"]


@transaction.atomic
def demo_load(*, email: str, password: str, weeks: int = 6, seed: int = 7) -> bool:
    if User.objects.filter(email=email).exists():
        return False
    rng = random.Random(seed)
    user = user_create(
        email=email,
        password=password,
        business_name="Demo Freelance Studio",
        address="12 Canal Street\n1012 Amsterdam\nNetherlands",
        tax_id="NL123456789B01",
        default_currency="EUR",
        time_zone="Europe/Amsterdam",
        payment_details="IBAN NL91 ABNA 0417 1643 00 · BIC ABNANL2A",
    )
    membership = membership_get_current(user=user)
    assert membership is not None
    workspace = membership.workspace
    clients = [
        client_create(
            workspace=workspace,
            name=name,
            email=client_email,
            currency=currency,
            default_hourly_rate=rate,
            payment_terms_days=30,
            address="",
        )
        for name, client_email, currency, rate in CLIENTS
    ]
    projects = [
        project_create(
            workspace=workspace,
            client=clients[client_index],
            name=name,
            billing_method=method,
            hourly_rate=rate,
            fixed_fee=Decimal("4500.00") if method == Project.BillingMethod.FIXED else None,
            budget_hours=Decimal("120") if method == Project.BillingMethod.HOURLY else None,
        )
        for client_index, name, method, rate in PROJECTS
    ]
    today = timezone.now().astimezone(workspace.tzinfo).date()
    for day_offset in range(weeks * 7, 0, -1):
        day = today - dt.timedelta(days=day_offset)
        if day.weekday() >= 5:
            continue
        start = dt.datetime.combine(day, dt.time(9, 0), workspace.tzinfo)
        for _ in range(rng.randint(2, 4)):
            minutes = rng.choice([30, 45, 60, 90, 120, 150])
            end = start + dt.timedelta(minutes=minutes)
            time_entry_create(
                workspace=workspace,
                user=user,
                project=rng.choice(projects),
                started_at=start,
                ended_at=end,
                description=rng.choice(TASKS),
                tags=rng.sample(TAGS, rng.randint(0, 2)),
            )
            start = end + dt.timedelta(minutes=rng.choice([0, 15, 30, 60]))
    demo_dashboard(workspace=workspace, user=user, today=today, recent_days=weeks * 7)
    _demo_invoices(user=user, workspace=workspace, clients=clients, today=today)
    demo_reminders(workspace=workspace, user=user)
    demo_prompts(workspace=workspace, user=user, today=today)
    demo_recurring(workspace=workspace, user=user, client=clients[0], today=today)
    demo_webhooks(workspace=workspace, user=user)
    return True


def _from_time(user, workspace, client: Client, first: dt.date, last: dt.date) -> Invoice | None:
    try:
        return invoice_create_from_time(
            workspace=workspace, user=user, client=client, date_from=first, date_to=last
        )
    except ApplicationError:
        return None  # no unbilled time for that client in that period (random demo data)


def _demo_invoices(*, user, workspace, clients: list[Client], today: dt.date) -> None:
    """A living business: one invoice overdue, one paid, one partially paid, one with a
    credit note, a draft, and recent time still unbilled. Issued in date order so that the
    numbers follow the dates."""
    acme, harbour, northwind, lumen = clients
    day = dt.timedelta(days=1)
    overdue = _from_time(user, workspace, northwind, today - 42 * day, today - 36 * day)
    if overdue:
        invoice_issue(invoice=overdue, user=user, issue_date=today - 35 * day)
    paid = _from_time(user, workspace, acme, today - 42 * day, today - 29 * day)
    if paid:
        invoice_issue(invoice=paid, user=user, issue_date=today - 28 * day)
        payment_record(
            invoice=paid,
            user=user,
            amount=paid.total,
            date=today - 10 * day,
            method=Payment.Method.BANK_TRANSFER,
            reference="ACME-REMIT-2231",
        )
    partial = _from_time(user, workspace, harbour, today - 42 * day, today - 22 * day)
    if partial:
        invoice_issue(invoice=partial, user=user, issue_date=today - 21 * day)
        payment_record(
            invoice=partial,
            user=user,
            amount=(partial.total / 2).quantize(Decimal("0.01")),
            date=today - 5 * day,
            method=Payment.Method.BANK_TRANSFER,
            reference="First instalment",
        )
    credited = invoice_create_draft(
        workspace=workspace,
        user=user,
        client=lumen,
        notes="Thank you for a great workshop.",
        lines=[
            {
                "description": "Brand workshop facilitation",
                "quantity": Decimal("2"),
                "unit": "days",
                "unit_price": Decimal("1200.00"),
                "tax_rate": Decimal("21"),
            },
            {
                "description": "Travel costs Amsterdam–Utrecht",
                "quantity": Decimal("1"),
                "unit": "pieces",
                "unit_price": Decimal("180.50"),
                "tax_rate": Decimal("21"),
            },
        ],
    )
    invoice_issue(invoice=credited, user=user, issue_date=today - 14 * day)
    travel = credited.lines.get(description__startswith="Travel")
    credit_note_create(
        invoice=credited,
        user=user,
        line_public_ids=[travel.public_id],
        reason="Travel was included in the workshop price.",
    )
    _from_time(user, workspace, acme, today - 28 * day, today - 8 * day)  # stays a draft
    _demo_quotes(user=user, workspace=workspace, northwind=northwind, lumen=lumen, today=today)


def _demo_quotes(*, user, workspace, northwind: Client, lumen: Client, today: dt.date) -> None:
    """One quote the client accepted, one waiting for an answer. Sending queues an e-mail to
    the demo clients' addresses (reserved .example domains: nothing is delivered)."""
    accepted = quote_create_draft(
        workspace=workspace,
        user=user,
        client=northwind,
        issue_date=today - 6 * dt.timedelta(days=1),
        notes="Phase 2 as discussed in our call.",
        lines=[
            {
                "description": "Mobile app phase 2: offline mode",
                "quantity": Decimal("60"),
                "unit": "hours",
                "unit_price": Decimal("120.00"),
                "tax_rate": Decimal("0"),
            }
        ],
    )
    quote_send(quote=accepted, user=user)
    quote_accept(token=accepted.portal_token or "", name="Nancy Davolio")
    waiting = quote_create_draft(
        workspace=workspace,
        user=user,
        client=lumen,
        lines=[
            {
                "description": "Brand guidelines booklet",
                "quantity": Decimal("3"),
                "unit": "days",
                "unit_price": Decimal("1100.00"),
                "tax_rate": Decimal("21"),
            }
        ],
    )
    quote_send(quote=waiting, user=user)

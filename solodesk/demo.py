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
from solodesk.clients.services import client_create
from solodesk.projects.models import Project
from solodesk.projects.services import project_create
from solodesk.timetracking.services import time_entry_create

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
    return True

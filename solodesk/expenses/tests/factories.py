"""The expense factory (the shared factories live in solodesk/tests/factories.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from solodesk.expenses.models import Expense
from solodesk.tests.factories import UserFactory, WorkspaceFactory


class ExpenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Expense

    workspace = factory.SubFactory(WorkspaceFactory)
    created_by = factory.SubFactory(UserFactory)
    client = None
    project = None
    date = dt.date(2026, 11, 15)
    category = Expense.Category.SOFTWARE
    description = factory.Sequence(lambda n: f"Expense {n}")
    amount = Decimal("19.90")
    currency = "EUR"
    is_billable = False

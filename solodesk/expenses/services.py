from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError
from solodesk.core.money import CURRENCIES
from solodesk.expenses.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Expense
from solodesk.projects.models import Project

EXPENSE_FIELDS = (
    "client",
    "project",
    "date",
    "category",
    "description",
    "amount",
    "currency",
    "is_billable",
)
# The largest amount the column holds: 10 digits before the point, 2 after.
MAX_AMOUNT = Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES) - Decimal("0.01")


def _amount(value: Any) -> Decimal:
    """A positive Decimal with at most two decimals. Floats are refused: 0.1 as a float is
    not 0.10, and money must never pass through one."""
    if isinstance(value, float | bool) or value is None:
        raise ApplicationError.for_field("amount", "Give the amount as a decimal number.")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ApplicationError.for_field("amount", "Give the amount as a decimal number.") from None
    if not amount.is_finite():
        raise ApplicationError.for_field("amount", "Give the amount as a decimal number.")
    if amount <= 0:
        raise ApplicationError.for_field("amount", "The amount must be more than zero.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ApplicationError.for_field("amount", "At most 2 decimals.")
    if amount > MAX_AMOUNT:
        raise ApplicationError.for_field("amount", f"At most {MAX_AMOUNT}.")
    return amount.quantize(Decimal("0.01"))


def _currency(value: Any) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in CURRENCIES:
        raise ApplicationError.for_field(
            "currency", "Give a 3-letter ISO 4217 currency code, like EUR or USD."
        )
    return code


def _check_relations(expense: Expense, workspace: Workspace) -> None:
    """Client and project belong to the workspace, and the project to the client. Another
    workspace's client or project gets the same words as one that does not exist."""
    client: Client | None = expense.client
    project: Project | None = expense.project
    if client is not None and client.workspace_id != workspace.pk:
        raise ApplicationError.for_field("client_id", "Client not found.")
    if project is None:
        return
    if project.workspace_id != workspace.pk:
        raise ApplicationError.for_field("project_id", "Project not found.")
    if client is None:
        # An expense on a project is an expense for the project's client.
        expense.client = project.client
    elif project.client_id != client.pk:
        raise ApplicationError.for_field("project_id", "This project belongs to another client.")


def _apply(expense: Expense, workspace: Workspace, fields: dict[str, Any]) -> None:
    for field, value in fields.items():
        if field not in EXPENSE_FIELDS:
            raise ApplicationError(f"Unknown expense field {field!r}")
        setattr(expense, field, value)
    if "amount" in fields:
        expense.amount = _amount(expense.amount)
    if "currency" in fields:
        expense.currency = _currency(expense.currency)
    if isinstance(expense.description, str):
        expense.description = expense.description.strip()
    if not isinstance(expense.date, dt.date):
        raise ApplicationError.for_field("date", "Give the day of the expense.")
    _check_relations(expense, workspace)
    if not expense.currency:
        expense.currency = expense.client.currency if expense.client else workspace.default_currency
    if expense.is_billable and expense.client_id is None:
        raise ApplicationError.for_field("is_billable", "A billable expense needs a client.")
    places = CURRENCIES[expense.currency][1]
    if places < AMOUNT_DECIMAL_PLACES and expense.amount != round(expense.amount, places):
        raise ApplicationError.for_field("amount", f"{expense.currency} amounts have no decimals.")
    try:
        # The relations were checked above without a query each.
        expense.full_clean(exclude=["workspace", "client", "project", "created_by"])
    except ValidationError as error:
        raise ApplicationError(
            "Check the expense.",
            errors={field: list(messages) for field, messages in error.message_dict.items()},
        ) from None


def expense_create(
    *,
    workspace: Workspace,
    created_by: User,
    date: dt.date,
    amount: Decimal,
    category: str = Expense.Category.OTHER,
    description: str = "",
    currency: str | None = None,
    client: Client | None = None,
    project: Project | None = None,
    is_billable: bool = False,
) -> Expense:
    """Without a currency, the expense is in the client's (the project's client's)
    currency, else in the workspace's default currency."""
    expense = Expense(workspace=workspace, created_by=created_by)
    fields: dict[str, Any] = {
        "client": client,
        "project": project,
        "date": date,
        "amount": amount,
        "category": category,
        "description": description,
        "is_billable": is_billable,
    }
    if currency:
        fields["currency"] = currency
    _apply(expense, workspace, fields)
    expense.save()
    return expense


def expense_update(*, expense: Expense, **fields: Any) -> Expense:
    """Only the fields given change; the currency stays what it was unless given."""
    if "currency" in fields and not fields["currency"]:
        raise ApplicationError.for_field(
            "currency", "Give a 3-letter ISO 4217 currency code, like EUR or USD."
        )
    _apply(expense, expense.workspace, fields)
    expense.save()
    return expense


def expense_delete(*, expense: Expense) -> None:
    expense.delete()

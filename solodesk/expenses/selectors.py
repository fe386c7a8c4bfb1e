from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, DecimalField, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import Workspace
from solodesk.expenses.models import Expense

# Sums of many 12-digit amounts need more room than one amount (and SQLite's converter
# would refuse a total wider than the column).
_TOTAL_FIELD = DecimalField(max_digits=20, decimal_places=2)


@dataclass(frozen=True)
class ExpenseFilters:
    """Filters shared by the web list and the API. Dates are whole days, both ends
    included; a month is the range from its first to its last day."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    client_id: UUID | None = None
    project_id: UUID | None = None
    category: str = ""
    billable: bool | None = None


def month_range(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month `month` falls in."""
    last_day = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=1), month.replace(day=last_day)


def _filtered(workspace: Workspace, filters: ExpenseFilters) -> QuerySet[Expense]:
    qs = Expense.objects.filter(workspace=workspace)
    if filters.date_from:
        qs = qs.filter(date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(date__lte=filters.date_to)
    if filters.client_id:
        qs = qs.filter(client__public_id=filters.client_id)
    if filters.project_id:
        qs = qs.filter(project__public_id=filters.project_id)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.billable is not None:
        qs = qs.filter(is_billable=filters.billable)
    return qs


def _with_relations(qs: QuerySet[Expense]) -> QuerySet[Expense]:
    return qs.select_related("client", "project", "created_by")


def expense_list(
    *, workspace: Workspace, filters: ExpenseFilters | None = None
) -> QuerySet[Expense]:
    """Expenses newest first, with client, project and author joined (one query a page)."""
    qs = _filtered(workspace, filters or ExpenseFilters())
    return _with_relations(qs).order_by("-date", "-pk")


def expense_get(*, workspace: Workspace, public_id: UUID | str) -> Expense:
    """Another workspace's expense is a 404, exactly like one that does not exist."""
    expense = get_object_or_404(
        _with_relations(Expense.objects.all()), workspace=workspace, public_id=public_id
    )
    expense.workspace = workspace  # the caller's: no query when a service reads it
    return expense


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    amount: Decimal
    billable_amount: Decimal


@dataclass(frozen=True)
class ExpenseSummary:
    count: int
    totals: list[CurrencyTotal]  # one per currency, by currency code


def expense_summary(
    *, workspace: Workspace, filters: ExpenseFilters | None = None
) -> ExpenseSummary:
    """Number of expenses and the totals per currency of the filtered set, in one GROUP BY
    query: amounts in different currencies are never added together. The web list takes
    its page count from here instead of a COUNT(*)."""
    rows = (
        _filtered(workspace, filters or ExpenseFilters())
        .values("currency")
        .annotate(
            count=Count("pk"),
            total=Sum("amount", output_field=_TOTAL_FIELD),
            billable_total=Sum("amount", filter=Q(is_billable=True), output_field=_TOTAL_FIELD),
        )
        .order_by("currency")
    )
    totals = [
        CurrencyTotal(
            currency=row["currency"],
            count=row["count"],
            amount=row["total"] or Decimal("0.00"),
            billable_amount=row["billable_total"] or Decimal("0.00"),
        )
        for row in rows
    ]
    return ExpenseSummary(count=sum(total.count for total in totals), totals=totals)

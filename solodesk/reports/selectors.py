"""The yearly report of hours and revenue by client, aggregated in SQL: four queries
whatever the number of time entries, invoices or payments.

Queries:
1. the years with data: the first and last month with time (two probes of the monthly
   totals' unique index) and the first and last year with an invoice or credit note number
   (the per-year numbering counters, a handful of rows);
2. hours per client: the per-project monthly totals (`timetracking.TimeEntryMonth`, kept
   by the time tracking services with the entries, decision 0005) of the year, summed per
   client — at most 12 rows per project read, one per client returned;
3. hours per month: the workspace's monthly totals (`timetracking.TimeEntryWorkspaceMonth`,
   decision 0012, what the dashboard reads) of the year — at most 12 rows;
4. money: invoiced (issued invoices by issue date, less credit notes; void and drafts left
   out) and paid (payments by payment date), per client and currency, from the monthly
   revenue totals (`invoicing.RevenueMonth`, kept by the invoicing services, decision 0006)
   — at most 12 rows per client and currency read.

What was still outstanding at the year's end is not shown: it needs every invoice and
payment up to that day, not the year's, which doubled the cost of query 3 (decision 0005).

Queries 2 and 4 are hand-written SQL with parameters, portable between PostgreSQL and
SQLite: the ORM's GROUP BY over the client's text columns sorted 36,000 rows where
grouping the integer ids first hashes them (decision 0005 has the figures).

Hours count on the entry's local day in the workspace's time zone, the same rule as the
dashboard and the week page. Money is tax included, per currency, never converted.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.db import connection

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.core.money import quantize
from solodesk.core.rawsql import date_value, money_sum, uuid_value
from solodesk.invoicing.models import DocumentCounter, RevenueMonth
from solodesk.projects.models import Project
from solodesk.timetracking.models import TimeEntryMonth, TimeEntryWorkspaceMonth

MIN_YEAR = 1900
MAX_YEAR = 2999


@dataclass
class CurrencyAmounts:
    """Money in one currency for a year, tax included: `invoiced` is the issued invoices
    (by issue date) less the issued credit notes (by theirs), void ones and drafts left
    out; `paid` the payments dated in the year."""

    currency: str
    invoiced: Decimal = Decimal("0")
    paid: Decimal = Decimal("0")


@dataclass
class ClientYear:
    public_id: UUID
    name: str
    is_archived: bool
    seconds: int = 0
    billable_seconds: int = 0
    # Percent of the workspace's hours in the year, one decimal.
    share: Decimal = Decimal("0.0")
    amounts: list[CurrencyAmounts] = field(default_factory=list)


@dataclass(frozen=True)
class MonthHours:
    month: dt.date
    seconds: int
    billable_seconds: int


@dataclass
class YearlyReport:
    year: int
    years: list[int]
    clients: list[ClientYear]
    months: list[MonthHours]
    seconds: int
    billable_seconds: int
    totals: list[CurrencyAmounts]

    @property
    def previous_year(self) -> int | None:
        earlier = [year for year in self.years if year < self.year]
        return earlier[-1] if earlier else None

    @property
    def next_year(self) -> int | None:
        later = [year for year in self.years if year > self.year]
        return later[0] if later else None


# --- 1. years -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _years_sql() -> str:
    month = TimeEntryMonth._meta.db_table
    counter = DocumentCounter._meta.db_table
    return (
        f"SELECT MIN(month), MAX(month), NULL, NULL FROM {month}"  # noqa: S608
        f" WHERE workspace_id = %s"
        f" UNION ALL"
        f" SELECT NULL, NULL, MIN(year), MAX(year) FROM {counter}"
        f" WHERE workspace_id = %s AND series IN (%s, %s)"
    )


def report_data_years(*, workspace: Workspace) -> set[int]:
    """The first and last year with time, and with an invoice or credit note number (the
    numbering counter of a year exists once a document was issued in it). One query of
    index probes and a few counter rows, whatever the amount of data."""
    series = DocumentCounter.Series
    params: list[Any] = [workspace.pk, workspace.pk, series.INVOICE.value, series.CREDIT_NOTE.value]
    with connection.cursor() as cursor:
        cursor.execute(_years_sql(), params)
        rows = cursor.fetchall()
    found: set[int] = set()
    for first_month, last_month, first_year, last_year in rows:
        for day in (date_value(first_month), date_value(last_month)):
            if day is not None:
                found.add(day.year)
        found |= {int(year) for year in (first_year, last_year) if year is not None}
    return found


def report_years(*, data_years: set[int], today: dt.date) -> list[int]:
    """The years the picker offers: from the first to the last year with data, and always
    this year."""
    found = {today.year} | data_years
    return list(range(min(found), max(found) + 1))


# --- 2. hours -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _hours_sql() -> str:
    month = TimeEntryMonth._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    return (
        f"SELECT c.public_id, c.name, c.is_archived, t.seconds, t.billable"  # noqa: S608
        f" FROM ("
        f" SELECT p.client_id AS client_id,"
        # Integers out (PostgreSQL's SUM of a bigint is a numeric, read as a Decimal).
        f" CAST(SUM(m.seconds) AS BIGINT) AS seconds,"
        f" CAST(SUM(m.billable_seconds) AS BIGINT) AS billable"
        f" FROM {month} m INNER JOIN {project} p ON p.id = m.project_id"
        f" WHERE m.workspace_id = %s AND m.month >= %s AND m.month <= %s"
        f" GROUP BY p.client_id"
        f" ) t INNER JOIN {client} c ON c.id = t.client_id"
    )


def report_hours_by_client(*, workspace: Workspace, year: int) -> dict[UUID, ClientYear]:
    """Per client, the seconds tracked (and billable) in the year. One query over the
    per-project monthly totals (at most 12 rows per project, whatever the number of
    entries), summed per client."""
    ops = connection.ops
    params = [
        workspace.pk,
        ops.adapt_datefield_value(dt.date(year, 1, 1)),
        ops.adapt_datefield_value(dt.date(year, 12, 1)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_hours_sql(), params)
        rows = cursor.fetchall()
    clients: dict[UUID, ClientYear] = {}
    for public_id, name, is_archived, seconds, billable in rows:
        if not seconds:
            continue  # totals whose entries were all deleted or moved
        key = uuid_value(public_id)
        clients[key] = ClientYear(
            public_id=key,
            name=name,
            is_archived=bool(is_archived),
            seconds=int(seconds),
            billable_seconds=int(billable or 0),
        )
    return clients


def report_hours_by_month(*, workspace: Workspace, year: int) -> list[MonthHours]:
    """The workspace's seconds (and billable ones) per local month of the year. One query
    over the workspace's monthly totals (at most 12 rows; before decision 0012 the daily
    totals, 28,000 rows of 120 people at the `large` seed, added up here) — the same rows
    as the dashboard's hours per month."""
    seconds = [0] * 12
    billable = [0] * 12
    rows = TimeEntryWorkspaceMonth.objects.filter(
        workspace=workspace, month__gte=dt.date(year, 1, 1), month__lte=dt.date(year, 12, 1)
    ).values_list("month", "seconds", "billable_seconds")
    for month, month_seconds, month_billable in rows:
        seconds[month.month - 1] += month_seconds
        billable[month.month - 1] += month_billable
    return [
        MonthHours(
            month=dt.date(year, index + 1, 1),
            seconds=seconds[index],
            billable_seconds=billable[index],
        )
        for index in range(12)
    ]


# --- 3. money -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _money_sql() -> str:
    """The year's monthly revenue totals (`invoicing.RevenueMonth`, decision 0006) summed
    per client and currency — at most 12 rows per client and currency read — then joined
    to the client. Rows that count no document any more (a voided invoice's) are left
    out, as the raw aggregate had no group for them. Portable SQL."""
    revenue = RevenueMonth._meta.db_table
    client = Client._meta.db_table
    return (
        f"SELECT c.public_id, c.name, c.is_archived, t.currency, t.invoiced, t.paid"  # noqa: S608
        f" FROM ("
        f" SELECT client_id, currency, SUM(invoiced) AS invoiced, SUM(paid) AS paid"
        f" FROM {revenue}"
        f" WHERE workspace_id = %s AND month >= %s AND month <= %s AND documents > 0"
        f" GROUP BY client_id, currency"
        f" ) t INNER JOIN {client} c ON c.id = t.client_id"
    )


def report_money_by_client(
    *, workspace: Workspace, year: int, clients: dict[UUID, ClientYear]
) -> None:
    """Add each client's money of the year, per currency, to `clients` (adding the clients
    that had money but no time). One query over the monthly revenue totals: invoiced by
    issue date (void invoices and drafts left out, credit notes taken off), paid by
    payment date (a payment counts on its date whatever became of its invoice, like the
    dashboard's "paid" — an invoice with payments cannot be voided anyway)."""
    ops = connection.ops
    params = [
        workspace.pk,
        ops.adapt_datefield_value(dt.date(year, 1, 1)),
        ops.adapt_datefield_value(dt.date(year, 12, 1)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_money_sql(), params)
        rows = cursor.fetchall()
    for public_id, name, is_archived, currency, invoiced, paid in rows:
        amounts = CurrencyAmounts(
            currency=currency,
            invoiced=quantize(money_sum(invoiced), currency),
            paid=quantize(money_sum(paid), currency),
        )
        key = uuid_value(public_id)
        row = clients.get(key)
        if row is None:
            row = clients[key] = ClientYear(public_id=key, name=name, is_archived=bool(is_archived))
        row.amounts.append(amounts)


# --- everything -----------------------------------------------------------------------------


def _share(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def report_yearly(*, workspace: Workspace, year: int, today: dt.date) -> YearlyReport:
    """The whole report for `year`, in four queries (see the module's docstring). Clients
    by hours (most first), then by name; each client's money sorted by currency; a total
    per currency."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year out of range: {year}")
    years = report_years(data_years=report_data_years(workspace=workspace), today=today)
    clients = report_hours_by_client(workspace=workspace, year=year)
    months = report_hours_by_month(workspace=workspace, year=year)
    report_money_by_client(workspace=workspace, year=year, clients=clients)
    seconds = sum(row.seconds for row in clients.values())
    billable = sum(row.billable_seconds for row in clients.values())
    totals: dict[str, CurrencyAmounts] = {}
    for row in clients.values():
        row.share = _share(row.seconds, seconds)
        row.amounts.sort(key=lambda amounts: amounts.currency)
        for amounts in row.amounts:
            total = totals.setdefault(amounts.currency, CurrencyAmounts(amounts.currency))
            total.invoiced += amounts.invoiced
            total.paid += amounts.paid
    return YearlyReport(
        year=year,
        years=years,
        clients=sorted(clients.values(), key=lambda row: (-row.seconds, row.name.lower())),
        months=months,
        seconds=seconds,
        billable_seconds=billable,
        totals=[totals[currency] for currency in sorted(totals)],
    )

"""What the dashboard shows, aggregated in SQL: one query per family of figures, whatever the
number of time entries, invoices or payments.

Queries (after the request's session, user + running timer, membership + workspace):
1. quick starts: the user's five most recently used projects (the user's last 200 entries
   through the (user, started_at) index, grouped by project);
2. time: the workspace's monthly totals (timetracking.TimeEntryWorkspaceMonth) of the last
   12 months, and the user's own daily totals (TimeEntryDay) of this week;
3. unbilled: the projects' rows of the unbilled time totals (timetracking.UnbilledTime,
   decision 0008: raw seconds and the per-entry rounded sums at the project's rounding
   step, kept with the entries), priced per project and summed per client in SQL
   (`prompts.rules.families.unbilled_clients`: the dashboard view reads these rows once
   and hands them to the prompts' `clients` family too), per currency here;
4. receivables: `invoicing.selectors.invoice_receivables` (one GROUP BY currency);
5. revenue: invoiced (by issue month) and paid (by payment month) per currency, from the
   monthly revenue totals (invoicing.RevenueMonth, decision 0006);
6. the scheduler's heartbeat (owners only).

The heaviest aggregates (unbilled, revenue, and the prompts' families) are hand-written
SQL with parameters, portable between PostgreSQL and SQLite (month truncation is the one
dialect branch): building and compiling them with the ORM cost more CPU (~1.5–2.5 ms each)
than the database spent running them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.utils import timezone

from solodesk.accounts.models import TimeRounding, User, Workspace
from solodesk.clients.models import Client
from solodesk.core.money import CURRENCIES, quantize, whole_cents
from solodesk.core.prepared import statement_cursor
from solodesk.core.rawsql import date_value, datetime_value, money_sum, uuid_value
from solodesk.core.selectors import heartbeat_get
from solodesk.invoicing.models import Invoice, Payment, RevenueMonth
from solodesk.invoicing.selectors import invoice_receivables
from solodesk.invoicing.services import BILLED_STATUSES, RoundingRule, hours_from_seconds
from solodesk.projects.models import Project
from solodesk.prompts.rules.families import (
    UnbilledClient,
    UnbilledProject,
    unbilled_clients,
    unbilled_projects,
)
from solodesk.timetracking.models import TimeEntry, TimeEntryDay, TimeEntryWorkspaceMonth

MONTHS = 12
QUICK_STARTS = 5
# Candidates for the quick starts: the projects of the user's last this-many entries.
RECENT_ENTRIES = 200
SCHEDULER_STALE_AFTER = dt.timedelta(minutes=15)


# --- periods --------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_back(day: dt.date, count: int) -> dt.date:
    """The first day of the month `count` months before `day`'s month."""
    index = day.year * 12 + (day.month - 1) - count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_series(today: dt.date, count: int = MONTHS) -> list[dt.date]:
    """The first days of the last `count` months, oldest first, this month last."""
    return [months_back(today, offset) for offset in range(count - 1, -1, -1)]


# --- quick starts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickStart:
    """A project to start the timer on, with its client's name."""

    public_id: UUID
    name: str
    client_name: str
    last_used_at: dt.datetime


@functools.lru_cache(maxsize=4)
def _quick_starts_sql(vendor: str) -> str:
    entry = TimeEntry._meta.db_table
    project = Project._meta.db_table
    client = Client._meta.db_table
    false = "false" if vendor == "postgresql" else "0"
    return (
        f"SELECT p.public_id, p.name, c.name, r.last_used FROM ("  # noqa: S608
        f" SELECT e.project_id, MAX(e.started_at) AS last_used FROM ("
        f"  SELECT project_id, started_at FROM {entry}"
        f"  WHERE workspace_id = %s AND user_id = %s ORDER BY started_at DESC LIMIT %s"
        f" ) e GROUP BY e.project_id"
        f") r INNER JOIN {project} p ON p.id = r.project_id"
        f" INNER JOIN {client} c ON c.id = p.client_id"
        f" WHERE p.workspace_id = %s AND p.is_archived = {false} AND c.is_archived = {false}"
        f" ORDER BY r.last_used DESC, p.id LIMIT %s"
    )


def dashboard_quick_start_projects(
    *, workspace: Workspace, user: User, limit: int = QUICK_STARTS
) -> list[QuickStart]:
    """The user's most recently used projects that time can still be booked on, newest
    first, each with its client's name, in one query.

    Bounded whatever the data: only the user's last RECENT_ENTRIES entries are read (a walk
    of the (user, started_at) index), grouped by project. A project's newest entry among
    them is the user's newest entry on it overall (a newer one would be among them too),
    so no per-project lookup is needed. (Before: a correlated subquery per active project,
    245 ms at 3,000 projects and 1,000,000 entries; then one per candidate, built with the
    ORM at ~4 ms of CPU per dashboard.) A project last used before the user's last
    RECENT_ENTRIES entries is not a quick start, which is what "recent" means."""
    with statement_cursor() as cursor:
        cursor.execute(
            _quick_starts_sql(connection.vendor),
            [workspace.pk, user.pk, RECENT_ENTRIES, workspace.pk, limit],
        )
        rows = cursor.fetchall()
    return [
        QuickStart(
            public_id=uuid_value(public_id),
            name=name,
            client_name=client_name,
            last_used_at=datetime_value(last_used),
        )
        for public_id, name, client_name, last_used in rows
    ]


# --- hours ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursTotals:
    today_seconds: int
    today_billable_seconds: int
    week_seconds: int
    week_billable_seconds: int

    @property
    def today_non_billable_seconds(self) -> int:
        return self.today_seconds - self.today_billable_seconds

    @property
    def week_non_billable_seconds(self) -> int:
        return self.week_seconds - self.week_billable_seconds


@functools.lru_cache(maxsize=1)
def _hours_sql() -> str:
    month = TimeEntryWorkspaceMonth._meta.db_table
    day = TimeEntryDay._meta.db_table
    return (
        f"SELECT 0, month, seconds, billable_seconds FROM {month}"  # noqa: S608
        f" WHERE workspace_id = %s AND month >= %s AND month < %s"
        f" UNION ALL"
        f" SELECT 1, day, seconds, billable_seconds FROM {day}"
        f" WHERE workspace_id = %s AND user_id = %s AND day >= %s AND day <= %s"
    )


@dataclass(frozen=True)
class MonthHours:
    month: dt.date
    seconds: int
    billable_seconds: int


def dashboard_hours(
    *, workspace: Workspace, user: User, today: dt.date
) -> tuple[HoursTotals, list[MonthHours]]:
    """The user's hours today and this week (Monday to today), billable or not, and the
    workspace's hours per month over the last 12 months, in the workspace's time zone (an
    entry counts on the local day it started).

    One query over the totals the time tracking services keep in the same transaction as
    the entries: the workspace's monthly ones (`timetracking.TimeEntryWorkspaceMonth`,
    decision 0012) — 12 rows — and the user's own daily ones (`TimeEntryDay`, decision
    0004) of this week — at most 7 rows — whatever the number of entries, projects or
    people. (Aggregating the ~25,000 entries of a busy year took 6–9 ms on PostgreSQL;
    reading every person's daily rows of the year, 30,000 rows with 120 people, was worse;
    summing the per-project monthly rows, 10,500 at the `large` seed, ~3 ms.)"""
    months = month_series(today)
    week_start = today - dt.timedelta(days=today.weekday())
    index_of = {month: index for index, month in enumerate(months)}
    seconds = [0] * MONTHS
    billable = [0] * MONTHS
    totals = [0, 0, 0, 0]  # today, today billable, week, week billable
    adapt = connection.ops.adapt_datefield_value
    with statement_cursor() as cursor:
        cursor.execute(
            _hours_sql(),
            [
                workspace.pk,
                adapt(months[0]),
                adapt(months_back(today, -1)),
                workspace.pk,
                user.pk,
                adapt(week_start),
                adapt(today),
            ],
        )
        rows = cursor.fetchall()
    for kind, when, row_seconds, row_billable in rows:
        day = date_value(when)
        assert day is not None  # GROUP BY month / a day's row: never null
        row_seconds, row_billable = int(row_seconds), int(row_billable)
        if kind == 0:  # a month of the workspace
            index = index_of[day]
            seconds[index] += row_seconds
            billable[index] += row_billable
            continue
        totals[2] += row_seconds  # a day of the user's week
        totals[3] += row_billable
        if day == today:
            totals[0] += row_seconds
            totals[1] += row_billable
    hours = HoursTotals(
        today_seconds=totals[0],
        today_billable_seconds=totals[1],
        week_seconds=totals[2],
        week_billable_seconds=totals[3],
    )
    return hours, [
        MonthHours(month=month, seconds=seconds[index], billable_seconds=billable[index])
        for index, month in enumerate(months)
    ]


# --- unbilled time --------------------------------------------------------------------------


@dataclass
class UnbilledAmount:
    """Unbilled billable time in one currency (the client's).

    `amount` is what "invoice from time" would bill for the hourly projects, grouped by
    project (its default): per project, the hours after the project's rounding rule
    (quantized to 0.001 h) × the effective rate, rounded half-up to the currency; summed.
    Time that has no price yet is counted in `unpriced_seconds`, not in the amount: entries
    on fixed-fee projects (the fee is billed as a whole or in parts, and part of it may
    already be invoiced, so the time says nothing about what is left) and entries on hourly
    projects with no rate on the project or its client."""

    currency: str
    amount: Decimal = Decimal("0")
    entry_count: int = 0
    seconds: int = 0
    unpriced_seconds: int = 0
    fixed_fee_seconds: int = 0


def _amount_in_minor_units(billed_seconds: int, rate_cents: int, places: int) -> int:
    """quantize(hours_from_seconds(billed_seconds) × rate, currency) in the currency's minor
    unit (`places` decimals), in integers: the hours half-up to 0.001 h (in thousandths),
    times the rate in cents (an amount in 1e-5), half-up to the minor unit. The same
    number as the Decimal arithmetic, at a third of its CPU (~800 projects at `large`)."""
    thousandths = (2000 * billed_seconds + 3600) // 7200
    divisor = 10 ** (5 - places)
    return (2 * thousandths * rate_cents + divisor) // (2 * divisor)


def dashboard_unbilled(
    *, workspace: Workspace, projects: list[UnbilledProject] | None = None
) -> list[UnbilledAmount]:
    """Unbilled billable time per currency, from one GROUP BY project query
    (`prompts.rules.families.unbilled_projects`; pass its rows as `projects` when they were
    read already: the dashboard shares them with the prompts' `clients` family)."""
    if projects is None:
        projects = unbilled_projects(workspace=workspace)
    # Per row only what differs between rows (808 projects at `large`): no UnbilledAmount
    # built as a setdefault default, no RoundingRule but for a per-line scope, no Decimal
    # but for a rate that is not a whole number of cents (summed in `minor` instead).
    fixed = Project.BillingMethod.FIXED
    no_rounding, per_line, up = TimeRounding.NONE, TimeRounding.PER_LINE, TimeRounding.UP
    default_mode = workspace.time_rounding_mode
    default_scope = workspace.time_rounding_scope
    by_currency: dict[str, UnbilledAmount] = {}
    minor: dict[str, list[int]] = {}  # currency → [amount in minor units, decimals]
    cents_of: dict[Decimal, int | None] = {}  # a few distinct rates
    for unbilled in projects:
        currency = unbilled.client_currency
        row = by_currency.get(currency)
        if row is None:
            row = by_currency[currency] = UnbilledAmount(currency=currency)
            minor[currency] = [0, CURRENCIES.get(currency, ("", 2))[1]]
        raw = unbilled.seconds
        row.entry_count += unbilled.entries
        row.seconds += raw
        if unbilled.billing_method == fixed:
            row.unpriced_seconds += raw
            row.fixed_fee_seconds += raw
            continue
        # Project.effective_hourly_rate and invoicing's rounding_rule_for, on the row (no
        # model instances: building two per project cost more than the rest of the loop).
        rate = unbilled.hourly_rate if unbilled.hourly_rate is not None else unbilled.client_rate
        if rate is None:
            row.unpriced_seconds += raw
            continue
        mode = unbilled.time_rounding_mode or default_mode
        scope = unbilled.time_rounding_scope or default_scope
        if mode == no_rounding:
            billed = raw
        elif scope == per_line:
            minutes = unbilled.time_rounding_minutes or workspace.time_rounding_minutes
            billed = RoundingRule(mode=mode, minutes=minutes, scope=scope).apply(raw)
        elif mode == up:
            billed = unbilled.up_seconds
        else:
            billed = unbilled.nearest_seconds
        if rate in cents_of:
            cents = cents_of[rate]
        else:
            cents = cents_of[rate] = whole_cents(rate)
        if cents is None or cents < 0:  # never stored (a constraint): the Decimal way
            row.amount += quantize(hours_from_seconds(billed) * rate, currency)
        else:
            total = minor[currency]
            total[0] += _amount_in_minor_units(billed, cents, total[1])
    return [
        UnbilledAmount(
            currency=row.currency,
            amount=quantize(
                row.amount + Decimal(minor[currency][0]).scaleb(-minor[currency][1]),
                currency,
            ),
            entry_count=row.entry_count,
            seconds=row.seconds,
            unpriced_seconds=row.unpriced_seconds,
            fixed_fee_seconds=row.fixed_fee_seconds,
        )
        for currency, row in sorted(by_currency.items())
    ]


def unbilled_by_currency(clients: list[UnbilledClient]) -> list[UnbilledAmount]:
    """The dashboard's unbilled time per currency from `unbilled_clients`' rows, priced per
    project in SQL as `dashboard_unbilled` prices them (a client bills in one currency)."""
    by_currency: dict[str, list[int]] = {}  # entries, seconds, unpriced, fixed fee, minor
    for client in clients:
        row = by_currency.get(client.currency)
        if row is None:
            row = by_currency[client.currency] = [0, 0, 0, 0, 0]
        row[0] += client.entries
        row[1] += client.seconds
        row[2] += client.fixed_fee_seconds + client.no_rate_seconds
        row[3] += client.fixed_fee_seconds
        row[4] += client.amount_minor
    return [
        UnbilledAmount(
            currency=currency,
            amount=quantize(Decimal(minor).scaleb(-CURRENCIES.get(currency, ("", 2))[1]), currency),
            entry_count=entries,
            seconds=seconds,
            unpriced_seconds=unpriced,
            fixed_fee_seconds=fixed_fee,
        )
        for currency, (entries, seconds, unpriced, fixed_fee, minor) in sorted(by_currency.items())
    ]


# --- revenue --------------------------------------------------------------------------------


@dataclass
class MonthMoney:
    month: dt.date
    invoiced: Decimal = Decimal("0")
    paid: Decimal = Decimal("0")


@dataclass
class Revenue:
    """Per currency: net invoiced (issued invoices by issue date, less issued credit notes by
    theirs; void ones not counted) and paid (payments by payment date), tax included, this
    month, this year and per month over the last 12 months."""

    currency: str
    months: list[MonthMoney] = field(default_factory=list)
    invoiced_this_month: Decimal = Decimal("0")
    paid_this_month: Decimal = Decimal("0")
    invoiced_this_year: Decimal = Decimal("0")
    paid_this_year: Decimal = Decimal("0")


@functools.lru_cache(maxsize=4)
def _revenue_sql(vendor: str) -> str:
    """Invoiced and paid per (currency, month) from the monthly revenue totals
    (`invoicing.RevenueMonth`, kept by the invoicing services, decision 0006): at most one
    row per client, currency and month, whatever the number of invoices and payments.
    This month's rows count the whole month, so the documents and payments dated after
    today are taken off again (two small index range scans: `invoice_list_idx`,
    `payment_date_idx`), and a (currency, month) counting no document is left out: the
    figures are exactly those of the raw aggregate up to today."""
    revenue = RevenueMonth._meta.db_table
    invoice = Invoice._meta.db_table
    payment = Payment._meta.db_table
    this_month = "%s::date" if vendor == "postgresql" else "%s"
    return (
        f"SELECT t.currency, t.month, SUM(t.invoiced), SUM(t.paid) FROM ("  # noqa: S608
        f" SELECT currency, month, invoiced, paid, documents FROM {revenue}"
        f" WHERE workspace_id = %s AND month >= %s AND month <= %s"
        f" UNION ALL"
        f" SELECT i.currency, {this_month},"
        f" -SUM(CASE WHEN i.kind = %s THEN -i.total ELSE i.total END), 0, -COUNT(*)"
        f" FROM {invoice} i"
        f" WHERE i.workspace_id = %s AND i.kind IN (%s, %s) AND i.status IN (%s, %s, %s)"
        f" AND i.issue_date > %s AND i.issue_date < %s"
        f" GROUP BY i.currency"
        f" UNION ALL"
        f" SELECT i.currency, {this_month}, 0, -SUM(p.amount), -COUNT(*)"
        f" FROM {payment} p INNER JOIN {invoice} i ON i.id = p.invoice_id"
        f" WHERE p.date > %s AND p.date < %s AND i.workspace_id = %s"
        f" GROUP BY i.currency"
        f" ) t GROUP BY t.currency, t.month HAVING SUM(t.documents) > 0"
    )


def dashboard_revenue(*, workspace: Workspace, today: dt.date) -> list[Revenue]:
    """One query: invoiced and paid per (currency, month) of the 12-month window (which
    always includes 1 January of this year) up to today, from the monthly revenue totals
    less what is dated after today this month."""
    first_month = months_back(today, MONTHS - 1)
    ops = connection.ops
    current_month = ops.adapt_datefield_value(month_start(today))
    after = ops.adapt_datefield_value(today)
    next_month = ops.adapt_datefield_value(months_back(today, -1))
    params = [
        workspace.pk,
        ops.adapt_datefield_value(first_month),
        current_month,
        current_month,
        Invoice.Kind.CREDIT_NOTE.value,
        workspace.pk,
        Invoice.Kind.INVOICE.value,
        Invoice.Kind.CREDIT_NOTE.value,
        *(status.value for status in BILLED_STATUSES),
        after,
        next_month,
        current_month,
        after,
        next_month,
        workspace.pk,
    ]
    with statement_cursor() as cursor:
        cursor.execute(_revenue_sql(connection.vendor), params)
        rows = cursor.fetchall()
    months = month_series(today)
    this_month = month_start(today)
    found: dict[str, dict[dt.date, MonthMoney]] = defaultdict(dict)
    for currency, month, invoiced, paid in rows:
        if isinstance(month, dt.datetime):
            month = month.date()
        elif isinstance(month, str):
            month = dt.date.fromisoformat(month)
        found[currency][month] = MonthMoney(
            month=month,
            invoiced=quantize(money_sum(invoiced), currency),
            paid=quantize(money_sum(paid), currency),
        )
    result = []
    for currency in sorted(found):
        points = [found[currency].get(month) or MonthMoney(month=month) for month in months]
        revenue = Revenue(currency=currency, months=points)
        for point in points:
            if point.month.year == today.year:
                revenue.invoiced_this_year += point.invoiced
                revenue.paid_this_year += point.paid
            if point.month == this_month:
                revenue.invoiced_this_month += point.invoiced
                revenue.paid_this_month += point.paid
        result.append(revenue)
    return result


# --- scheduler health -----------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerHealth:
    last_seen_at: dt.datetime | None
    is_stale: bool


def dashboard_scheduler_health(*, now: dt.datetime) -> SchedulerHealth:
    """Whether Celery beat has reported in (core.tasks.scheduler_heartbeat_task, every 60 s)
    within the last 15 minutes. One query."""
    seen = heartbeat_get(name="scheduler")
    return SchedulerHealth(
        last_seen_at=seen, is_stale=seen is None or now - seen > SCHEDULER_STALE_AFTER
    )


# --- everything -----------------------------------------------------------------------------


@dataclass
class DashboardSummary:
    today: dt.date
    quick_starts: list[QuickStart]
    hours: HoursTotals
    hours_by_month: list[MonthHours]
    unbilled: list[UnbilledAmount]
    receivables: list[dict[str, Any]]
    revenue: list[Revenue]


def dashboard_summary(
    *,
    workspace: Workspace,
    user: User,
    now: dt.datetime | None = None,
    unbilled: list[UnbilledClient] | None = None,
) -> DashboardSummary:
    """Everything on the dashboard but the prompts and the scheduler's health, in 5 queries
    whatever the amount of data (see the module's docstring)."""
    now = now or timezone.now()
    today = timezone.localdate(now, timezone=workspace.tzinfo)
    hours, hours_by_month = dashboard_hours(workspace=workspace, user=user, today=today)
    return DashboardSummary(
        today=today,
        quick_starts=dashboard_quick_start_projects(workspace=workspace, user=user),
        hours=hours,
        hours_by_month=hours_by_month,
        unbilled=unbilled_by_currency(
            unbilled if unbilled is not None else unbilled_clients(workspace=workspace)
        ),
        receivables=invoice_receivables(workspace=workspace),
        revenue=dashboard_revenue(workspace=workspace, today=today),
    )

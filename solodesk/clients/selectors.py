from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Case, Count, Q, QuerySet, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.core.money import quantize
from solodesk.core.rawsql import datetime_value, money_sum
from solodesk.dashboard.selectors import UnbilledAmount, unbilled_by_currency
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.selectors import OPEN_STATUSES
from solodesk.projects.models import Project
from solodesk.projects.selectors import hours_tenths, local_date, unpriced_hours
from solodesk.prompts.rules.families import unbilled_clients
from solodesk.timetracking.models import TimeEntry, TimeEntryMonth


def client_list(
    *, workspace: Workspace, include_archived: bool = False, search: str = ""
) -> QuerySet[Client]:
    """Clients with their number of active projects, in one query."""
    qs = Client.objects.filter(workspace=workspace).annotate(
        active_project_count=Count("projects", filter=Q(projects__is_archived=False))
    )
    if not include_archived:
        qs = qs.filter(is_archived=False)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return qs.order_by("name", "pk")


def client_get(*, workspace: Workspace, public_id: UUID | str) -> Client:
    """Another workspace's client is a 404, exactly like one that does not exist."""
    return get_object_or_404(Client, workspace=workspace, public_id=public_id)


def client_choices_including(
    *, workspace: Workspace, public_id: UUID | str | None = None
) -> QuerySet[Client]:
    """The active clients, plus one that may be archived (the client a project already has,
    or the one a list is filtered by), so a form or a filter can still show it."""
    condition = Q(is_archived=False)
    order: list[Any] = ["name", "pk"]
    if public_id:
        condition |= Q(public_id=public_id)
        # First, so that a bounded menu (core.choices) always shows the current value.
        order.insert(0, Case(When(public_id=public_id, then=0), default=1))
    return Client.objects.filter(condition, workspace=workspace).order_by(*order)


# --- the list's figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Receivable:
    currency: str
    outstanding: Decimal


@dataclass(frozen=True)
class ClientFigures:
    """What a row of the client list shows besides the client's own fields."""

    year_seconds: int
    unbilled: UnbilledAmount | None
    receivables: list[Receivable]
    last_tracked_on: dt.date | None

    @property
    def unpriced_hours(self) -> Decimal | None:
        return unpriced_hours(self.unbilled)

    @property
    def year_hours(self) -> Decimal:
        return hours_tenths(self.year_seconds)


@functools.lru_cache(maxsize=128)
def _client_figures_sql(count: int) -> str:
    """Three figures per client of the page, in ONE query (a UNION ALL, written by hand:
    the ORM spent ~20 ms of CPU per page building and compiling three queries):

    1. the start of their latest entry: per project one backward probe of
       entry_project_start_idx (project, started_at), the latest per client — the last
       day time was tracked for the client (invoices and payments are not counted:
       without an index on the invoice's client and date, finding each client's latest
       read all its invoices — 72–81 ms for a page at the `large` seed);
    2. the seconds tracked this year: the year's monthly totals (decision 0005) of their
       projects, read from entry_month_totals_idx (workspace, month), grouped by client;
    3. what they owe per currency: the open invoices' total − paid − credited, as
       `invoicing.selectors.invoice_receivables` defines it.

    The first branch types the columns the others leave NULL (PostgreSQL types a UNION's
    columns pairwise, and a column NULL in the first two branches would be text)."""
    entry = TimeEntry._meta.db_table
    project = Project._meta.db_table
    month = TimeEntryMonth._meta.db_table
    invoice = Invoice._meta.db_table
    clients = ", ".join(["%s"] * count)
    return (
        f"SELECT 0, t.client_id, CAST(NULL AS VARCHAR(3)), CAST(NULL AS BIGINT),"  # noqa: S608
        f" MAX(t.last), CAST(NULL AS NUMERIC) FROM ("
        f" SELECT p.client_id AS client_id, (SELECT e.started_at FROM {entry} e"
        f" WHERE e.project_id = p.id ORDER BY e.started_at DESC LIMIT 1) AS last"
        f" FROM {project} p WHERE p.workspace_id = %s AND p.client_id IN ({clients})) t"
        f" GROUP BY t.client_id"
        f" UNION ALL"
        f" SELECT 1, p.client_id, NULL, SUM(m.seconds), NULL, NULL"
        f" FROM {month} m INNER JOIN {project} p ON p.id = m.project_id"
        f" WHERE m.workspace_id = %s AND m.month >= %s AND m.month < %s"
        f" AND p.client_id IN ({clients}) GROUP BY p.client_id"
        f" UNION ALL"
        f" SELECT 2, client_id, currency, NULL, NULL,"
        f" SUM(total - amount_paid - amount_credited) FROM {invoice}"
        f" WHERE workspace_id = %s AND kind = %s AND status IN (%s, %s)"
        f" AND client_id IN ({clients}) GROUP BY client_id, currency"
    )


def client_list_figures(*, workspace: Workspace, clients: Iterable[Client]) -> list[Client]:
    """Sets `figures` (ClientFigures) on each client of a list page, in TWO queries
    whatever the page or the data, both written by hand:

    1. their latest entry's start, the hours tracked this year (the workspace's local
       year) and what they owe per currency (`_client_figures_sql`, one UNION ALL);
    2. their unbilled time, priced per project and summed per client as the dashboard's
       (`prompts.rules.families.unbilled_clients`, restricted to these clients; a client
       bills in one currency)."""
    clients = list(clients)
    if not clients:
        return clients
    ids = sorted(client.pk for client in clients)
    today = timezone.localdate(timezone=workspace.tzinfo)
    year_start = connection.ops.adapt_datefield_value(dt.date(today.year, 1, 1))
    next_year = connection.ops.adapt_datefield_value(dt.date(today.year + 1, 1, 1))
    last_entry: dict[int, dt.datetime] = {}
    year_seconds: dict[int, int] = {}
    receivables: dict[int, list[Receivable]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            _client_figures_sql(len(ids)),
            [
                workspace.pk,
                *ids,
                workspace.pk,
                year_start,
                next_year,
                *ids,
                workspace.pk,
                Invoice.Kind.INVOICE.value,
                *(status.value for status in OPEN_STATUSES),
                *ids,
            ],
        )
        rows = cursor.fetchall()
    # Receivables in the order invoice_receivables lists them: by currency.
    for kind, client_id, currency, seconds, last, outstanding in sorted(
        rows, key=lambda row: (row[0], row[1], row[2] or "")
    ):
        if kind == 0:
            if last is not None:
                last_entry[client_id] = datetime_value(last)
        elif kind == 1:
            year_seconds[client_id] = int(seconds or 0)
        else:
            receivables[client_id].append(
                Receivable(
                    currency=currency, outstanding=quantize(money_sum(outstanding), currency)
                )
            )

    unbilled: dict[int, UnbilledAmount] = {
        row.client_id: unbilled_by_currency([row])[0]
        for row in unbilled_clients(workspace=workspace, client_ids=ids)
    }

    for client in clients:
        client.figures = ClientFigures(  # type: ignore[attr-defined]
            year_seconds=year_seconds.get(client.pk) or 0,
            unbilled=unbilled.get(client.pk),
            receivables=receivables.get(client.pk, []),
            last_tracked_on=local_date(last_entry.get(client.pk), workspace),
        )
    return clients

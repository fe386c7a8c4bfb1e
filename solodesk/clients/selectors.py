from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.core.money import quantize
from solodesk.dashboard.selectors import UnbilledAmount
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.selectors import MONEY, OPEN_STATUSES
from solodesk.projects.models import Project
from solodesk.projects.selectors import (
    last_entry_of_project,
    local_date,
    project_unbilled_price,
    project_unbilled_sums,
)
from solodesk.timetracking.models import TimeEntryMonth


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
        """Unbilled time with no price yet (fixed-fee projects, hourly ones without a
        rate), in hours; None when there is none."""
        if self.unbilled is None or not self.unbilled.unpriced_seconds:
            return None
        return _hours(self.unbilled.unpriced_seconds)

    @property
    def year_hours(self) -> Decimal:
        return _hours(self.year_seconds)


def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def client_list_figures(*, workspace: Workspace, clients: Iterable[Client]) -> list[Client]:
    """Sets `figures` (ClientFigures) on each client of a list page, in FOUR queries
    whatever the page or the data:

    1. the hours tracked this year (the workspace's local year) per client: the year's
       monthly totals (decision 0005) of their projects, grouped by client;
    2. the start of their latest entry: per project one backward probe of
       entry_project_start_idx, the latest per client — the last day time was tracked
       for the client (invoices and payments are not counted: without an index on the
       invoice's client and date, finding each client's latest read all its invoices —
       72–81 ms for a page at the `large` seed);
    3. their projects' unbilled time (`projects.selectors.project_unbilled_sums`),
       priced per project as the dashboard prices it (`project_unbilled_price`), added
       up per client (a client bills in one currency);
    4. what they owe: the open invoices' total − paid − credited, as
       `invoicing.selectors.invoice_receivables` defines it, grouped by client and
       currency."""
    clients = list(clients)
    if not clients:
        return clients
    ids = [client.pk for client in clients]
    today = timezone.localdate(timezone=workspace.tzinfo)
    year_seconds: dict[int, int] = dict(
        TimeEntryMonth.objects.filter(
            workspace=workspace,
            month__gte=dt.date(today.year, 1, 1),
            month__lt=dt.date(today.year + 1, 1, 1),
            project__client_id__in=ids,
        )
        .values("project__client_id")
        .annotate(total=Sum("seconds"))
        .order_by()
        .values_list("project__client_id", "total")
    )

    last_entry: dict[int, dt.datetime | None] = dict(
        Client.objects.filter(pk__in=ids)
        .annotate(
            last_entry_at=Subquery(
                Project.objects.filter(client=OuterRef("pk"))
                .annotate(last=last_entry_of_project())
                .order_by(F("last").desc(nulls_last=True))
                .values("last")[:1]
            )
        )
        .order_by()
        .values_list("pk", "last_entry_at")
    )

    unbilled: dict[int, UnbilledAmount] = {}
    by_id = {client.pk: client for client in clients}
    for sums in project_unbilled_sums(
        workspace=workspace,
        projects=Project.objects.filter(workspace=workspace, client_id__in=ids),
    ).values():
        amount = project_unbilled_price(
            workspace=workspace, client=by_id[sums.client_id], sums=sums
        )
        unbilled[sums.client_id] = _added(unbilled.get(sums.client_id), amount)

    receivables: dict[int, list[Receivable]] = defaultdict(list)
    balance = F("total") - F("amount_paid") - F("amount_credited")
    for client_id, currency, outstanding in (
        Invoice.objects.filter(
            workspace=workspace,
            kind=Invoice.Kind.INVOICE,
            status__in=OPEN_STATUSES,
            client_id__in=ids,
        )
        .values("client_id", "currency")
        .annotate(outstanding=Sum(balance, output_field=MONEY))
        .order_by("client_id", "currency")
        .values_list("client_id", "currency", "outstanding")
    ):
        receivables[client_id].append(
            Receivable(currency=currency, outstanding=quantize(Decimal(outstanding), currency))
        )

    for client in clients:
        client.figures = ClientFigures(  # type: ignore[attr-defined]
            year_seconds=year_seconds.get(client.pk) or 0,
            unbilled=unbilled.get(client.pk),
            receivables=receivables.get(client.pk, []),
            last_tracked_on=local_date(last_entry.get(client.pk), workspace),
        )
    return clients


def _added(total: UnbilledAmount | None, amount: UnbilledAmount) -> UnbilledAmount:
    """Two projects' unbilled amounts in the same currency (the client's), summed as
    `dashboard_unbilled` sums its projects (each already rounded to the currency)."""
    if total is None:
        return amount
    return UnbilledAmount(
        currency=total.currency,
        amount=total.amount + amount.amount,
        entry_count=total.entry_count + amount.entry_count,
        seconds=total.seconds + amount.seconds,
        unpriced_seconds=total.unpriced_seconds + amount.unpriced_seconds,
        fixed_fee_seconds=total.fixed_fee_seconds + amount.fixed_fee_seconds,
    )

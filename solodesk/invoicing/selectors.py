"""Reads of invoices, payments, receivables and unbilled time. Every function takes the
workspace and owns its joins and prefetches, so callers cannot cause an N+1."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from django.db import connection, router
from django.db.models import Count, DecimalField, F, Min, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.clients.models import Client
from solodesk.core.money import quantize
from solodesk.core.prepared import (
    SLICE_LIMIT_SENTINEL,
    PreparedRows,
    row_sentinels,
    statement_cursor,
)
from solodesk.core.rawsql import money_sum
from solodesk.invoicing.models import (
    Invoice,
    InvoiceActivity,
    InvoiceDelivery,
    InvoiceLine,
    Payment,
    invoice_amount_due,
    invoice_is_overdue,
)
from solodesk.projects.models import Project

OVERDUE = "overdue"
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
MONEY = DecimalField(max_digits=14, decimal_places=2)
T = TypeVar("T")


def _today(workspace: Workspace) -> dt.date:
    return timezone.localdate(timezone=workspace.tzinfo)


def _settled() -> Any:
    """What is no longer owed on an invoice: payments and credit notes."""
    return F("amount_paid") + F("amount_credited")


def _overdue_q(today: dt.date) -> Q:
    return Q(status__in=OPEN_STATUSES, due_date__lt=today, total__gt=_settled())


def invoice_list(
    *,
    workspace: Workspace,
    kind: str | None = Invoice.Kind.INVOICE,
    status: str | None = None,
    client_public_id: UUID | str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Invoice]:
    """Newest first: drafts (no issue date) on top, then by issue date, then by creation.
    `status="overdue"` is derived: open, due date passed, money still due. kind=None lists
    invoices and credit notes together. Dates filter the issue date, both ends included."""
    qs = Invoice.objects.filter(workspace=workspace).select_related("client")
    if kind:
        qs = qs.filter(kind=kind)
    if status == OVERDUE:
        qs = qs.filter(_overdue_q(_today(workspace)))
    elif status:
        qs = qs.filter(status=status)
    if client_public_id:
        qs = qs.filter(client__public_id=client_public_id)
    if date_from:
        qs = qs.filter(issue_date__gte=date_from)
    if date_to:
        qs = qs.filter(issue_date__lte=date_to)
    return qs.order_by(F("issue_date").desc(nulls_first=True), "-created_at", "-pk")


class InvoiceListRow(NamedTuple):
    """What the invoice list page shows of one invoice, as a tuple rather than an `Invoice`
    with its `Client`: building 50 pairs of model instances with deferred fields cost ~1.6 ms
    of CPU per page, these rows ~0.1 ms. `amount_due` and `is_overdue` are the model's."""

    public_id: UUID
    kind: str
    status: str
    number: str | None
    currency: str
    issue_date: dt.date | None
    due_date: dt.date | None
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    client_name: str

    @property
    def amount_due(self) -> Decimal:
        """`Invoice.amount_due`."""
        return invoice_amount_due(self.status, self.total, self.amount_paid, self.amount_credited)

    @property
    def is_overdue(self) -> bool:
        """`Invoice.is_overdue`."""
        return invoice_is_overdue(self.status, self.due_date, self.amount_due)


# The columns of InvoiceListRow, in its order (`values_list`).
LIST_ROW_COLUMNS = (
    *("public_id", "kind", "status", "number", "currency", "issue_date", "due_date"),
    *("total", "amount_paid", "amount_credited", "client__name"),
)


def invoice_list_rows(*, workspace: Workspace, **filters: Any) -> QuerySet[Any]:
    """invoice_list's rows as tuples of the columns the list page shows (`LIST_ROW_COLUMNS`,
    in its order and filtered as invoice_list): make each an `InvoiceListRow` with
    `InvoiceListRow._make`."""
    return invoice_list(workspace=workspace, **filters).values_list(*LIST_ROW_COLUMNS)


def _with_count_column(first: PreparedRows, count: PreparedRows) -> PreparedRows:
    """`first` with `count`'s query as its last column, its LIMIT a value named
    `count_limit`. The rows keep `first`'s ORDER BY (at the top level; the count is the
    last column, so an `ORDER BY 6` the ORM writes still means `issue_date`); the selected
    columns of `first` have no parameters, so the subquery's come first."""
    at = first.sql.find(" FROM ")
    if not first.sql.startswith("SELECT ") or at < 0 or "%s" in first.sql[:at]:
        raise ValueError("the first page's SQL must select parameterless columns")
    shift = len(count.params)
    slots = tuple(
        ("count_limit" if name == "limit" else name, index, kind)
        for name, index, kind in count.slots
    ) + tuple((name, index + shift, kind) for name, index, kind in first.slots)
    return PreparedRows(
        alias=first.alias,
        sql=f"{first.sql[:at]}, ({count.sql}){first.sql[at:]}",
        params=count.params + first.params,
        slots=slots,
        compiler=first.compiler,
        converters=first.converters,  # by column index: the count, last, needs none
    )


# (alias, "first", "count" or "first_counted", kind, status) → the query compiled once.
_PREPARED_LIST: dict[tuple[str, str, str | None, str | None], PreparedRows] = {}


def invoice_list_prepared(
    query: str, *, kind: str | None = Invoice.Kind.INVOICE, status: str | None = None
) -> PreparedRows | None:
    """invoice_list_rows's first rows ("first", run with `workspace_id` and `limit`), its
    capped count of ids ("count", the same values), or both in one query ("first_counted",
    run with `workspace_id`, `limit` and `count_limit`: the rows with the count as one more
    column, an uncorrelated subquery the database runs once; no rows means a count of 0),
    compiled once per tab: building and compiling the two querysets was ~1.2 ms of CPU of
    every list page, and one round trip fewer saves ~0.3–0.5 ms more. None for the overdue
    tab (today's date is part of its SQL): use the ORM."""
    if status == OVERDUE:
        return None
    alias = router.db_for_read(Invoice)
    key = (alias, query, kind, status)
    prepared = _PREPARED_LIST.get(key)
    if prepared is None and query == "first_counted":
        first = invoice_list_prepared("first", kind=kind, status=status)
        count = invoice_list_prepared("count", kind=kind, status=status)
        assert first is not None and count is not None  # (the overdue tab returned above)
        prepared = _PREPARED_LIST[key] = _with_count_column(first, count)
    if prepared is None:
        sentinels = row_sentinels(workspace_id=int)
        workspace = Workspace(pk=sentinels["workspace_id"])
        rows = invoice_list(workspace=workspace, kind=kind, status=status)
        if query == "count":
            capped = rows.order_by().values_list("pk")[:SLICE_LIMIT_SENTINEL]
            prepared = PreparedRows.compile(capped, alias=alias, sentinels=sentinels, count=True)
        else:
            page = rows.values_list(*LIST_ROW_COLUMNS)[:SLICE_LIMIT_SENTINEL]
            prepared = PreparedRows.compile(page, alias=alias, sentinels=sentinels)
        _PREPARED_LIST[key] = prepared
    return prepared


# How many payments and activity entries an invoice's page (and the API's invoice) shows:
# the latest ones; the rest are a page away (invoice_payment_list, invoice_activity_list).
RECENT_LIMIT = 20


def invoice_get(*, workspace: Workspace, public_id: UUID | str) -> Invoice:
    """One invoice or credit note with everything its page shows, in 5 queries: the invoice
    with client and credited invoice, lines with projects, payments with who recorded them,
    activity with actors, credit notes.

    Payments and activity: only the latest RECENT_LIMIT + 1 (the extra one tells there are
    more), newest first, in `recent_payments` and `recent_activities`; read them with
    `invoice_recent_payments` / `invoice_recent_activity`. An invoice paid in a thousand
    instalments loads no thousand rows; the whole lists are `invoice_payment_list` and
    `invoice_activity_list`. (Lines are capped by the services, credit notes by the lines
    they credit.)"""
    qs = (
        Invoice.objects.filter(workspace=workspace)
        # workspace: its locale is part of the PDF's fingerprint (joined, no extra query).
        .select_related("client", "credited_invoice", "workspace")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.select_related("project").order_by("position", "pk"),
            ),
            Prefetch(
                "payments",
                queryset=Payment.objects.select_related("recorded_by").order_by("-date", "-pk")[
                    : RECENT_LIMIT + 1
                ],
                to_attr="recent_payments",
            ),
            Prefetch(
                "activities",
                queryset=InvoiceActivity.objects.select_related("actor").order_by(
                    "-created_at", "-pk"
                )[: RECENT_LIMIT + 1],
                to_attr="recent_activities",
            ),
            Prefetch(
                "credit_notes",
                queryset=Invoice.objects.order_by("issue_date", "pk"),
            ),
        )
    )
    return get_object_or_404(qs, public_id=public_id)


def _in_order(newest_first: list[T]) -> tuple[list[T], bool]:
    shown = newest_first[:RECENT_LIMIT]
    shown.reverse()
    return shown, len(newest_first) > RECENT_LIMIT


def invoice_recent_payments(invoice: Invoice) -> tuple[list[Payment], bool]:
    """Of an invoice from invoice_get: its latest RECENT_LIMIT payments, oldest first, and
    whether it has older ones. No query."""
    return _in_order(invoice.recent_payments)  # type: ignore[attr-defined]


def invoice_recent_activity(invoice: Invoice) -> tuple[list[InvoiceActivity], bool]:
    """Of an invoice from invoice_get: its latest RECENT_LIMIT activity entries, oldest
    first, and whether there are older ones. No query."""
    return _in_order(invoice.recent_activities)  # type: ignore[attr-defined]


def invoice_payment_list(*, invoice: Invoice) -> QuerySet[Payment]:
    """All the invoice's payments, oldest first, with who recorded them (to paginate)."""
    return (
        Payment.objects.filter(invoice=invoice).select_related("recorded_by").order_by("date", "pk")
    )


def invoice_activity_list(*, invoice: Invoice) -> QuerySet[InvoiceActivity]:
    """All the invoice's activity, oldest first, with the actors (to paginate)."""
    return (
        InvoiceActivity.objects.filter(invoice=invoice)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


@functools.cache
def _receivables_sql() -> str:
    """Written by hand (portable SQL): every page with the receivables card builds it, and
    the ORM spent ~3 ms of CPU building and compiling this aggregate, the database ~1 ms.
    Every column it reads is in `invoice_status_idx` (key + INCLUDE), so PostgreSQL can
    answer it from the index alone; COUNT is of `currency` (never null) for the same
    reason."""
    invoice = Invoice._meta.db_table
    balance = "(total - amount_paid - amount_credited)"
    overdue = "due_date < %s AND total > amount_paid + amount_credited"
    return (
        f"SELECT currency, COALESCE(SUM({balance}), 0),"  # noqa: S608
        f" COALESCE(SUM(CASE WHEN {overdue} THEN {balance} END), 0),"
        f" COUNT(currency), COUNT(CASE WHEN {overdue} THEN currency END)"
        f" FROM {invoice} WHERE workspace_id = %s AND kind = %s AND status IN (%s, %s)"
        f" GROUP BY currency ORDER BY currency"
    )


def invoice_receivables(*, workspace: Workspace) -> list[dict[str, Any]]:
    """Money owed per currency, in one aggregate query: `outstanding` (total − paid −
    credited) over open invoices, `overdue` over those whose due date has passed; with the
    number of invoices of each."""
    today = connection.ops.adapt_datefield_value(_today(workspace))
    # Prepared on PostgreSQL (the dashboard and the invoice list run it on every view).
    with statement_cursor() as cursor:
        cursor.execute(
            _receivables_sql(),
            [
                today,
                today,
                workspace.pk,
                Invoice.Kind.INVOICE.value,
                *(s.value for s in OPEN_STATUSES),
            ],
        )
        rows = cursor.fetchall()
    return [
        {
            "currency": currency,
            "outstanding": quantize(money_sum(outstanding), currency),
            "overdue": quantize(money_sum(overdue), currency),
            "invoice_count": invoice_count,
            "overdue_count": overdue_count,
        }
        for currency, outstanding, overdue, invoice_count, overdue_count in rows
    ]


def unbilled_time_by_client(*, workspace: Workspace) -> list[dict[str, Any]]:
    """Per client with unbilled billable time (on a project that bills): the client, how many
    entries, their seconds and the first and last day (workspace time zone), in one query.
    The same rule as invoice_create_from_time's candidates."""
    unbilled = (
        Q(projects__time_entries__is_billable=True)
        & Q(projects__time_entries__invoice_line__isnull=True)
        & Q(projects__time_entries__invoiced_at__isnull=True)
        & Q(
            projects__billing_method__in=[
                Project.BillingMethod.HOURLY,
                Project.BillingMethod.FIXED,
            ]
        )
    )
    clients = (
        Client.objects.filter(workspace=workspace)
        .annotate(
            unbilled_entries=Count("projects__time_entries", filter=unbilled),
            unbilled_seconds=Sum("projects__time_entries__duration_seconds", filter=unbilled),
            first_started_at=Min("projects__time_entries__started_at", filter=unbilled),
        )
        .filter(unbilled_entries__gt=0)
        .order_by("name", "pk")
    )
    tz = workspace.tzinfo
    return [
        {
            "client": client,
            "entry_count": client.unbilled_entries,
            "seconds": client.unbilled_seconds or 0,
            "first_date": client.first_started_at.astimezone(tz).date(),
        }
        for client in clients
    ]


def payment_get(*, workspace: Workspace, public_id: UUID | str) -> Payment:
    return get_object_or_404(
        Payment.objects.select_related("invoice"),
        invoice__workspace=workspace,
        public_id=public_id,
    )


def invoice_get_for_portal(*, token: str) -> Invoice:
    """The invoice behind a client link, with what the portal page shows, in 3 queries: the
    invoice (+ the invoice a credit note corrects), its lines, its latest payments.

    Not scoped to a workspace: the secret token is the scope, and the page shows only this
    document. A wrong or revoked token, or a draft, is a 404 like any other missing page."""
    if not token:
        raise Http404("No such link.")
    qs = (
        Invoice.objects.exclude(status=Invoice.Status.DRAFT)
        # workspace: dates and amounts follow its locale (joined, no extra query).
        .select_related("credited_invoice", "workspace")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
            # The latest RECENT_LIMIT + 1, newest first, as in invoice_get.
            Prefetch(
                "payments",
                queryset=Payment.objects.order_by("-date", "-pk")[: RECENT_LIMIT + 1],
                to_attr="recent_payments",
            ),
        )
    )
    return get_object_or_404(qs, portal_token=token)


def invoice_portal_visitor_is_member(*, invoice: Invoice, user: User) -> bool:
    """Whether a logged-in visitor of a client link works in the invoice's workspace (the
    freelancer checking the link): their visit is not the client's "viewed"."""
    return Membership.objects.filter(workspace_id=invoice.workspace_id, user=user).exists()


def invoice_delivery_list(*, invoice: Invoice, limit: int = 20) -> list[InvoiceDelivery]:
    """The invoice's most recent send actions, newest first, in one query."""
    return list(
        InvoiceDelivery.objects.filter(invoice=invoice)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def invoice_delivery_get(
    *, workspace: Workspace, invoice_public_id: UUID | str, public_id: UUID | str
) -> InvoiceDelivery:
    """One delivery of one invoice of the workspace (a 404 otherwise), in one query."""
    return get_object_or_404(
        InvoiceDelivery.objects.select_related("invoice", "requested_by"),
        invoice__workspace=workspace,
        invoice__public_id=invoice_public_id,
        public_id=public_id,
    )

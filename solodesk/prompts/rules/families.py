"""The query families the rules share: each is ONE query (the timer: none), aggregated in
SQL and bounded by a LIMIT, so evaluating every rule costs the same at 10 or 1,000,000
rows. A rule needing data none of these return declares its own family in its own file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.invoicing.models import Invoice, Payment
from solodesk.projects.models import Project
from solodesk.prompts.registry import Context, family
from solodesk.quotes.models import Quote
from solodesk.timetracking.models import RunningTimer, TimeEntry

# At most this many rows per family: prompts are for a person to act on, highest first.
ROW_LIMIT = 50
UNBILLED_AFTER_DAYS = 14
DRAFT_STALE_AFTER_DAYS = 3
QUOTE_EXPIRY_WARNING_DAYS = 5
BUDGET_WARNING = Decimal("0.8")
MONEY = DecimalField(max_digits=20, decimal_places=2)
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
BILLING = (Project.BillingMethod.HOURLY, Project.BillingMethod.FIXED)


# --- onboarding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingFacts:
    has_client: bool
    has_project: bool
    has_entry: bool
    has_issued: bool
    has_payment: bool
    has_invoice: bool
    has_quote: bool
    client_id: UUID | None
    project_id: UUID | None
    unbilled_client_id: UUID | None
    draft_id: UUID | None
    open_invoice_id: UUID | None


def _first(qs: Any, field_name: str) -> Subquery:
    return Subquery(qs.values(field_name)[:1])


@family("onboarding")
def onboarding_facts(ctx: Context) -> OnboardingFacts:
    """One query of EXISTS and LIMIT 1 subqueries (each stops at the first row it finds):
    which first steps exist, and the objects the next step's button should open."""
    ws = ctx.workspace
    invoices = Invoice.objects.filter(workspace=ws, kind=Invoice.Kind.INVOICE)
    unbilled = TimeEntry.objects.filter(
        workspace=ws,
        is_billable=True,
        invoice_line__isnull=True,
        invoiced_at__isnull=True,
        project__billing_method__in=BILLING,
    )
    row = (
        Workspace.objects.filter(pk=ws.pk)
        .values(
            has_client=Exists(Client.objects.filter(workspace=ws)),
            has_project=Exists(Project.objects.filter(workspace=ws)),
            has_entry=Exists(TimeEntry.objects.filter(workspace=ws)),
            has_issued=Exists(
                invoices.exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
            ),
            has_payment=Exists(Payment.objects.filter(invoice__workspace=ws)),
            has_invoice=Exists(Invoice.objects.filter(workspace=ws)),
            has_quote=Exists(Quote.objects.filter(workspace=ws)),
            client_id=_first(
                Client.objects.filter(workspace=ws, is_archived=False).order_by("created_at"),
                "public_id",
            ),
            project_id=_first(
                Project.objects.filter(workspace=ws, is_archived=False).order_by("created_at"),
                "public_id",
            ),
            unbilled_client_id=_first(
                unbilled.order_by("-started_at"), "project__client__public_id"
            ),
            draft_id=_first(
                invoices.filter(status=Invoice.Status.DRAFT).order_by("-created_at"), "public_id"
            ),
            open_invoice_id=_first(
                invoices.filter(status__in=OPEN_STATUSES).order_by("created_at"), "public_id"
            ),
        )
        .get()
    )
    values: dict[str, Any] = {
        key: bool(value) if key.startswith("has_") else _uuid(value) for key, value in row.items()
    }
    return OnboardingFacts(**values)


def _uuid(value: Any) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    return UUID(str(value))


def _absent(ctx: Context, fact: str) -> bool:
    """True when the onboarding query of this evaluation already proved there is nothing
    (a new workspace): the family then skips its query."""
    facts = ctx.known("onboarding")
    return facts is not None and not getattr(facts, fact)


# --- clients: unbilled time and missing details --------------------------------------------


@dataclass(frozen=True)
class ClientRow:
    public_id: UUID
    name: str
    email: str
    payment_terms_days: int | None
    currency: str
    unbilled_entries: int
    unbilled_seconds: int
    # Σ seconds × hourly rate of the hourly projects' unbilled time (÷ 3600 for money).
    unbilled_rate_seconds: Decimal
    first_unbilled_at: dt.datetime | None


CLIENT_FIELDS = (
    "rank",
    "c_public_id",
    "c_name",
    "c_email",
    "c_terms",
    "c_currency",
    "entries",
    "seconds",
    "rate_seconds",
    "first_at",
)


@family("clients")
def client_rows(ctx: Context) -> list[ClientRow]:
    """ONE query, a UNION ALL of (a) the unbilled billable time GROUPed BY client — the
    WHERE keeps only unbilled rows before aggregating — for clients whose oldest unbilled
    entry is older than UNBILLED_AFTER_DAYS, and (b) active clients without an e-mail
    address or payment terms. Oldest unbilled time first; a client in both is merged."""
    if _absent(ctx, "has_client"):
        return []
    cutoff = ctx.now - dt.timedelta(days=UNBILLED_AFTER_DAYS)
    hourly = Q(project__billing_method=Project.BillingMethod.HOURLY)
    value = ExpressionWrapper(
        F("duration_seconds")
        * Coalesce(F("project__hourly_rate"), F("project__client__default_hourly_rate")),
        output_field=MONEY,
    )
    unbilled = (
        TimeEntry.objects.filter(
            workspace=ctx.workspace,
            is_billable=True,
            invoice_line__isnull=True,
            invoiced_at__isnull=True,
            project__billing_method__in=BILLING,
            project__client__is_archived=False,
        )
        .order_by()
        .values(
            c_public_id=F("project__client__public_id"),
            c_name=F("project__client__name"),
            c_email=F("project__client__email"),
            c_terms=F("project__client__payment_terms_days"),
            c_currency=F("project__client__currency"),
        )
        .annotate(
            rank=Value(0, output_field=IntegerField()),
            entries=Count("pk"),
            seconds=Sum("duration_seconds"),
            rate_seconds=Sum(value, filter=hourly, output_field=MONEY),
            first_at=Min("started_at"),
        )
        .filter(first_at__lt=cutoff)
        .values_list(*CLIENT_FIELDS)
    )
    incomplete = (
        Client.objects.filter(workspace=ctx.workspace, is_archived=False)
        .filter(Q(email="") | Q(payment_terms_days__isnull=True))
        .order_by()
        .annotate(
            rank=Value(1, output_field=IntegerField()),
            c_public_id=F("public_id"),
            c_name=F("name"),
            c_email=F("email"),
            c_terms=F("payment_terms_days"),
            c_currency=F("currency"),
            entries=Value(0, output_field=IntegerField()),
            seconds=Value(0, output_field=IntegerField()),
            rate_seconds=Value(Decimal(0), output_field=MONEY),
            first_at=Value(None, output_field=DateTimeField()),
        )
        .values_list(*CLIENT_FIELDS)
    )
    rows = unbilled.union(incomplete, all=True).order_by("rank", "first_at", "c_name")  # type: ignore[misc]
    merged: dict[UUID, ClientRow] = {}
    for _rank, public_id, name, email, terms, currency, entries, seconds, rate, first in rows[
        : 2 * ROW_LIMIT
    ]:
        key = _uuid(public_id)
        assert key is not None
        if key in merged:
            continue  # already listed with its unbilled time
        merged[key] = ClientRow(
            public_id=key,
            name=name,
            email=email,
            payment_terms_days=terms,
            currency=currency,
            unbilled_entries=entries or 0,
            unbilled_seconds=seconds or 0,
            unbilled_rate_seconds=Decimal(rate or 0),
            first_unbilled_at=_datetime(first),
        )
    return list(merged.values())[:ROW_LIMIT]


def _datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- documents: invoices and quotes in one UNION ALL ---------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    category: str  # the rule that raises it
    public_id: UUID
    number: str | None
    client_name: str
    client_id: UUID
    amount: Decimal
    currency: str
    day: dt.date | None  # due date (invoices), valid until (quotes)
    moment: dt.datetime  # created (drafts), issued (invoices), accepted (quotes)


# The rank (the order of urgency) also tells the rule: computed once in SQL for the ORDER
# BY, mapped back here rather than a second CASE per row (fewer expressions to compile).
CATEGORY_OF_RANK = {
    1: "invoice_overdue",
    2: "quote_accepted",
    3: "invoice_not_sent",
    4: "invoice_draft_stale",
    5: "quote_expiring",
}

DOCUMENT_FIELDS = (
    "rank",
    "public_id",
    "number",
    "client_name",
    "client_key",
    "amount",
    "currency",
    "day",
    "moment",
)


@family("documents")
def document_rows(ctx: Context) -> list[DocumentRow]:
    """Invoices overdue, drafts older than 3 days, issued invoices never sent, accepted
    quotes not converted and sent quotes about to expire: ONE query (a UNION ALL of two
    filtered SELECTs), ordered by urgency and limited."""
    if _absent(ctx, "has_invoice") and _absent(ctx, "has_quote"):
        return []
    today = ctx.today
    settled = F("amount_paid") + F("amount_credited")
    overdue = Q(status__in=OPEN_STATUSES, due_date__lt=today, total__gt=settled)
    stale_draft = Q(
        status=Invoice.Status.DRAFT,
        created_at__lt=ctx.now - dt.timedelta(days=DRAFT_STALE_AFTER_DAYS),
    )
    not_sent = Q(status=Invoice.Status.ISSUED, sent_at__isnull=True)
    invoices = (
        Invoice.objects.filter(workspace=ctx.workspace, kind=Invoice.Kind.INVOICE)
        .filter(overdue | stale_draft | not_sent)
        .annotate(
            # Overdue; else issued (so never sent); else a stale draft.
            rank=Case(
                When(overdue, then=Value(1)),
                When(status=Invoice.Status.ISSUED, then=Value(3)),
                default=Value(4),
                output_field=IntegerField(),
            ),
            client_name=F("client__name"),
            client_key=F("client__public_id"),
            amount=ExpressionWrapper(F("total") - settled, output_field=MONEY),
            day=F("due_date"),
            moment=Coalesce("issued_at", "created_at", output_field=DateTimeField()),
        )
        .order_by()
        .values_list(*DOCUMENT_FIELDS)
    )
    accepted = Q(
        status=Quote.Status.ACCEPTED,
        converted_invoice__isnull=True,
        converted_project__isnull=True,
    )
    expiring = Q(
        status=Quote.Status.SENT,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=QUOTE_EXPIRY_WARNING_DAYS),
    )
    quotes = (
        Quote.objects.filter(workspace=ctx.workspace)
        .filter(accepted | expiring)
        .annotate(
            rank=Case(
                When(status=Quote.Status.ACCEPTED, then=Value(2)),
                default=Value(5),
                output_field=IntegerField(),
            ),
            client_name=F("client__name"),
            client_key=F("client__public_id"),
            amount=ExpressionWrapper(F("total"), output_field=MONEY),
            day=F("valid_until"),
            moment=Coalesce("accepted_at", "created_at", output_field=DateTimeField()),
        )
        .order_by()
        .values_list(*DOCUMENT_FIELDS)
    )
    rows = invoices.union(quotes, all=True).order_by("rank", "day", "moment")[:ROW_LIMIT]
    return [
        DocumentRow(
            category=CATEGORY_OF_RANK[rank],
            public_id=_uuid(public_id),  # type: ignore[arg-type]
            number=number,
            client_name=client_name,
            client_id=_uuid(client_key),  # type: ignore[arg-type]
            amount=Decimal(amount),
            currency=currency,
            day=_date(day),
            moment=moment,
        )
        for rank, public_id, number, client_name, client_key, amount, currency, day, moment in rows
    ]


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# --- projects: budgets ---------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRow:
    public_id: UUID
    name: str
    client_name: str
    currency: str
    budget_hours: Decimal | None
    budget_amount: Decimal | None
    tracked_seconds: int
    billable_seconds: int
    rate: Decimal | None

    @property
    def hours_ratio(self) -> Decimal | None:
        if not self.budget_hours:
            return None
        return Decimal(self.tracked_seconds) / (self.budget_hours * 3600)

    @property
    def amount_used(self) -> Decimal | None:
        if self.rate is None:
            return None
        return Decimal(self.billable_seconds) * self.rate / 3600

    @property
    def amount_ratio(self) -> Decimal | None:
        used = self.amount_used
        if not self.budget_amount or used is None:
            return None
        return used / self.budget_amount

    @property
    def ratio(self) -> Decimal:
        return max(r for r in (self.hours_ratio, self.amount_ratio, Decimal(0)) if r is not None)


@family("projects")
def budget_rows(ctx: Context) -> list[BudgetRow]:
    """One GROUP BY over the active projects with a budget: those past 80 % of it, in hours
    tracked or in billable time at the project's rate."""
    if _absent(ctx, "has_project"):
        return []
    threshold = Value(BUDGET_WARNING * 3600)
    rows = (
        Project.objects.filter(workspace=ctx.workspace, is_archived=False)
        .filter(Q(budget_hours__gt=0) | Q(budget_amount__gt=0))
        .annotate(
            tracked=Coalesce(Sum("time_entries__duration_seconds"), 0),
            billable=Coalesce(
                Sum("time_entries__duration_seconds", filter=Q(time_entries__is_billable=True)),
                0,
            ),
            rate=Coalesce("hourly_rate", "client__default_hourly_rate", output_field=MONEY),
        )
        .annotate(
            billable_value=ExpressionWrapper(F("billable") * F("rate"), output_field=MONEY),
        )
        .filter(
            Q(budget_hours__gt=0, tracked__gte=F("budget_hours") * threshold)
            | Q(budget_amount__gt=0, billable_value__gte=F("budget_amount") * threshold)
        )
        .order_by("name", "pk")
        .values(
            "public_id",
            "name",
            "client__name",
            "client__currency",
            "budget_hours",
            "budget_amount",
            "tracked",
            "billable",
            "rate",
        )[:ROW_LIMIT]
    )
    return [
        BudgetRow(
            public_id=_uuid(row["public_id"]),  # type: ignore[arg-type]
            name=row["name"],
            client_name=row["client__name"],
            currency=row["client__currency"],
            budget_hours=row["budget_hours"],
            budget_amount=row["budget_amount"],
            tracked_seconds=row["tracked"] or 0,
            billable_seconds=row["billable"] or 0,
            rate=None if row["rate"] is None else Decimal(row["rate"]),
        )
        for row in rows
    ]


# --- the running timer ---------------------------------------------------------------------


@family("timer")
def running_timer(ctx: Context) -> RunningTimer | None:
    """No query on pages: the authentication backend loaded the user joined with their
    running timer, its project and client. (A user loaded otherwise costs one query.)"""
    try:
        timer = ctx.user.running_timer  # type: ignore[attr-defined]
    except RunningTimer.DoesNotExist:
        return None
    return timer if timer.workspace_id == ctx.workspace.pk else None

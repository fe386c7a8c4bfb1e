"""Invoices and credit notes, their lines, payments, activity and number counters.

An invoice is a draft until it is issued; issuing gives it a number from a locked counter
row (gapless per workspace, series and year) and freezes it: corrections are credit notes.
Every amount is a Decimal rounded to the currency's minor unit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Round
from django.utils import timezone

from solodesk.core.models import BaseModel
from solodesk.core.money import CURRENCY_CHOICES, MoneyField


def invoice_pdf_path(instance: Invoice, filename: str) -> str:
    return f"invoices/{instance.public_id}/{filename}"


class DocumentCounter(models.Model):
    """The last number handed out per workspace, series and year. Issuing locks this row
    (select_for_update) so two concurrent issues can never take the same number, and the
    number is taken inside the issuing transaction so a rollback never leaves a gap."""

    class Series(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"
        QUOTE = "quote", "Quote"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="document_counters"
    )
    series = models.CharField(max_length=20, choices=Series.choices)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "series", "year"], name="counter_unique_series_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last_value}"


class Invoice(BaseModel):
    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    class DiscountType(models.TextChoices):
        NONE = "none", "No discount"
        PERCENT = "percent", "Percentage"
        AMOUNT = "amount", "Amount"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="invoices"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    # A credit note points at the invoice it corrects.
    credited_invoice = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=40, null=True, blank=True)
    number_year = models.PositiveSmallIntegerField(null=True, blank=True)
    number_sequence = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    discount_type = models.CharField(
        max_length=10, choices=DiscountType.choices, default=DiscountType.NONE
    )
    discount_value = MoneyField(default=Decimal("0.00"), validators=[MinValueValidator(0)])
    notes = models.TextField(blank=True)
    # Seller's and buyer's details as they were when the invoice was issued.
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    # Stored totals, computed by solodesk.invoicing.calculation and frozen at issue.
    subtotal = MoneyField(default=Decimal("0.00"))
    discount_amount = MoneyField(default=Decimal("0.00"))
    tax_total = MoneyField(default=Decimal("0.00"))
    total = MoneyField(default=Decimal("0.00"))
    amount_paid = MoneyField(default=Decimal("0.00"))
    # Σ of the totals of the issued (not void) credit notes correcting this invoice.
    amount_credited = MoneyField(default=Decimal("0.00"))
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The rendered PDF, re-used while `pdf_state` matches the invoice's current state.
    pdf_file = models.FileField(upload_to=invoice_pdf_path, blank=True, max_length=300)
    pdf_state = models.CharField(max_length=64, blank=True)
    # The client's secret link: ≥ 128 random bits, not derived from ids; revocable.
    portal_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    portal_viewed_at = models.DateTimeField(null=True, blank=True)
    # False: no automatic payment reminders for this invoice (the client's setting also counts).
    reminders_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The open invoices (receivables, overdue): index-only on PostgreSQL, which
            # honours `include` (other databases ignore it).
            models.Index(
                fields=["workspace", "kind", "status", "due_date"],
                include=["currency", "total", "amount_paid", "amount_credited"],
                name="invoice_status_idx",
            ),
            models.Index(fields=["workspace", "-created_at"], name="invoice_recent_idx"),
            # Issued invoices never sent (the prompts), by due date: few, where the status
            # index would read every issued invoice to check `sent_at`.
            models.Index(
                fields=["workspace", "kind", "due_date"],
                condition=Q(status="issued", sent_at__isnull=True),
                name="invoice_unsent_idx",
            ),
            # The invoice list's order: issue date (drafts first), newest created, pk. With
            # the status (PostgreSQL): a status tab's deep page picks its ids index-only,
            # filtering on the status, instead of sorting every invoice of that status
            # (the Paid tab, page 900 of 57,919 at `large`: ~52 → ~10 ms, EXPLAIN ANALYZE).
            models.Index(
                fields=["workspace", "kind", "-issue_date", "-created_at", "-id"],
                include=["status"],
                name="invoice_list_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "number"],
                condition=Q(number__isnull=False),
                name="invoice_unique_number",
            ),
            models.UniqueConstraint(
                fields=["workspace", "kind", "number_year", "number_sequence"],
                condition=Q(number_sequence__isnull=False),
                name="invoice_unique_sequence",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True)
                | (~Q(status="draft") & Q(number__isnull=False)),
                name="invoice_number_only_when_issued",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=models.F("total")),
                name="invoice_paid_within_total",
            ),
            # Rounded: SQLite compares these as floats, where 0.91 + 2.11 > 3.02.
            models.CheckConstraint(
                condition=Q(amount_credited__gte=0)
                & Q(total__gte=Round(models.F("amount_paid") + models.F("amount_credited"), 2)),
                name="invoice_settled_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.public_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def amount_due(self) -> Decimal:
        return invoice_amount_due(self.status, self.total, self.amount_paid, self.amount_credited)

    @property
    def is_overdue(self) -> bool:
        """Derived, never stored: issued, money still due, due date passed."""
        return invoice_is_overdue(self.status, self.due_date, self.amount_due)


# The two rules for an invoice or for a row of its columns (the list page's tuples).
def invoice_amount_due(status: str, total: Decimal, paid: Decimal, credited: Decimal) -> Decimal:
    if status == Invoice.Status.VOID:
        return Decimal("0.00")
    return total - paid - credited


def invoice_is_overdue(status: str, due_date: dt.date | None, due: Decimal) -> bool:
    return (
        status in {Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID}
        and due_date is not None
        and due_date < timezone.localdate()
        and due > 0
    )


class PricedLine(models.Model):
    """The fields every priced document line has (invoices, credit notes, quotes): one
    definition, so a quote line always fits an invoice line."""

    class Unit(models.TextChoices):
        HOURS = "hours", "hours"
        DAYS = "days", "days"
        PIECES = "pieces", "pieces"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(
        max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.HOURS)
    unit_price = MoneyField(validators=[MinValueValidator(0)])
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    total = MoneyField(default=Decimal("0.00"))

    class Meta:
        abstract = True
        ordering = ["position", "pk"]


class InvoiceLine(PricedLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Hours as tracked before rounding, for reports ("billed 2.5 h of 2.37 h tracked").
    tracked_seconds = models.PositiveIntegerField(null=True, blank=True)
    # For a credit note line: the invoice line it credits.
    credited_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_lines"
    )

    class Meta(PricedLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="line_quantity_not_negative"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="line_unit_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.quantity} × {self.unit_price})"


class Payment(BaseModel):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CARD = "card", "Card"
        CASH = "cash", "Cash"
        OTHER = "other", "Other"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = MoneyField(validators=[MinValueValidator(Decimal("0.01"))])
    date = models.DateField()
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["date", "pk"]
        indexes = [
            # The dashboard's revenue takes this month's payments dated after today off the
            # monthly totals (decision 0006): a handful of rows, found by date.
            models.Index(fields=["date"], name="payment_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.date}"


class RevenueMonth(models.Model):
    """Derived totals: per workspace, client, currency and month (its first day), the money
    invoiced — issued, partially paid and paid invoices by issue date, less issued credit
    notes by theirs; void ones and drafts not counted — and paid (payments by payment
    date), tax included. Written only by `services.revenue_months_apply`, in the
    transaction of the service that changes a figure (issue, void, credit note, payment
    recorded or deleted), so the dashboard and the yearly report read at most one row per
    client and month instead of every invoice and payment (decision 0006)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="revenue_months"
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="revenue_months"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    month = models.DateField()
    invoiced = MoneyField(default=Decimal("0.00"))
    paid = MoneyField(default=Decimal("0.00"))
    # How many documents and payments the figures add up (0: nothing left, the row is
    # skipped, as the raw aggregate would have no group for it).
    documents = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month", "client", "currency"], name="revenue_month_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.month:%Y-%m} {self.currency}: {self.invoiced}/{self.paid}"


class InvoiceActivity(models.Model):
    """Who did what to an invoice, when: written by every service that changes one."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        ISSUED = "issued", "Issued"
        PAYMENT_RECORDED = "payment_recorded", "Payment recorded"
        PAYMENT_DELETED = "payment_deleted", "Payment deleted"
        VOIDED = "voided", "Voided"
        CREDITED = "credited", "Credit note issued"
        SENT = "sent", "Sent"
        VIEWED = "viewed", "Viewed by the client"
        PORTAL_LINK_RESET = "portal_link_reset", "Client link regenerated"
        REMINDER_SENT = "reminder_sent", "Payment reminder sent"
        REMINDER_SKIPPED = "reminder_skipped", "Payment reminder skipped"
        REMINDER_FAILED = "reminder_failed", "Payment reminder failed"
        LATE_FEE = "late_fee", "Late fee charged"
        RECURRING_CREATED = "recurring_created", "Created by a recurring profile"
        WEBHOOK = "webhook", "Webhook delivered"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "invoice activities"

    def __str__(self) -> str:
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M}"


class InvoiceDelivery(BaseModel):
    """One "send this invoice" action. Its row makes the e-mail go out once: the task claims
    it with a conditional UPDATE (queued → sending) before talking to the mail server, so a
    second run of the same task finds nothing to do."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="deliveries")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "invoice deliveries"

    def __str__(self) -> str:
        return f"{self.invoice} to {self.to_email} ({self.status})"

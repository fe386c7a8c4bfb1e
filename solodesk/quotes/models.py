"""Quotes: an offer to a client with lines like an invoice's, its own gapless number series
(given when the quote is sent), and the client's answer given through the portal link.

"Expired" is derived, never stored: a sent quote whose valid-until day has passed. So a
quote never needs a sweeper to expire it, and every read agrees on what expired means.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from solodesk.core.models import BaseModel
from solodesk.core.money import CURRENCY_CHOICES, MoneyField
from solodesk.invoicing.models import PricedLine

QUOTE_NUMBER_FORMAT = "Q-{year}-{seq:04d}"
VALIDITY_DAYS = 30


def quote_pdf_path(instance: Quote, filename: str) -> str:
    return f"quotes/{instance.public_id}/{filename}"


class Quote(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    # What a quote shows, "expired" included (derived from status sent + valid_until).
    EXPIRED = "expired"
    DISPLAY_STATUSES = (*Status.values, EXPIRED)

    class DiscountType(models.TextChoices):
        NONE = "none", "No discount"
        PERCENT = "percent", "Percentage"
        AMOUNT = "amount", "Amount"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="quotes"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="quotes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=40, null=True, blank=True)
    number_year = models.PositiveSmallIntegerField(null=True, blank=True)
    number_sequence = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    issue_date = models.DateField(null=True, blank=True)
    valid_until = models.DateField()
    discount_type = models.CharField(
        max_length=10, choices=DiscountType.choices, default=DiscountType.NONE
    )
    discount_value = MoneyField(default=Decimal("0.00"), validators=[MinValueValidator(0)])
    notes = models.TextField(blank=True)
    subtotal = MoneyField(default=Decimal("0.00"))
    discount_amount = MoneyField(default=Decimal("0.00"))
    tax_total = MoneyField(default=Decimal("0.00"))
    total = MoneyField(default=Decimal("0.00"))
    # Sending: the portal link (≥ 128 random bits, not derived from ids) and the e-mail,
    # which the task claims by setting `emailed_at` with a conditional UPDATE.
    portal_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    sent_to = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The client's answer.
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by_name = models.CharField(max_length=200, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    # What an accepted quote became (each at most once).
    converted_invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_project = models.ForeignKey(
        "projects.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_at = models.DateTimeField(null=True, blank=True)
    # The rendered PDF, re-used while `pdf_state` (a digest of what it shows) matches.
    pdf_file = models.FileField(upload_to=quote_pdf_path, blank=True, max_length=300)
    pdf_state = models.CharField(max_length=64, blank=True)
    # When the client first opened the link (a member of the workspace does not count).
    viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "status", "valid_until"], name="quote_status_idx"),
            models.Index(fields=["workspace", "-created_at"], name="quote_recent_idx"),
            # Accepted quotes not yet converted (the prompts), in order of validity: a
            # converted quote stays accepted, so the status index would walk them all.
            models.Index(
                fields=["workspace", "valid_until"],
                condition=Q(
                    status="accepted",
                    converted_invoice__isnull=True,
                    converted_project__isnull=True,
                ),
                name="quote_accepted_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "number"],
                condition=Q(number__isnull=False),
                name="quote_unique_number",
            ),
            models.UniqueConstraint(
                fields=["workspace", "number_year", "number_sequence"],
                condition=Q(number_sequence__isnull=False),
                name="quote_unique_sequence",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True)
                | (~Q(status="draft") & Q(number__isnull=False)),
                name="quote_number_only_when_sent",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="quote_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft quote {self.public_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def is_expired_on(self, day: dt.date) -> bool:
        return self.status == self.Status.SENT and self.valid_until < day

    @property
    def is_expired(self) -> bool:
        return self.is_expired_on(timezone.localdate())

    @property
    def display_status(self) -> str:
        return self.EXPIRED if self.is_expired else self.status

    @property
    def is_converted(self) -> bool:
        return self.converted_invoice_id is not None or self.converted_project_id is not None


class QuoteLine(PricedLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(PricedLine.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="quote_line_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="quote_line_unit_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.quantity} × {self.unit_price})"


class QuoteActivity(models.Model):
    """Who did what to a quote, when (the client's answers have no actor)."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        SENT = "sent", "Sent"
        EMAILED = "emailed", "E-mailed"
        EMAIL_FAILED = "email_failed", "E-mail failed"
        VIEWED = "viewed", "Viewed by the client"
        ACCEPTED = "accepted", "Accepted by the client"
        DECLINED = "declined", "Declined by the client"
        CONVERTED = "converted", "Converted"

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "quote activities"

    def __str__(self) -> str:
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M}"

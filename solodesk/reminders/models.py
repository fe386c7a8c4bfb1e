"""Payment reminders (dunning): a workspace's schedule, its late-fee rule, and one row per
reminder that went out (or was skipped).

A stage is keyed by its offset from the due date (−3 = three days before, 7 = a week after).
A `Reminder` row per (invoice, offset) under a unique constraint is what makes each stage go
out once, ever: editing or even deleting and re-adding a stage keeps its history, and two
sweeps racing to insert the same row leave one.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from solodesk.core.models import BaseModel
from solodesk.core.money import MoneyField

PLACEHOLDERS = (
    "client",
    "number",
    "amount_due",
    "due_date",
    "days_overdue",
    "portal_link",
    "business",
)


class ReminderSettings(BaseModel):
    """One row per workspace, created with the default schedule on first need (the settings
    page, the API or the first sweep that meets an open invoice of the workspace)."""

    class LateFeeType(models.TextChoices):
        NONE = "none", "No late fee"
        FIXED = "fixed", "A fixed amount"
        PERCENT = "percent", "A percentage of the amount due"

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="reminder_settings"
    )
    late_fee_type = models.CharField(
        max_length=10, choices=LateFeeType.choices, default=LateFeeType.NONE
    )
    late_fee_value = MoneyField(
        default=Decimal("0.00"),
        validators=[MinValueValidator(0)],
        help_text="The amount (in the invoice's currency) or the percentage.",
    )
    late_fee_after_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MaxValueValidator(365)],
        help_text="Charged with the first automatic reminder sent this many days or more "
        "after the due date; once per invoice.",
    )

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self) -> str:
        return f"Reminder settings of workspace {self.workspace_id}"


class ReminderStage(BaseModel):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="reminder_stages"
    )
    # Days relative to the due date: negative before, 0 on the day, positive after.
    offset_days = models.SmallIntegerField(
        validators=[MinValueValidator(-60), MaxValueValidator(365)]
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    is_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["offset_days", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "offset_days"], name="reminder_stage_unique_offset"
            )
        ]

    def __str__(self) -> str:
        return stage_label(self.offset_days)


def stage_label(offset_days: int | None) -> str:
    """ "3 days before the due date", "on the due date", "7 days after the due date"."""
    if offset_days is None:
        return "sent by hand"
    if offset_days == 0:
        return "on the due date"
    days = abs(offset_days)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {'before' if offset_days < 0 else 'after'} the due date"


class Reminder(BaseModel):
    """One reminder e-mail of one invoice. Automatic ones carry their stage's offset (unique
    per invoice); "send now" ones have none and are one row per click. The send task claims
    the row (queued → sending) with a conditional UPDATE before talking to the mail server."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="reminders"
    )
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.CASCADE, related_name="reminders"
    )
    offset_days = models.SmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    to_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Which sweep inserted the row: after an INSERT … ON CONFLICT DO NOTHING the sweep reads
    # back only its own rows, so two concurrent sweeps never both fan out or log a row.
    sweep_run = models.UUIDField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "enqueued_at"], name="reminder_status_enqueued_idx"),
            models.Index(fields=["workspace", "-created_at"], name="reminder_recent_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "offset_days"],
                condition=Q(offset_days__isnull=False),
                name="reminder_once_per_stage",
            )
        ]

    def __str__(self) -> str:
        return f"Reminder {stage_label(self.offset_days)} ({self.status})"

    @property
    def stage_label(self) -> str:
        return stage_label(self.offset_days)


class LateFee(BaseModel):
    """The late fee charged for an invoice: at most one (one-to-one), as a separate draft
    invoice to the same client that the freelancer reviews, issues and sends."""

    invoice = models.OneToOneField(
        "invoicing.Invoice", on_delete=models.CASCADE, related_name="late_fee"
    )
    fee_invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    amount = MoneyField()

    def __str__(self) -> str:
        return f"Late fee {self.amount} for invoice {self.invoice_id}"

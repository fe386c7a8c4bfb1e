"""Recurring invoices: a profile (a template invoice with a schedule), one run row per
(profile, period) and the profile's activity log.

The run row is what makes each period's invoice happen exactly once: the sweeper inserts
it (the unique (profile, period_start) constraint refuses a second one), the run task
claims it with a conditional UPDATE, and the invoice is created in the same transaction
that marks the run succeeded.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from solodesk.core.models import BaseModel
from solodesk.core.money import CURRENCY_CHOICES, MoneyField
from solodesk.invoicing.models import Invoice, PricedLine
from solodesk.recurring import periods

DAY_OF_MONTH_CHOICES = [(day, str(day)) for day in range(1, 29)] + [
    (periods.LAST_DAY, "Last day of the month")
]


class RecurringProfile(BaseModel):
    class Frequency(models.TextChoices):
        WEEKLY = periods.WEEKLY, "Weekly"
        MONTHLY = periods.MONTHLY, "Monthly"
        QUARTERLY = periods.QUARTERLY, "Quarterly"
        YEARLY = periods.YEARLY, "Yearly"

    class Action(models.TextChoices):
        DRAFT = "draft", "Create a draft"
        ISSUE_AND_SEND = "issue_and_send", "Issue and send to the client"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="recurring_profiles"
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="recurring_profiles"
    )
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    discount_type = models.CharField(
        max_length=10, choices=Invoice.DiscountType.choices, default=Invoice.DiscountType.NONE
    )
    discount_value = MoneyField(default=Decimal("0.00"), validators=[MinValueValidator(0)])
    notes = models.TextField(blank=True)
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    # 1–28, or 31 for "the last day of the month"; unused for weekly profiles.
    day_of_month = models.PositiveSmallIntegerField(choices=DAY_OF_MONTH_CHOICES, default=1)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    occurrences = models.PositiveIntegerField(
        null=True, blank=True, help_text="Stop after this many periods."
    )
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.DRAFT)
    # Also bill the unbilled time of the period that just ended (of `projects`, or all the
    # client's projects when none is chosen).
    bill_time = models.BooleanField(default=False)
    projects = models.ManyToManyField("projects.Project", blank=True, related_name="+")
    is_paused = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    # The next period the sweeper will create a run for; its start is null once the
    # schedule has ended. Both are moved only under the profile's row lock.
    next_period_index = models.PositiveIntegerField(default=0)
    next_period_start = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["is_paused", "next_period_start"], name="recurring_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(day_of_month__gte=1, day_of_month__lte=28)
                | Q(day_of_month=periods.LAST_DAY),
                name="recurring_day_of_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(occurrences__isnull=True) | Q(occurrences__gte=1),
                name="recurring_occurrences_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def schedule(self) -> periods.Schedule:
        return periods.Schedule(
            frequency=self.frequency,
            day_of_month=self.day_of_month,
            start_date=self.start_date,
            end_date=self.end_date,
            count=self.occurrences,
        )

    @property
    def is_finished(self) -> bool:
        return self.next_period_start is None

    @property
    def day_of_month_label(self) -> str:
        if self.day_of_month == periods.LAST_DAY:
            return "last day"
        return str(self.day_of_month)


class RecurringLine(PricedLine):
    profile = models.ForeignKey(RecurringProfile, on_delete=models.CASCADE, related_name="lines")

    class Meta(PricedLine.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.description} ({self.quantity} × {self.unit_price})"


class RecurringRun(BaseModel):
    """One period of one profile. Inserted by the sweeper, claimed by the run task
    (queued → running), finished in the transaction that creates the invoice."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    profile = models.ForeignKey(RecurringProfile, on_delete=models.CASCADE, related_name="runs")
    period_index = models.PositiveIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-pk"]
        indexes = [models.Index(fields=["status", "updated_at"], name="recurring_run_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "period_start"], name="recurring_run_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.period_start} ({self.status})"

    @property
    def period(self) -> periods.Period:
        return periods.Period(index=self.period_index, start=self.period_start, end=self.period_end)

    @property
    def period_label(self) -> str:
        return periods.period_label(self.period)


class RecurringActivity(models.Model):
    """What happened to a profile, for the freelancer's "did it go out?"."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        RUN_SUCCEEDED = "run_succeeded", "Run succeeded"
        RUN_FAILED = "run_failed", "Run failed"

    profile = models.ForeignKey(
        RecurringProfile, on_delete=models.CASCADE, related_name="activities"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    message = models.CharField(max_length=500, blank=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "recurring activities"

    def __str__(self) -> str:
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M}"

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from solodesk.accounts.models import KnownRoundingStep, TimeRounding
from solodesk.core.models import BaseModel
from solodesk.core.money import MoneyField


class Project(BaseModel):
    class BillingMethod(models.TextChoices):
        HOURLY = "hourly", "Hourly"
        FIXED = "fixed", "Fixed fee"
        NON_BILLABLE = "non_billable", "Non-billable"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="projects"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    billing_method = models.CharField(
        max_length=20, choices=BillingMethod.choices, default=BillingMethod.HOURLY
    )
    hourly_rate = MoneyField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Empty: the client's default rate.",
    )
    fixed_fee = MoneyField(null=True, blank=True, validators=[MinValueValidator(0)])
    budget_hours = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    budget_amount = MoneyField(null=True, blank=True, validators=[MinValueValidator(0)])
    # Empty: the workspace's rounding rule applies.
    time_rounding_mode = models.CharField(
        max_length=10, choices=TimeRounding.MODE_CHOICES, blank=True, default=""
    )
    time_rounding_minutes = models.PositiveSmallIntegerField(
        choices=TimeRounding.MINUTE_CHOICES, null=True, blank=True
    )
    time_rounding_scope = models.CharField(
        max_length=10, choices=TimeRounding.SCOPE_CHOICES, blank=True, default=""
    )
    is_archived = models.BooleanField("archived", default=False)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["workspace", "is_archived", "name"], name="project_list_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hourly_rate__gte=0) | models.Q(hourly_rate__isnull=True),
                name="project_rate_not_negative",
            ),
            KnownRoundingStep(name="project_rounding_step_known", nullable=True),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client.name})" if self.client_id else self.name

    @property
    def is_billable(self) -> bool:
        return self.billing_method != self.BillingMethod.NON_BILLABLE

    @property
    def effective_hourly_rate(self) -> Decimal | None:
        """The project's rate, else the client's (needs `client` loaded)."""
        if self.hourly_rate is not None:
            return self.hourly_rate
        return self.client.default_hourly_rate

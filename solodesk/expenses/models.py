from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from solodesk.core.models import BaseModel
from solodesk.core.money import CURRENCY_CHOICES

AMOUNT_MAX_DIGITS = 12
AMOUNT_DECIMAL_PLACES = 2


class Expense(BaseModel):
    """Money a freelancer spent, optionally for a client or one of its projects. When a
    project is set, the client is that project's client (the services keep them in step)."""

    class Category(models.TextChoices):
        TRAVEL = "travel", "Travel"
        SOFTWARE = "software", "Software"
        HARDWARE = "hardware", "Hardware"
        OFFICE = "office", "Office"
        MEALS = "meals", "Meals"
        OTHER = "other", "Other"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="expenses"
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expenses",
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expenses",
    )
    date = models.DateField()
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    description = models.CharField(max_length=500, blank=True)
    amount = models.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    is_billable = models.BooleanField("billable", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expenses"
    )

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["workspace", "-date"], name="expense_list_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="expense_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_category_display()} {self.amount} {self.currency}"

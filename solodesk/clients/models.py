from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from solodesk.core.models import BaseModel
from solodesk.core.money import CURRENCY_CHOICES, MoneyField


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> ClientQuerySet:
        return self.filter(is_archived=False)


class Client(BaseModel):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="clients"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField("e-mail", blank=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField("tax id", max_length=50, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    payment_terms_days = models.PositiveSmallIntegerField(
        "payment terms (days)", null=True, blank=True, help_text="Empty: the workspace's terms."
    )
    default_hourly_rate = MoneyField(
        null=True, blank=True, validators=[MinValueValidator(0)], help_text="Per hour."
    )
    is_archived = models.BooleanField("archived", default=False)
    # False: this client never gets automatic payment reminders.
    reminders_enabled = models.BooleanField("send payment reminders", default=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["workspace", "is_archived", "name"], name="client_list_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_hourly_rate__gte=0)
                | models.Q(default_hourly_rate__isnull=True),
                name="client_rate_not_negative",
            )
        ]

    def __str__(self) -> str:
        return self.name

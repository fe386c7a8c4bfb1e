"""Webhooks: endpoints a workspace registers, the events it emits (an outbox written in
the transaction of the change), one delivery per (event, endpoint) and a log of every
HTTP attempt.

Why these rows:
- `WebhookEvent` is written in the same transaction as the change that caused it, so a
  rolled-back change emits nothing and a committed one is never lost (the broker may be
  down: the sweeper finds the deliveries later). Its `public_id` is the event id receivers
  de-duplicate on; retries carry the same id.
- `WebhookDelivery` is the unit of work: unique per (event, endpoint), claimed with a
  conditional UPDATE before any HTTP call, so two runs of the task POST once.
- `WebhookAttempt` is the delivery log shown on the endpoint's page.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from solodesk.core.models import BaseModel

EVENT_TYPES: tuple[tuple[str, str], ...] = (
    ("invoice.issued", "An invoice was issued"),
    ("invoice.sent", "An invoice e-mail was handed to the mail server"),
    ("invoice.viewed", "The client opened the invoice link for the first time"),
    ("invoice.paid", "An invoice became fully paid"),
    ("invoice.overdue", "An invoice passed its due date with money still due"),
    ("quote.accepted", "The client accepted a quote"),
    ("quote.declined", "The client declined a quote"),
    ("payment.recorded", "A payment was recorded"),
    ("timer.started", "A timer was started"),
    ("timer.stopped", "A timer was stopped (a time entry was made)"),
)
EVENT_TYPE_NAMES: tuple[str, ...] = tuple(name for name, _label in EVENT_TYPES)
# Sent only by "Send test event", to one endpoint, whatever it subscribed to.
PING = "ping"


class WebhookEndpoint(BaseModel):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # The signing key: random (`secrets`), kept readable because every delivery is signed
    # with it; shown to the owner only.
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # Failed attempts since the last successful one (any delivery of this endpoint).
    consecutive_failures = models.PositiveIntegerField(default=0)
    # When the owner was told that the endpoint was disabled (the notice's once-only claim).
    owner_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return event_type == PING or event_type in (self.events or [])


class WebhookEvent(BaseModel):
    """One thing that happened, as receivers see it: `public_id` is the event id."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="webhook_events"
    )
    event_type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    # Events emitted by a sweeper (invoice.overdue) carry a key so each is emitted once.
    dedup_key = models.CharField(max_length=200, null=True, blank=True)
    # The invoice the event is about, if any: for the invoice's activity (audit) and so the
    # overdue sweep can find invoices already announced with one anti-join.
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "dedup_key"],
                condition=Q(dedup_key__isnull=False),
                name="webhook_event_unique_dedup_key",
            ),
        ]
        indexes = [
            models.Index(fields=["invoice", "event_type"], name="webhook_event_invoice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.public_id}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed, will retry"
        GIVEN_UP = "given_up", "Given up"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set by the claim: a `delivering` row whose claim is old lost its worker.
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="webhook_delivery_unique_event_endpoint"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request to an endpoint: the delivery log."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    # Denormalised from the delivery so the endpoint's log is one indexed query.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempt_number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_attempt_log_idx"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.attempt_number} of delivery {self.delivery_id}"

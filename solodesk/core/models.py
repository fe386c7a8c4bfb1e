from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """Every row has a public UUID for URLs and the API; the integer pk never leaves."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def job_result_path(instance: Job, filename: str) -> str:
    return f"jobs/{instance.public_id}/{filename}"


class Job(BaseModel):
    """Background work a user waits for: the row is its state, whichever process asks."""

    class Kind(models.TextChoices):
        TIME_ENTRIES_EXPORT = "time_entries_export", "Time entries export (CSV)"
        INVOICE_PDF = "invoice_pdf", "Invoice PDF"
        INVOICE_SEND = "invoice_send", "Send invoice by e-mail"
        TIME_TOTALS_RECOUNT = "time_totals_recount", "Recount time totals in the new time zone"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="jobs"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    task_name = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    result_file = models.FileField(upload_to=job_result_path, blank=True, max_length=300)
    result_content_type = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="job_status_enqueued_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=100), name="job_progress_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}

    @property
    def result_name(self) -> str:
        return (self.result_file.name or "").rsplit("/", 1)[-1]


class Heartbeat(models.Model):
    """When a background process last proved it is alive: one row per name ("scheduler",
    "worker"), upserted by a periodic task. The dashboard and /api/v1/health read it."""

    name = models.CharField(max_length=40, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"

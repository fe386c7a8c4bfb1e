from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from solodesk.core.models import BaseModel

MAX_ENTRY_DURATION = timedelta(hours=24)


class Tag(BaseModel):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class TimeEntry(BaseModel):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="time_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="time_entries"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    # Stored (not computed) so reports and totals aggregate with one SUM in the database.
    duration_seconds = models.PositiveIntegerField()
    description = models.CharField(max_length=500, blank=True)
    is_billable = models.BooleanField("billable", default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="time_entries")
    # The invoice line that bills this entry: set when a draft takes the entry (so no other
    # invoice can), cleared when the draft is deleted or the invoice voided. One column, so
    # an entry can never be on two invoices at once.
    invoice_line = models.ForeignKey(
        "invoicing.InvoiceLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="time_entries",
    )
    # Set when that invoice is issued: the entry is billed and can no longer change.
    invoiced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name_plural = "time entries"
        indexes = [
            models.Index(fields=["workspace", "-started_at"], name="entry_workspace_start_idx"),
            models.Index(fields=["project", "started_at"], name="entry_project_start_idx"),
            models.Index(fields=["user", "-started_at"], name="entry_user_start_idx"),
            # Unbilled billable time (the dashboard, prompts, invoice from time): a small
            # partial index, so finding it never scans the workspace's billed history.
            models.Index(
                fields=["workspace", "project"],
                # The dashboard's per-project sums read only these (an index-only scan).
                include=["duration_seconds", "started_at"],
                condition=Q(is_billable=True, invoice_line__isnull=True, invoiced_at__isnull=True),
                name="entry_unbilled_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")), name="entry_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__lte=int(MAX_ENTRY_DURATION.total_seconds())),
                name="entry_at_most_24_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.started_at:%Y-%m-%d %H:%M} ({self.duration_seconds}s)"

    @property
    def is_invoiced(self) -> bool:
        return self.invoiced_at is not None

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.duration_seconds)


class RunningTimer(BaseModel):
    """The running timer is a row, not process memory: start it on the phone, stop it on
    the laptop; restarts and other replicas see the same timer. One per user at most."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="running_timers"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="running_timer"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="running_timers"
    )
    description = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Timer of {self.user_id} since {self.started_at:%Y-%m-%d %H:%M}"


class TimeEntryDay(models.Model):
    """Derived totals: per workspace, user and local day (the workspace's time zone, by the
    entry's start), the seconds tracked and the billable ones. Written by the services in
    the transaction that creates, changes or deletes an entry (an upsert adding the
    difference), so "hours per month" reads a few hundred rows instead of every entry
    (decision 0004). Rebuilt from the entries by `time_entry_days_rebuild` (the migration
    that adds it, a change of the workspace's time zone, `bench/` seeds)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="time_entry_days"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_entry_days"
    )
    day = models.DateField()
    entries = models.IntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    billable_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "day", "user"], name="entry_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.user_id} {self.day}: {self.seconds}s"


class TimeEntryMonth(models.Model):
    """Derived totals: per workspace, project and local month (the first day of the month
    the entry starts in, in the workspace's time zone), the entries, seconds tracked and
    billable ones. Kept exactly like `TimeEntryDay`, by the same upsert call in the same
    transaction, for the yearly report by client: a year is at most 12 rows per project
    instead of every entry (decision 0005). Keyed by project, not client, so moving a
    project to another client needs no rewrite."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="time_entry_months"
    )
    # No index of its own: entry_month_project_idx below leads with the project.
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        related_name="time_entry_months",
        db_index=False,
    )
    month = models.DateField()
    entries = models.IntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    billable_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month", "project"], name="entry_month_unique"
            ),
        ]
        indexes = [
            # The dashboard's 12 months and the yearly report read a workspace's months
            # from the index alone (PostgreSQL: an index-only scan; 4.4 → 1.3 ms for the
            # 10,500 monthly rows of a year at the `large` seed).
            models.Index(
                fields=["workspace", "month"],
                include=["project", "seconds", "billable_seconds"],
                name="entry_month_totals_idx",
            ),
            # A project's whole history (the budgets prompt), from the index alone: the
            # budgeted projects each probe their ~30 monthly rows instead of a scan of
            # every monthly row (52,287 at the `large` seed).
            models.Index(
                fields=["project"],
                include=["seconds", "billable_seconds"],
                name="entry_month_project_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.project_id} {self.month:%Y-%m}: {self.seconds}s"
